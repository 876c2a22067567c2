"""Set as Fraud (DESIGN.md §4).

    set_order_fraud(session, order, actor, expected_version=None) -> Order

Order Fraud; active/suspended services get a module_terminate side effect (they become Fraud when
it succeeds), other services Fraud now; domains that are not Active Fraud; invoice Unpaid ->
Cancelled. Queued creates/registrations of the order are cancelled. Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import TRANSITIONS, Action, TransitionError, apply_transition
from models import Order
from models.guards import refusal


@order_action
def set_order_fraud(
    session: Session, order: Order | int, actor: Actor, expected_version: int | None = None
) -> Order:
    order = lock_order(session, order, expected_version)
    found = refusal(order, Action.SET_FRAUD)
    if found:
        raise TransitionError.from_refusal(found)
    from_status = order.status
    changes = apply_transition(session, order, TRANSITIONS[Action.SET_FRAUD], actor)
    events.order_set_fraud(session, order.id, actor, from_status, order.status, changes)
    session.flush()
    return order
