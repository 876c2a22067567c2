"""Admin notes on an order.

    update_admin_notes(session, order, notes, actor, expected_version=None) -> Order

Any order status. Writes admin_notes_updated (old and new text) when the text changes; an
unchanged text writes nothing. Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from models import Order


@order_action
def update_admin_notes(
    session: Session, order: Order | int, notes: str, actor: Actor, expected_version: int | None = None
) -> Order:
    order = lock_order(session, order, expected_version)
    notes = (notes or "").replace("\r\n", "\n")
    if notes == order.admin_notes:
        return order
    old, order.admin_notes = order.admin_notes, notes
    events.admin_notes_updated(session, order.id, actor, old, notes)
    session.flush()
    return order
