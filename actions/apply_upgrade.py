"""Applying an upgrade order's change to its service, through the outbox (docs/upgrades.md).

    request_apply(session, order, actor) -> SideEffect | None
        once the upgrade order is paid (actions.paid_setup) or accepted with nothing to pay
        (actions.accept): one module_change_package side effect per upgrade (None when one is
        recorded already, or the upgrade is applied)
    package_for(session, effect) -> (server module name, ServiceParams fields of the new package)
        what jobs.run hands the module's change_package; UpgradeNotApplicable when it cannot run
    upgrade_applied(session, effect, result) -> None
        the outcome of a successful change_package: the service gets the new product, options,
        cycle, recurring amount and next due date - once: a second outcome finds it Completed

A downgrade's credit is given when its change is applied, where the downgrade_credit_method
setting said when it was ordered: the client's credit balance, or refunds of the service's
latest payments (what they cannot take goes to the credit balance).
"""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions import events
from actions.actor import SYSTEM, Actor
from actions.errors import TransitionError
from actions.locking import lock_order_row
from actions.refund_payment import refund_payment, refundable_left
from actions.side_effects import record_side_effect
from models import (
    ZERO,
    Client,
    ConfigOption,
    ConfigOptionChoice,
    DowngradeCredit,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    Order,
    Service,
    ServiceConfigOption,
    ServiceStatus,
    ServiceUpgrade,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    UpgradeStatus,
    utcnow,
)
from models.config_options import COUNTED_TYPES

# Invoice lines that billed a service: where a downgrade's refund can come from.
_BILLED = (InvoiceItemType.HOSTING, InvoiceItemType.UPGRADE)


class UpgradeNotApplicable(Exception):  # noqa: N818 - reads as the reason given to the admin
    pass


def upgrade_of(session: Session, order_id: int) -> ServiceUpgrade | None:
    return session.scalar(select(ServiceUpgrade).where(ServiceUpgrade.order_id == order_id)
                          .execution_options(populate_existing=True))


def request_apply(session: Session, order: Order, actor: Actor) -> SideEffect | None:
    upgrade = upgrade_of(session, order.id)
    if upgrade is None or upgrade.status != UpgradeStatus.PENDING:
        return None
    recorded = session.scalar(select(SideEffect.id).where(
        SideEffect.kind == SideEffectKind.MODULE_CHANGE_PACKAGE, SideEffect.order_id == order.id,
        SideEffect.status != SideEffectStatus.CANCELLED).limit(1))
    if recorded is not None:  # paid, then accepted: still one change
        return None
    effect = record_side_effect(session, kind=SideEffectKind.MODULE_CHANGE_PACKAGE, order_id=order.id,
                                target_type="service", target_id=upgrade.service_id,
                                payload={"upgrade_id": upgrade.id})
    events.paid_setup(session, order.id, actor, {"invoice_id": order.invoice_id, "upgrade_id": upgrade.id,
                                                 "side_effect_id": effect.id})
    return effect


def _pending_upgrade(session: Session, effect: SideEffect) -> ServiceUpgrade:
    upgrade = session.get(ServiceUpgrade, effect.payload.get("upgrade_id"), populate_existing=True)
    if upgrade is None:
        raise UpgradeNotApplicable("The upgrade this change was for no longer exists")
    if upgrade.status != UpgradeStatus.PENDING:
        raise UpgradeNotApplicable(f"The upgrade is {upgrade.status} already")
    return upgrade


def _changed_since_ordered(upgrade: ServiceUpgrade) -> str:
    """What of the service differs from what the upgrade was priced on ("" when nothing): an admin
    edit, or a renewal that moved the due date on (same cycle: the due date is kept, so known)."""
    service = upgrade.service
    names = [name for name, now, then in (
        ("product", service.product_id, upgrade.old_product_id),
        ("billing cycle", service.billing_cycle, upgrade.old_cycle),
        ("recurring amount", service.recurring_amount, upgrade.old_recurring_amount),
        ("next due date", service.next_due_date,
         upgrade.new_next_due_date if upgrade.new_cycle == upgrade.old_cycle else service.next_due_date),
    ) if now != then]
    return ", ".join(names)


def package_for(session: Session, effect: SideEffect) -> tuple[str, dict]:
    upgrade = _pending_upgrade(session, effect)
    if upgrade.service.status != ServiceStatus.ACTIVE:
        raise UpgradeNotApplicable(f"The service is {upgrade.service.status}: only an Active one "
                                   "changes package")
    changed = _changed_since_ordered(upgrade)
    if changed:  # the prorated price was for the service as it was: applying now would mis-bill it
        raise UpgradeNotApplicable(f"The service's {changed} changed since the upgrade was ordered: "
                                   "cancel this order (refunding its payment) and order the upgrade again")
    options = {o.id: o for o in session.scalars(select(ConfigOption).where(
        ConfigOption.id.in_([v["option_id"] for v in upgrade.new_options])))}
    choices = {c.id: c for c in session.scalars(select(ConfigOptionChoice).where(
        ConfigOptionChoice.id.in_([v["choice_id"] for v in upgrade.new_options])))}
    configoptions = {}
    for value in upgrade.new_options:
        option, choice = options.get(value["option_id"]), choices.get(value["choice_id"])
        if option is None or choice is None:
            raise UpgradeNotApplicable("An option value of the upgrade was deleted from the catalog")
        configoptions[option.name] = value["quantity"] if option.type in COUNTED_TYPES else choice.name
    product = upgrade.new_product
    return product.module, dict(product_name=product.name, product_type=product.type,
                                billing_cycle=upgrade.new_cycle, configoptions=configoptions)


def _set_options(session: Session, service: Service, values: list[dict]) -> None:
    """The service's option rows become `values`: changed in place, added, or deleted (never a
    delete and an insert of one option, which the unique (service, option) would refuse)."""
    rows = {row.option_id: row for row in service.config_options}
    for value in values:
        row = rows.pop(value["option_id"], None)
        if row is None:
            session.add(ServiceConfigOption(service=service, **value))
        else:
            row.choice_id, row.quantity = value["choice_id"], value["quantity"]
    for row in rows.values():
        service.config_options.remove(row)


def _refund(session: Session, service: Service, amount, actor: Actor):
    """Refund up to `amount` from the payments of invoices that billed the service, newest first;
    returns how much was refunded (or requested from the gateway)."""
    invoices = session.scalars(select(Invoice).join(InvoiceItem, InvoiceItem.invoice_id == Invoice.id).where(
        InvoiceItem.type.in_(_BILLED), InvoiceItem.related_id == service.id).distinct()
        .order_by(Invoice.id.desc()))
    refunded = ZERO
    for invoice in invoices.all():
        for payment, left in sorted(refundable_left(session, invoice), key=lambda p: -p[0].id):
            part = min(left, amount - refunded)
            try:
                refund_payment(session, invoice, actor, payment_id=payment.id, amount=part)
            except TransitionError:
                continue  # this payment cannot give it back: the rest goes to the credit balance
            refunded += part
            if refunded == amount:
                return refunded
    return refunded


def upgrade_applied(session: Session, effect: SideEffect, result) -> None:
    try:
        upgrade = _pending_upgrade(session, effect)
    except UpgradeNotApplicable:
        return None  # applied once already: a repeated outcome changes nothing
    service = upgrade.service
    if service.order_id is not None:
        lock_order_row(session, service.order_id)
    session.refresh(service)
    changes = {}
    for name, value in (("product_id", upgrade.new_product_id), ("billing_cycle", upgrade.new_cycle),
                        ("recurring_amount", upgrade.new_recurring_amount),
                        ("next_due_date", upgrade.new_next_due_date)):
        if getattr(service, name) != value:
            changes[name] = {"from": getattr(service, name), "to": value}
            setattr(service, name, value)
    if upgrade.new_cycle != upgrade.old_cycle:
        service.next_invoice_date = upgrade.new_next_due_date  # the new cycle bills from then
    _set_options(session, service, upgrade.new_options)
    credit = {}
    if upgrade.credit > ZERO:
        refunded = (_refund(session, service, upgrade.credit, SYSTEM)
                    if upgrade.credit_method == DowngradeCredit.REFUND else ZERO)
        credited = upgrade.credit - refunded
        if credited:
            session.execute(update(Client).where(Client.id == service.client_id)
                            .values(credit_balance=Client.credit_balance + credited))
        credit = {"amount": upgrade.credit, "refunded": refunded, "credited": credited}
    upgrade.status, upgrade.applied_at = UpgradeStatus.COMPLETED, utcnow()
    events.service_upgraded(session, upgrade.order_id, SYSTEM, {
        "service_id": service.id, "upgrade_id": upgrade.id, "changes": changes, "credit": credit})
    session.flush()
    return None
