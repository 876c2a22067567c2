"""Change an order's payment method (the order page's select).

    change_payment_method(session, order, gateway_name, actor, expected_version=None) -> Order

Any order status. The gateway must exist and be active (refused with invalid_option otherwise;
an unreadable name raises models.bounds.InvalidInput).
The order's invoice follows while nothing is paid on it (WHMCS: the invoice is what the client
pays with); a paid invoice keeps the method it was paid with. Writes payment_method_changed
(from -> to). Flushes, never commits.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import ErrorCode, TransitionError
from models import Gateway, InvoiceStatus, Order
from models.bounds import clean_text


@order_action
def change_payment_method(
    session: Session, order: Order | int, gateway_name: str, actor: Actor, expected_version: int | None = None
) -> Order:
    order = lock_order(session, order, expected_version)
    gateway_name = clean_text(gateway_name, max_length=100, what="The payment method", single_line=True)
    gateway = session.scalar(select(Gateway).where(Gateway.name == gateway_name, Gateway.active))
    if gateway is None:
        raise TransitionError(ErrorCode.INVALID_OPTION, f"Unknown payment method {gateway_name[:100]!r}")
    if gateway.name == order.payment_method:
        return order
    old, order.payment_method = order.payment_method, gateway.name
    invoice = order.invoice
    followed = invoice is not None and invoice.status == InvoiceStatus.UNPAID and not invoice.transactions
    if followed:
        invoice.payment_method = gateway.name
    invoice_id = invoice.id if followed else None
    events.payment_method_changed(session, order.id, actor, old, gateway.name, invoice_id)
    session.flush()
    return order
