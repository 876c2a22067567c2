"""A made-up order action, "Put on Hold", written the way docs/extending.md says: one row in the
transition table (added by the test) and this one use-case module. Nothing else is touched."""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import TRANSITIONS, TransitionError
from models import Order

ACTION = "put_on_hold"


@order_action
def put_order_on_hold(session: Session, order: Order | int, actor: Actor, expected_version=None):
    order = lock_order(session, order, expected_version)
    row = TRANSITIONS[ACTION]
    found = row.refusal(session, order)
    if found:
        raise TransitionError.from_refusal(found)
    from_status, order.status = order.status, row.order_to
    events.order_status_changed(session, order.id, actor, from_status, order.status)
    session.flush()
    return order
