"""OrderFraudCheck: run the active fraud module again for an order (actions.fraud_check), as the
order page's Run Fraud Check does, and record the result; the order's status does not change."""

import ipaddress
import json

from actions.errors import ErrorCode, TransitionError
from actions.fraud_check import run_fraud_check
from api.errors import ApiError
from api.registry import INT, STRING, Call, Param, api_action, string
from models import FraudVerdict, Order, Permission

ORDER_ID_NOT_FOUND = "Order ID Not Found"
NO_ACTIVE_MODULE = "No Active Fraud Module"
BAD_IP = "ipaddress must be an IP address."
# WHMCS's words for a result.
STATUS = {FraudVerdict.PASSED: "Pass", FraudVerdict.FRAUD: "Fail", FraudVerdict.FAILED: "Error"}


@api_action(
    "OrderFraudCheck",
    summary="Run the active fraud module for an order again and record the result (status unchanged).",
    permissions=(Permission.RUN_FRAUD_CHECK,),
    params=(
        Param("orderid", INT, "The order id.", required=True),
        Param("ipaddress", STRING, "Check with this IP address instead of the order's."),
    ),
    response={
        "module": string("The fraud module that ran (e.g. maxmind)."),
        "status": string("Pass, Fail (over the threshold or a reject rule) or Error (it could not run)."),
        "results": string("JSON: score, threshold, reasons, error and the readable fields of the answer."),
    },
    errors=(ORDER_ID_NOT_FOUND, NO_ACTIVE_MODULE, BAD_IP),
)
def order_fraud_check(call: Call) -> dict:
    order_id = call.params.id("orderid")
    call.order_id = order_id
    order = call.session.get(Order, order_id) if order_id is not None else None
    if order is None:
        raise ApiError(ORDER_ID_NOT_FOUND)
    ip_address = call.params.text("ipaddress", max_length=45)
    if ip_address:
        try:
            ipaddress.ip_address(ip_address)
        except ValueError:
            raise ApiError(BAD_IP) from None
    try:
        check = run_fraud_check(call.session, order, call.caller.actor, ip_address=ip_address or None)
    except TransitionError as exc:
        raise ApiError(NO_ACTIVE_MODULE if exc.code == ErrorCode.NOT_ALLOWED else exc.message) from None
    results = {"score": None if check.score is None else str(check.score),
               "threshold": str(check.threshold), "reasons": check.reasons, "error": check.error,
               "details": check.details}
    return {"module": check.module, "status": STATUS[check.verdict], "results": json.dumps(results)}
