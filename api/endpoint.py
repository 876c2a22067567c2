"""POST /includes/api.php: the WHMCS-compatible endpoint (reference/whmcs-api.md §3).

Parameters from the query string and the body (the body winning), the action name in any case,
our own credentials instead of the admin's login and CSRF, always a JSON answer:
{"result": "success", ...} or {"result": "error", "message": ...}, HTTP 200 for business errors
and 403 for authentication and permission failures. Failed logins are throttled per caller IP.
"""

import logging
import time

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.auth import Attempt, authenticate, check_ip, check_permission
from api.errors import AUTHENTICATION_FAILED, INVALID_CREDENTIALS, ApiError, AuthError, unknown_action
from api.log import write_api_log
from api.params import read_request
from api.registry import ACTIONS, BOOL, Call
from extensions import db, limiter

log = logging.getLogger(__name__)

blueprint = Blueprint("api", __name__)

INTERNAL_ERROR = "An internal error occurred; it has been logged."
THROTTLED = "Too many failed authentication attempts from this IP address; try again later."
_LOGIN_FAILURES = frozenset({AUTHENTICATION_FAILED, INVALID_CREDENTIALS})


def _failure_limit() -> str:
    return current_app.config["API_AUTH_FAILURE_LIMIT"]


# Kept on the request (not g: an app context can outlive one request, as in tests).
LOGIN_FAILED_KEY = "orderdesk.api_login_failed"


def _login_failed(response) -> bool:
    return bool(request.environ.get(LOGIN_FAILED_KEY))


def _throttled(limit):
    response = jsonify(result="error", message=THROTTLED)
    response.status_code = 429
    return response


def _answer(status: int, body: dict):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    if status == 405:
        response.headers["Allow"] = "POST"
    return response


@blueprint.route("/includes/api.php", methods=["GET", "POST"])
@limiter.limit(_failure_limit, deduct_when=_login_failed, on_breach=_throttled)
def api_php():
    started = time.perf_counter()
    remote = request.remote_addr or ""
    attempt = Attempt()
    action_name, call = "", None
    try:
        if request.method != "POST":
            raise ApiError("The API accepts POST requests only.", 405)
        request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]
        params = read_request(request)
        action_name = params.text("action", max_length=64).lower()
        caller = authenticate(db.session, params, attempt)
        check_ip(caller, params, remote, current_app.config)
        action = ACTIONS.get(action_name)
        if action is None:
            raise ApiError(unknown_action(action_name))
        check_permission(caller, action_name, action.permissions)
        refuse_unsupported(action, params)
        call = Call(db.session, params, caller, remote, current_app.config)
        result = action.handler(call)
        if current_app.testing and params.read - action.declared:
            raise RuntimeError(
                f"{action.name} read undeclared parameters {sorted(params.read - action.declared)}"
            )
        db.session.commit()
        status, body = 200, {"result": "success", **result}
    except RequestEntityTooLarge:
        db.session.rollback()
        limit = current_app.config["API_MAX_BODY_BYTES"]
        status, body = 413, {"result": "error", "message": f"The request is larger than {limit:,} bytes."}
    except ApiError as exc:
        db.session.rollback()
        if isinstance(exc, AuthError) and exc.message in _LOGIN_FAILURES:
            request.environ[LOGIN_FAILED_KEY] = True
        status, body = exc.http_status, {"result": "error", "message": exc.message}
    except Exception:  # noqa: BLE001 - a bug still answers JSON, and is logged with its traceback
        db.session.rollback()
        log.exception("API action %s failed", action_name)
        status, body = 500, {"result": "error", "message": INTERNAL_ERROR}
    write_api_log(
        db.session,
        action=action_name,
        credential_id=attempt.credential_id,
        admin_user_id=attempt.admin_user_id,
        caller=attempt.caller,
        ip_address=remote,
        result=body["result"],
        http_status=status,
        message=body.get("message", ""),
        duration_ms=round((time.perf_counter() - started) * 1000),
        order_id=call.order_id if call else None,
    )
    return _answer(status, body)


@blueprint.route("/includes/api.openapi.json")
def openapi_json():
    """The machine-readable description, generated from the same registry (public: no secrets)."""
    from api.openapi import openapi_spec

    return jsonify(openapi_spec())


def refuse_unsupported(action, params) -> None:
    """A WHMCS parameter Orderdesk cannot honour yet is refused when it carries a value, never
    silently dropped."""
    for param in action.params:
        if not param.unsupported:
            continue
        carried = params.flag(param.name) if param.type == BOOL else params.given(param.name)
        if carried:
            raise ApiError(f"{action.name}: {param.name} is not supported ({param.unsupported}).")
