"""Set as Fraud (DESIGN.md §4).

    set_order_fraud(session, order, actor, expected_version=None) -> Order

Order Fraud; active/suspended services get a module_terminate side effect (they become Fraud when
it succeeds), other services Fraud now; domains that are not Active Fraud; invoice Unpaid ->
Cancelled. Queued creates/registrations of the order are cancelled. Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.locking import order_action
from actions.transitions import Action, transition_order
from models import Order


@order_action
def set_order_fraud(
    session: Session, order: Order | int, actor: Actor, expected_version: int | None = None
) -> Order:
    return transition_order(session, order, Action.SET_FRAUD, actor, expected_version)
