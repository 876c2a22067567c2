"""Cancel (the invoice page): the client no longer owes this invoice.

    cancel_invoice(session, invoice, actor, expected_version=None) -> Invoice

Refused, with nothing changed, for an invoice that is not open or still holds money not refunded
(models.invoice_guards.cancel_refusal), and while a capture of it is running (its outcome would
take money for a cancelled invoice); a queued capture is cancelled with it. Writes
invoice_cancelled on the order's timeline. The order itself is left alone (Cancel Order is the
order's own action). Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import Actor
from actions.attempt_capture import capture_under_way
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import lock_invoice, order_id_of, refuse, touch
from actions.side_effects import cancel_if_queued
from models import Invoice, InvoiceStatus, utcnow
from models.invoice_guards import cancel_refusal


def cancel_invoice(
    session: Session, invoice: Invoice | int, actor: Actor, expected_version: int | None = None
) -> Invoice:
    invoice = lock_invoice(session, invoice, expected_version)
    refuse(cancel_refusal(invoice))
    capture = capture_under_way(session, invoice.id)
    if capture is not None and not cancel_if_queued(session, capture, actor, "Invoice cancelled"):
        raise TransitionError(ErrorCode.CAPTURE_UNDER_WAY, f"A capture of invoice #{invoice.id} is running; "
                              "wait for its outcome before cancelling the invoice")
    from_status = invoice.status
    invoice.status = InvoiceStatus.CANCELLED
    invoice.date_cancelled = utcnow()
    touch(invoice)
    order_id = order_id_of(session, invoice.id)
    invoice_events.invoice_cancelled(session, order_id, actor, invoice.id, from_status)
    session.flush()
    return invoice
