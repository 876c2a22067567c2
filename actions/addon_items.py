"""Ordered addons: the rows place_order writes, their invoice lines and their module commands.

Pure builders (like actions.place's) plus the two outbox recorders, so placement, accept, the
transition table and the demo data share one definition:
    addon_fields(item, promotion, today) -> dict           the columns of a new service_addons row
    addon_invoice_lines(pairs, promotion) -> list[dict]     one Addon line (+ setup, + promotion) each
    add_ordered_addons(...), record_addon_placement_effects(session, rows)    place_order's part
    record_addon_create(session, addon_item, *, send_welcome_email) -> SideEffect
    request_addon_terminate(session, addon_item, then_status) -> SideEffect   (one per addon)
Payloads:  addon_create {send_welcome_email, welcome_template}   addon_terminate {then_status}
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.addon_pricing import AddonQuote
from actions.side_effects import UNFINISHED, change_side_effect, record_email, record_side_effect
from models import (
    AutoSetup,
    BillingCycle,
    InvoiceItemType,
    Promotion,
    ServiceAddon,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from models.billing_dates import add_months


def add_ordered_addons(
    session: Session, order, services: list, quotes: list, promotion: Promotion | None, today: date
) -> list[tuple[ServiceAddon, AddonQuote, str]]:
    """The service_addons rows of a placed order, each with its quote and its service's label."""
    rows = [
        (ServiceAddon(order=order, service=service, client_id=order.client_id,
                      **addon_fields(item, promotion, today)), item, str(quote.product))
        for service, quote in zip(services, quotes, strict=True)
        for item in quote.addons
    ]
    session.add_all([row for row, _, _ in rows])
    session.flush()
    return rows


def record_addon_placement_effects(session: Session, rows: list[ServiceAddon]) -> None:
    """on_order addons with a module: their create right after placement."""
    for row in rows:
        if created_on_placement(row):
            record_addon_create(session, row, send_welcome_email=True)


def addon_fields(item: AddonQuote, promotion: Promotion | None, today: date) -> dict:

    months = BillingCycle(item.cycle).months
    return dict(
        addon_id=item.addon.id,
        billing_cycle=item.cycle,
        first_payment_amount=item.first_payment,
        recurring_amount=item.recurring_amount,
        promotion_id=promotion.id if item.promoted and promotion else None,
        registration_date=today,
        next_due_date=add_months(today, months) if months else None,
    )


def addon_invoice_lines(pairs: list[tuple[int, AddonQuote, str]], promotion: Promotion | None) -> list[dict]:
    """`pairs`: (service_addons id, its quote, its service's label)."""
    lines = []
    for addon_item_id, item, service_label in pairs:
        label = f"Addon: {item.addon.name} ({service_label})"
        lines.append(dict(type=InvoiceItemType.ADDON, related_id=addon_item_id,
                          description=f"{label} ({item.cycle})", amount=item.price))
        if item.setup_fee:
            lines.append(dict(type=InvoiceItemType.ADDON, related_id=addon_item_id,
                              description=f"Setup Fee: {label}", amount=item.setup_fee))
        if item.discount:
            lines.append(dict(type=InvoiceItemType.PROMO_ADDON, related_id=addon_item_id,
                              description=f"Promotion Code: {promotion.code} - {label}",
                              amount=-item.discount))
    return lines


def has_module(item: ServiceAddon) -> bool:
    return bool(item.addon.module)


def created_on_placement(item: ServiceAddon) -> bool:
    return has_module(item) and item.addon.auto_setup == AutoSetup.ON_ORDER


def default_run_module_create(session: Session, item: ServiceAddon) -> bool:
    """As a service's (actions.accept): on_accept yes, never no, otherwise only if no create ran."""
    if not has_module(item) or item.addon.auto_setup == AutoSetup.NEVER:
        return False
    if item.addon.auto_setup == AutoSetup.ON_ACCEPT:
        return True
    return _latest(session, item, SideEffectKind.ADDON_CREATE, include_succeeded=True) is None


def record_addon_create(session: Session, item: ServiceAddon, *, send_welcome_email: bool) -> SideEffect:
    """The addon's module create; the addon stays Pending until it succeeds."""
    return record_side_effect(
        session,
        kind=SideEffectKind.ADDON_CREATE,
        order_id=item.order_id,
        target_type="addon",
        target_id=item.id,
        payload={
            "send_welcome_email": send_welcome_email,
            "welcome_template": item.addon.welcome_email or None,
        },
    )


def record_addon_welcome_email(session: Session, item: ServiceAddon, template: str | None = None) -> None:
    """The addon's welcome email, when it has a template (an addon has no default one)."""
    template = template or item.addon.welcome_email
    if template:
        record_email(session, template=template, to=item.client.email, client_id=item.client_id,
                     order_id=item.order_id, context={"service_id": item.service_id, "addon_id": item.id})


def request_addon_terminate(session: Session, item: ServiceAddon, then_status: str) -> SideEffect:
    """Like actions.side_effects.request_terminate: one terminate per addon, under the order's lock."""
    under_way = _latest(session, item, SideEffectKind.ADDON_TERMINATE)
    if under_way is not None and change_side_effect(
        session, under_way, UNFINISHED, payload={**under_way.payload, "then_status": then_status}
    ):
        return under_way
    return record_side_effect(
        session,
        kind=SideEffectKind.ADDON_TERMINATE,
        order_id=item.order_id,
        target_type="addon",
        target_id=item.id,
        payload={"then_status": then_status},
    )


def _latest(session: Session, item: ServiceAddon, kind: str, include_succeeded: bool = False):
    statuses = (*UNFINISHED, SideEffectStatus.SUCCEEDED) if include_succeeded else UNFINISHED
    return session.scalar(
        select(SideEffect)
        .where(
            SideEffect.order_id == item.order_id,  # the (order_id, id) index: the order's few effects
            SideEffect.kind == kind,
            SideEffect.target_type == "addon",
            SideEffect.target_id == item.id,
            SideEffect.status.in_(statuses),
        )
        .order_by(SideEffect.id.desc())
        .limit(1)
    )
