"""Set Back to Pending (DESIGN.md §4).

    set_order_pending(session, order, actor, expected_version=None) -> Order

Order, every service and every domain Pending; invoice Cancelled -> Unpaid (so the client can pay
or an admin can attempt a capture). No side effects; terminations not yet started are cancelled.
Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.locking import order_action
from actions.transitions import Action, transition_order
from models import Order


@order_action
def set_order_pending(
    session: Session, order: Order | int, actor: Actor, expected_version: int | None = None
) -> Order:
    return transition_order(session, order, Action.SET_PENDING, actor, expected_version)
