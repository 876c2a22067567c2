"""The daily run's "Cancel unpaid pending orders after N days" (off by default: 0 days).

    stale_unpaid_orders(session, cutoff, after_id, limit) -> list[int]
    cancel_stale_order(session, order_id, cutoff, actor) -> bool

Selection is one indexed query per batch; each order is then cancelled through Cancel Order
(actions/cancel.py: order, items and the invoice, terminates for anything active) after its lock
is taken and the rule checked again on the fresh row, so an order paid or accepted since the
selection is left alone. Flushes, never commits.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.cancel import cancel_order
from actions.locking import lock_order
from models import Invoice, Order
from models.guards import is_stale_unpaid, stale_unpaid_where


def stale_unpaid_orders(session: Session, cutoff: datetime, after_id: int, limit: int) -> list[int]:
    return list(session.scalars(
        select(Order.id)
        .join(Invoice, Invoice.id == Order.invoice_id)
        .where(stale_unpaid_where(cutoff), Order.id > after_id)
        .order_by(Order.id)
        .limit(limit)
    ))


def cancel_stale_order(session: Session, order_id: int, cutoff: datetime, actor: Actor) -> bool:
    """Cancel the order if it is still stale and unpaid; False (nothing changed) if not."""
    order = lock_order(session, order_id)
    if not is_stale_unpaid(order, cutoff):
        return False
    cancel_order(session, order, actor)
    return True
