"""Mark Unpaid (the invoice page): the invoice is owed again (a bounced payment, a cancellation
undone). Its payments and refunds stay as they are: the balance is still what they leave.

    mark_invoice_unpaid(session, invoice, actor, expected_version=None) -> Invoice

Refused when the invoice is Unpaid already. Clears the paid, cancelled and refunded dates and
writes invoice_marked_unpaid on the order's timeline. Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import Actor
from actions.invoice_access import lock_invoice, order_id_of, refuse, touch
from models import Invoice, InvoiceStatus
from models.invoice_guards import mark_unpaid_refusal


def mark_invoice_unpaid(
    session: Session, invoice: Invoice | int, actor: Actor, expected_version: int | None = None
) -> Invoice:
    invoice = lock_invoice(session, invoice, expected_version)
    refuse(mark_unpaid_refusal(invoice))
    from_status = invoice.status
    invoice.status = InvoiceStatus.UNPAID
    invoice.date_paid = invoice.date_cancelled = invoice.date_refunded = None
    touch(invoice)
    order_id = order_id_of(session, invoice.id)
    invoice_events.invoice_marked_unpaid(session, order_id, actor, invoice.id, from_status)
    session.flush()
    return invoice
