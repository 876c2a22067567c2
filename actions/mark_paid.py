"""Mark Paid (the invoice page): the client paid the rest; a transaction records it.

    mark_invoice_paid_with_payment(session, invoice, actor, *, gateway, paid_on=None,
                                   transaction_id="", fees=Decimal("0.00"),
                                   expected_version=None, confirmation_email=True) -> Invoice

The balance is recorded as one payment through Add Payment (same checks: an open invoice, a
known gateway, a transaction id not recorded yet), whose last step marks the invoice Paid
(actions.invoice_paid). An open invoice whose payments already cover it (marked Unpaid by hand
since) is marked Paid without a new transaction. Flushes, never commits.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.add_payment import add_payment, payment_moment
from actions.invoice_access import lock_invoice, refuse
from actions.invoice_paid import mark_invoice_paid
from models import Invoice
from models.invoice_guards import ZERO, payment_refusal


def mark_invoice_paid_with_payment(
    session: Session, invoice: Invoice | int, actor: Actor, *, gateway: str,
    paid_on: date | datetime | None = None, transaction_id: str = "", fees: Decimal = ZERO,
    expected_version: int | None = None, confirmation_email: bool = True,
) -> Invoice:
    invoice = lock_invoice(session, invoice, expected_version)
    refuse(payment_refusal(invoice))
    if invoice.balance <= ZERO:
        return mark_invoice_paid(session, invoice, actor, payment_moment(paid_on),
                                 confirmation_email=confirmation_email)
    add_payment(session, invoice, actor, amount=invoice.balance, gateway=gateway, paid_on=paid_on,
                transaction_id=transaction_id, fees=fees, expected_version=expected_version,
                confirmation_email=confirmation_email)
    return invoice
