"""An invoice becomes paid in full: the one function every path calls (Add Payment, Mark Paid, a
successful Attempt Capture), so what follows a payment is added in one place.

    mark_invoice_paid(session, invoice, actor, paid_at, confirmation_email=True) -> Invoice

Sets Paid with its date paid (clearing a cancellation date), writes invoice_paid on the order's
timeline, then what paid in full sets going (actions.paid_setup: on_payment creates, auto-registration,
auto-accept, the Invoice Payment Confirmation email unless confirmation_email is False: the API's
AddInvoicePayment noemail). An invoice that is Paid already is left as
it is (no second event). The caller holds the invoice's lock (actions.invoice_access.lock_invoice)
and has recorded the payment; flushes, never commits.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import Actor
from actions.invoice_access import order_id_of, touch
from actions.paid_setup import after_invoice_paid
from models import Invoice, InvoiceStatus


def mark_invoice_paid(
    session: Session, invoice: Invoice, actor: Actor, paid_at: datetime, confirmation_email: bool = True
) -> Invoice:
    if invoice.status == InvoiceStatus.PAID:
        return invoice
    from_status = invoice.status
    invoice.status = InvoiceStatus.PAID
    invoice.date_paid = paid_at
    invoice.date_cancelled = None
    touch(invoice)
    invoice_events.invoice_paid(session, order_id_of(session, invoice.id), actor, invoice, from_status)
    # set-up, auto-accept, the payment confirmation
    after_invoice_paid(session, invoice, actor, confirmation_email=confirmation_email)
    session.flush()
    return invoice
