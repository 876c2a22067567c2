"""Add Payment (the invoice page): money received, written down as a transaction.

    add_payment(session, invoice, actor, *, amount, gateway, paid_on=None, transaction_id="",
                fees=Decimal("0.00"), expected_version=None, confirmation_email=True) -> Transaction
    record_payment(session, invoice, actor, *, amount, gateway, paid_at, transaction_id="",
                   fees=Decimal("0.00"), description="Invoice Payment",
                   confirmation_email=True) -> Transaction

A partial payment is allowed; one larger than the balance is refused (overpayment), as is a
payment on an invoice that is not open (models.invoice_guards), a date in the future, fees larger
than the amount, an unknown gateway, or a gateway transaction id recorded already on that gateway
(the same money twice). paid_on is a day (the admin's form) or a moment (the API's date with its
time). record_payment is the part Mark Paid and a successful capture share: the
row, the invoice_payment_added event, and mark_invoice_paid once the balance is settled.
Flushes, never commits.
"""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import Actor
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import lock_invoice, order_id_of, refuse, touch
from actions.invoice_paid import mark_invoice_paid
from models import Gateway, Invoice, Transaction, utcnow
from models.bounds import check_money, clean_text
from models.invoice_guards import OPEN, ZERO, payment_refusal


def payment_moment(paid_on: date | datetime | None) -> datetime:
    """The time a payment is recorded at: now for today (or no date), midnight UTC for a past day,
    a given moment (UTC) as it is."""
    now = utcnow()
    if isinstance(paid_on, datetime):
        paid_at = paid_on if paid_on.tzinfo else paid_on.replace(tzinfo=UTC)
        if paid_at > now:
            raise TransitionError(ErrorCode.INVALID_OPTION, "The payment date cannot be in the future")
        return paid_at
    if paid_on is None or paid_on == now.date():
        return now
    if paid_on > now.date():
        raise TransitionError(ErrorCode.INVALID_OPTION, "The payment date cannot be in the future")
    return datetime.combine(paid_on, time(), tzinfo=UTC)


def known_gateway(session: Session, name: str) -> Gateway:
    name = clean_text(name, max_length=100, what="The payment gateway", single_line=True)
    gateway = session.scalar(select(Gateway).where(Gateway.name == name))
    if gateway is None:
        raise TransitionError(ErrorCode.INVALID_OPTION, f"Unknown payment gateway {name!r}")
    return gateway


def record_payment(
    session: Session, invoice: Invoice, actor: Actor, *, amount: Decimal, gateway: str, paid_at: datetime,
    transaction_id: str = "", fees: Decimal = ZERO, description: str = "Invoice Payment",
    confirmation_email: bool = True,
) -> Transaction:
    payment = Transaction(client_id=invoice.client_id, invoice=invoice, gateway=gateway, date=paid_at,
                          description=description, amount_in=amount, fees=fees, transaction_id=transaction_id)
    session.add(payment)
    session.flush()
    touch(invoice)
    invoice_events.invoice_payment_added(session, order_id_of(session, invoice.id), actor, invoice, payment)
    if invoice.balance <= ZERO and invoice.status in OPEN:
        mark_invoice_paid(session, invoice, actor, paid_at, confirmation_email=confirmation_email)
    session.flush()
    return payment


def add_payment(
    session: Session, invoice: Invoice | int, actor: Actor, *, amount: Decimal, gateway: str,
    paid_on: date | datetime | None = None, transaction_id: str = "", fees: Decimal = ZERO,
    expected_version: int | None = None, confirmation_email: bool = True,
) -> Transaction:
    invoice = lock_invoice(session, invoice, expected_version)
    amount = check_money(amount, what="The payment amount")
    fees = check_money(fees, what="The fees")
    refuse(payment_refusal(invoice, amount))
    if fees > amount:
        raise TransitionError(ErrorCode.INVALID_OPTION, "The fees cannot be more than the payment")
    gateway_row = known_gateway(session, gateway)
    transaction_id = clean_text(transaction_id, max_length=255, what="The transaction id", single_line=True)
    if transaction_id and session.scalar(select(Transaction.id).where(
            Transaction.gateway == gateway_row.name, Transaction.transaction_id == transaction_id)):
        raise TransitionError(ErrorCode.DUPLICATE_PAYMENT, f"Transaction {transaction_id!r} of "
                              f"{gateway_row.display_name} is recorded already")
    return record_payment(session, invoice, actor, amount=amount, gateway=gateway_row.name,
                          paid_at=payment_moment(paid_on), transaction_id=transaction_id, fees=fees,
                          confirmation_email=confirmation_email)
