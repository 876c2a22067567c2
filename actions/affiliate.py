"""Assign, change or remove the affiliate who referred an order.

    assign_affiliate(session, order, affiliate_id | None, actor, expected_version=None) -> Order

Any order status. Refused (invalid_option) when the affiliate does not exist. Writes
affiliate_assigned (from -> to affiliate ids). Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import ErrorCode, TransitionError
from models import Affiliate, Order


@order_action
def assign_affiliate(
    session: Session,
    order: Order | int,
    affiliate_id: int | None,
    actor: Actor,
    expected_version: int | None = None,
) -> Order:
    order = lock_order(session, order, expected_version)
    if affiliate_id is not None and session.get(Affiliate, affiliate_id) is None:
        raise TransitionError(ErrorCode.INVALID_OPTION, f"Affiliate {affiliate_id} does not exist")
    if affiliate_id == order.affiliate_id:
        return order
    old, order.affiliate_id = order.affiliate_id, affiliate_id
    events.affiliate_assigned(session, order.id, actor, old, affiliate_id)
    session.flush()
    session.expire(order, ["affiliate"])
    return order
