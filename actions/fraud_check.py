"""Run Fraud Check (the order page's button): run the active fraud module again for an order.

    run_fraud_check(session, order, actor, ip_address=None) -> FraudCheck
        ip_address: check with this IP instead of the order's (the API's OrderFraudCheck ipaddress)

Synchronous, with the module's timeout (docs/decisions.md, "Run Fraud Check"): the order is read,
the module called with no lock held and nothing written, then the order is locked and the new
result recorded (actions.fraud_results.record_result) - a failed check is a result too, and
flags the order. The order's status does not change: the admin reads the new result and decides
(Set as Fraud, Accept...). Refused with TransitionError when no fraud module is active.
Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.errors import ErrorCode, TransitionError
from actions.fraud_results import active_fraud_settings, fraud_params, record_result, run_module
from actions.locking import lock_order, order_action
from models import FraudCheck, Order

NO_MODULE = "No fraud module is active: choose one under Setup > Fraud Protection"


@order_action
def run_fraud_check(
    session: Session, order: Order, actor: Actor, ip_address: str | None = None
) -> FraudCheck:
    settings = active_fraud_settings(session)
    if settings is None:
        raise TransitionError(ErrorCode.NOT_ALLOWED, NO_MODULE)
    ip_address = order.ip_address if ip_address is None else ip_address
    params = fraud_params(session, settings, order.client, order.amount, ip_address, order_id=order.id)
    result = run_module(settings, params)
    # By id: a change made meanwhile (notes, an accept) does not make a result stale.
    order = lock_order(session, order.id)
    return record_result(session, order, settings, result, actor)
