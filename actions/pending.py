"""Set Back to Pending (DESIGN.md §4).

    set_order_pending(session, order, actor, expected_version=None) -> Order

Order, every service and every domain Pending; invoice Cancelled -> Unpaid (so the client can pay
or an admin can attempt a capture). No side effects; terminations not yet started are cancelled.
Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import TRANSITIONS, Action, TransitionError, apply_transition
from models import Order
from models.guards import refusal


@order_action
def set_order_pending(
    session: Session, order: Order | int, actor: Actor, expected_version: int | None = None
) -> Order:
    order = lock_order(session, order, expected_version)
    found = refusal(order, Action.SET_PENDING)
    if found:
        raise TransitionError.from_refusal(found)
    from_status = order.status
    changes = apply_transition(session, order, TRANSITIONS[Action.SET_PENDING], actor)
    events.order_set_pending(session, order.id, actor, from_status, order.status, changes)
    session.flush()
    return order
