"""AcceptOrder, CancelOrder, DeleteOrder, FraudOrder, PendingOrder: each runs its row of the
transition table (actions.transitions) through run_order_action, as the admin's buttons do, with
the credential as actor; each needs its row's permissions.

AcceptOrder and CancelOrder keep WHMCS's API guard: only an order whose status is exactly Pending
(the admin may also accept custom "pending-like" statuses and cancel from any status). The status
is read first and the action is then run with that version, so an order changed in between (say,
accepted by a second call at the same moment) is refused with the same message.
"""

from actions.accept import AcceptOptions, DomainAcceptOptions, ServiceAcceptOptions
from actions.transitions import TRANSITIONS, Action, ErrorCode, TransitionError, run_order_action
from api.errors import ApiError
from api.registry import BOOL, INT, STRING, Call, Param, api_action
from models import DomainStatus, Order, OrderStatus, ServiceStatus

NOT_FOUND_OR_NOT_PENDING = "Order ID not found or Status not Pending"
ORDER_ID_NOT_FOUND = "Order ID Not Found"
DELETE_NOT_FOUND = "Order ID not found"
DELETE_WRONG_STATUS = "The order status must be in Cancelled or Fraud to be deleted"

ORDER_ID = Param("orderid", INT, "The order id.", required=True)
CANCEL_SUB = Param(
    "cancelsub",
    BOOL,
    "Cancel the gateway subscription. Orderdesk keeps no gateway "
    "subscriptions, so there is never one to cancel; accepted for compatibility.",
)


def _order(call: Call, not_found: str) -> Order:
    order_id = call.params.id("orderid")
    call.order_id = order_id
    order = call.session.get(Order, order_id) if order_id is not None else None
    if order is None:
        raise ApiError(not_found)
    return order


def _run(
    call: Call,
    action: str,
    order: Order,
    not_found: str,
    refused: str | None = None,
    expected_version: int | None = None,
    **inputs,
) -> None:
    """The row's use case; a refusal becomes WHMCS's message where WHMCS has one."""
    try:
        run_order_action(
            call.session, action, order.id, call.caller.actor, expected_version=expected_version, **inputs
        )
    except TransitionError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise ApiError(not_found) from None
        if refused and exc.code in (ErrorCode.NOT_ALLOWED, ErrorCode.STALE):
            raise ApiError(refused) from None
        raise ApiError(exc.message) from None


def _only_pending(order: Order) -> None:
    if order.status != OrderStatus.PENDING:
        raise ApiError(NOT_FOUND_OR_NOT_PENDING)


@api_action(
    "AcceptOrder",
    summary="Accept a Pending order: items are set up as the options say.",
    permissions=TRANSITIONS[Action.ACCEPT].permissions,
    params=(
        ORDER_ID,
        Param(
            "serverid",
            INT,
            "Server for every pending service (default: the service's, else the product's default server).",
        ),
        Param("serviceusername", STRING, "Username for every pending service."),
        Param("servicepassword", STRING, "Password for every pending service (stored encrypted)."),
        Param("registrar", STRING, "Registrar module for every pending domain."),
        Param(
            "sendregistrar", BOOL, "Send pending domains to the registrar (default: when a registrar is set)."
        ),
        Param(
            "autosetup",
            BOOL,
            "Run the server module's create for pending services (default: the "
            "product's auto-setup setting).",
        ),
        Param("sendemail", BOOL, "Send the welcome emails (default true)."),
    ),
    errors=(
        NOT_FOUND_OR_NOT_PENDING,
        "Server <id> does not exist",
        "Unknown registrar '<name>'",
        "Choose a registrar to send <domain> to",
    ),
)
def accept_order(call: Call) -> dict:
    order = _order(call, NOT_FOUND_OR_NOT_PENDING)
    _only_pending(order)
    p = call.params
    service = ServiceAcceptOptions(
        server_id=p.id("serverid"),
        username=p.text("serviceusername", max_length=100) or None,
        password=p.text("servicepassword", max_length=255) or None,
        run_module_create=p.flag("autosetup"),
        send_welcome_email=p.flag("sendemail"),
    )
    domain = DomainAcceptOptions(
        registrar=p.text("registrar", max_length=50) or None, send_to_registrar=p.flag("sendregistrar")
    )
    options = AcceptOptions(
        services={s.id: service for s in order.services if s.status == ServiceStatus.PENDING},
        domains={d.id: domain for d in order.domains if d.status == DomainStatus.PENDING},
    )
    _run(
        call,
        Action.ACCEPT,
        order,
        NOT_FOUND_OR_NOT_PENDING,
        NOT_FOUND_OR_NOT_PENDING,
        expected_version=order.version,
        options=options,
    )
    return {}


@api_action(
    "CancelOrder",
    summary="Cancel a Pending order (its items and unpaid invoice are cancelled).",
    permissions=TRANSITIONS[Action.CANCEL].permissions,
    params=(
        ORDER_ID,
        CANCEL_SUB,
        Param(
            "noemail",
            BOOL,
            "Suppress the invoice payment email should the invoice become paid; "
            "cancelling never pays an invoice here, so there is nothing to suppress.",
        ),
    ),
    errors=(NOT_FOUND_OR_NOT_PENDING,),
)
def cancel_order(call: Call) -> dict:
    order = _order(call, NOT_FOUND_OR_NOT_PENDING)
    _only_pending(order)
    call.params.flag("cancelsub")
    call.params.flag("noemail")
    _run(
        call,
        Action.CANCEL,
        order,
        NOT_FOUND_OR_NOT_PENDING,
        NOT_FOUND_OR_NOT_PENDING,
        expected_version=order.version,
    )
    return {}


@api_action(
    "DeleteOrder",
    summary="Delete a Cancelled or Fraud order with its items and invoice (for good).",
    permissions=TRANSITIONS[Action.DELETE].permissions,
    params=(ORDER_ID,),
    errors=(
        DELETE_NOT_FOUND,
        DELETE_WRONG_STATUS,
        "The invoice has payments that are not refunded; refund them before deleting the order",
        "Module commands for this order are still queued or running; wait for them (or cancel them) "
        "before deleting the order",
    ),
)
def delete_order(call: Call) -> dict:
    order = _order(call, DELETE_NOT_FOUND)
    if order.status not in (OrderStatus.CANCELLED, OrderStatus.FRAUD):
        raise ApiError(DELETE_WRONG_STATUS)
    _run(call, Action.DELETE, order, DELETE_NOT_FOUND)
    return {}


@api_action(
    "FraudOrder",
    summary="Set an order as Fraud (live services are terminated, the unpaid invoice cancelled).",
    permissions=TRANSITIONS[Action.SET_FRAUD].permissions,
    params=(ORDER_ID, CANCEL_SUB),
    errors=(ORDER_ID_NOT_FOUND, "The order is already set as Fraud"),
)
def fraud_order(call: Call) -> dict:
    order = _order(call, ORDER_ID_NOT_FOUND)
    call.params.flag("cancelsub")
    _run(call, Action.SET_FRAUD, order, ORDER_ID_NOT_FOUND)
    return {}


@api_action(
    "PendingOrder",
    summary="Set an order and all its items back to Pending.",
    permissions=TRANSITIONS[Action.SET_PENDING].permissions,
    params=(ORDER_ID,),
    errors=(ORDER_ID_NOT_FOUND, "The order is already Pending"),
)
def pending_order(call: Call) -> dict:
    order = _order(call, ORDER_ID_NOT_FOUND)
    _run(call, Action.SET_PENDING, order, ORDER_ID_NOT_FOUND)
    return {}
