"""Change status (DESIGN.md §4): any order status -> any other existing one; items unchanged.

    change_order_status(session, order, new_status, actor, expected_version=None) -> Order
    order_status_exists(session, title) -> bool

The order page's status dropdown (custom statuses). Items, invoice and outbox are untouched.
Flushes, never commits.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import TRANSITIONS, Action, ErrorCode, TransitionError
from models import Order, OrderStatusDefinition


def order_status_exists(session: Session, title: str) -> bool:
    found = session.scalar(select(OrderStatusDefinition.id).where(OrderStatusDefinition.title == title))
    return found is not None


@order_action
def change_order_status(
    session: Session, order: Order | int, new_status: str, actor: Actor, expected_version: int | None = None
) -> Order:
    order = lock_order(session, order, expected_version)
    if not order_status_exists(session, new_status):
        raise TransitionError(ErrorCode.UNKNOWN_STATUS, f"Unknown order status {new_status!r}")
    found = TRANSITIONS[Action.CHANGE_STATUS].refusal(session, order, new_status)
    if found:
        raise TransitionError.from_refusal(found)
    from_status = order.status
    order.status = new_status
    events.order_status_changed(session, order.id, actor, from_status, new_status)
    session.flush()
    return order
