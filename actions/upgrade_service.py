"""Ordering an upgrade / downgrade of a live service (the service page's Upgrade/Downgrade form).

    order_upgrade(session, service_id, product_id, cycle, option_values, actor, today=None) -> Order

Priced by actions.upgrade_quote; the result is an order of its own (kind "upgrade") with one
invoice line for the prorated difference and a ServiceUpgrade row saying what changes. A charge
waits for payment (actions.paid_setup applies it then); no charge (a downgrade, or the same price)
makes a 0.00 invoice with nothing owed, Paid at once, and the change is applied when the order is
accepted (actions.accept). Refused, nothing written, for a service that is not Active, one with an
upgrade order still open, or a choice the catalog refuses. Flushes, never commits.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.config_options import option_lines
from actions.errors import ErrorCode, TransitionError
from actions.locking import lock_order_row
from actions.order_number import new_order_number
from actions.place import invoice_fields, order_days_grace, placement_details
from actions.side_effects import record_email
from actions.upgrade_quote import UpgradeQuote, quote_upgrade
from models import (
    ActorType,
    DowngradeCredit,
    Gateway,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    InvoiceStatus,
    Order,
    OrderKind,
    OrderStatus,
    Service,
    ServiceUpgrade,
    Setting,
    UpgradeStatus,
    utcnow,
)
from models.email_defaults import INVOICE_CREATED

_ENDED = (OrderStatus.CANCELLED, OrderStatus.FRAUD)


def credit_method(session: Session) -> str:
    setting = session.get(Setting, "downgrade_credit_method")
    value = setting.value.strip().lower() if setting else ""
    return value if value in set(DowngradeCredit) else DowngradeCredit.CREDIT


def open_upgrade(session: Session, service_id: int) -> ServiceUpgrade | None:
    """An upgrade of this service not yet applied whose order is still live."""
    return session.scalar(
        select(ServiceUpgrade).join(Order, Order.id == ServiceUpgrade.order_id)
        .where(ServiceUpgrade.service_id == service_id, ServiceUpgrade.status == UpgradeStatus.PENDING,
               Order.status.not_in(_ENDED)).limit(1))


def _payment_method(session: Session, service: Service) -> str:
    if service.order is not None and service.order.payment_method:
        return service.order.payment_method
    return session.scalar(select(Gateway.name).where(Gateway.active).order_by(Gateway.sort_order, Gateway.id)
                          .limit(1)) or ""


def describe_upgrade(quote: UpgradeQuote) -> str:
    """The invoice line: from what to what, and the proration it bills."""
    service, p = quote.service, quote.proration
    text = (f"Upgrade/Downgrade: {service.product} ({service.billing_cycle}) => {quote.product} "
            f"({quote.cycle})" + (f" - {service.domain}" if service.domain else ""))
    text += option_lines(quote.options)
    text += (f"\nNew recurring amount {quote.new_price} (was {quote.old_price}); "
             f"{p.days_remaining} of {p.days_in_cycle} days left until "
             f"{service.next_due_date.isoformat()}; next due date {p.new_next_due_date.isoformat()}")
    if p.credit:
        text += f"\nCredit of {p.credit} given when the change is applied"
    return text


def order_upgrade(session: Session, service_id: int, product_id: int, cycle: str, option_values: dict,
                  actor: Actor, today: date | None = None, expected_amount: Decimal | None = None) -> Order:
    """expected_amount: the prorated amount the admin was shown (the preview's form); a different
    price now (the service changed, or a day passed) is refused rather than billed unseen."""
    service = session.get(Service, service_id)
    if service is None:
        raise TransitionError(ErrorCode.NOT_FOUND, f"There is no service {service_id}.")
    if service.order_id is not None:
        lock_order_row(session, service.order_id)  # the service's order: no cancel meanwhile
    session.refresh(service)
    placed_at = utcnow()
    today = today or placed_at.date()
    quote = quote_upgrade(session, service, product_id, cycle, option_values, today)
    if expected_amount is not None and quote.proration.amount != expected_amount:
        money = service.client.currency.format_amount  # the quote's currency
        raise TransitionError(ErrorCode.STALE, f"The price changed since the preview "
                              f"({money(expected_amount)} then, {money(quote.proration.amount)} now): "
                              "check the new preview and place it again.")
    pending = open_upgrade(session, service.id)
    if pending is not None:
        raise TransitionError(ErrorCode.NOT_ALLOWED, f"Order #{pending.order.order_number} already "
                              "upgrades or downgrades this service: pay, accept or cancel it first.")
    proration = quote.proration
    currency = service.client.currency  # the service's prices are in it (fixed once invoiced)
    order = Order(order_number=new_order_number(session), date=placed_at, client_id=service.client_id,
                  status=OrderStatus.PENDING, kind=OrderKind.UPGRADE, amount=proration.charge,
                  payment_method=_payment_method(session, service), source="admin",
                  currency_id=currency.id, currency_rate=currency.rate,
                  placed_by_admin_id=actor.id if actor.type == ActorType.ADMIN else None)
    session.add(order)
    session.flush()
    lines = [dict(type=InvoiceItemType.UPGRADE, related_id=service.id, description=describe_upgrade(quote),
                  amount=proration.charge)]
    grace = order_days_grace(session)
    columns = dict(client_id=order.client_id, currency_id=order.currency_id,
                   currency_rate=order.currency_rate, payment_method=order.payment_method)
    invoice = Invoice(**invoice_fields(columns, today, grace, lines),
                      items=[InvoiceItem(**line) for line in lines])
    if not proration.charge:  # nothing is owed: the change waits for the order's accept only
        invoice.status, invoice.date_paid = InvoiceStatus.PAID, placed_at
    order.invoice = invoice
    session.add(invoice)
    upgrade = ServiceUpgrade(
        order=order, service=service, old_product_id=service.product_id, new_product_id=quote.product.id,
        old_cycle=service.billing_cycle, new_cycle=quote.cycle,
        new_options=[{"option_id": o.option.id, "choice_id": o.choice.id, "quantity": o.quantity}
                     for o in quote.options],
        old_recurring_amount=quote.old_price, new_recurring_amount=quote.new_price,
        days_remaining=proration.days_remaining, days_in_cycle=proration.days_in_cycle,
        charge=proration.charge, credit=proration.credit, credit_method=credit_method(session),
        new_next_due_date=proration.new_next_due_date, status=UpgradeStatus.PENDING)
    session.add(upgrade)
    session.flush()
    if proration.charge:
        record_email(session, template=INVOICE_CREATED, to=service.client.email, client_id=order.client_id,
                     order_id=order.id, context={"invoice_id": invoice.id})
    details = placement_details(order.order_number, order.amount, order.source, invoice.id, "",
                                services=0, domains=0)
    events.order_placed(session, order, actor, details | {"kind": OrderKind.UPGRADE, "upgrade": {
        "service_id": service.id, "from_product_id": service.product_id, "to_product_id": quote.product.id,
        "from_cycle": service.billing_cycle, "to_cycle": quote.cycle, "charge": proration.charge,
        "credit": proration.credit, "days_remaining": proration.days_remaining,
        "days_in_cycle": proration.days_in_cycle}})
    session.flush()
    return order
