"""The order timeline: one small constructor per event. Each adds an OrderEvent to the session.

Every event has: order id (kept after delete), actor (type, id, name), verb, from -> to status and
details (JSON). Constructors take plain values so they work for an order that is being deleted.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Insert, Integer, String, insert, literal, select
from sqlalchemy.orm import Session

from actions.actor import Actor
from models import Order, OrderEvent, SideEffect, utcnow
from models.base import UTCDateTime


class Verb(StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_ACCEPTED = "order_accepted"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUND_REQUESTED = "order_refund_requested"
    ORDER_SET_FRAUD = "order_set_fraud"
    ORDER_SET_PENDING = "order_set_pending"
    ORDER_DELETED = "order_deleted"
    ORDER_AMENDED = "order_amended"
    ORDER_STATUS_CHANGED = "order_status_changed"
    BULK_STATUS_CHANGED = "bulk_status_changed"
    AFFILIATE_ASSIGNED = "affiliate_assigned"
    ADMIN_NOTES_UPDATED = "admin_notes_updated"
    PAYMENT_METHOD_CHANGED = "payment_method_changed"
    RECORD_EDITED = "record_edited"
    LIST_EXPORTED = "list_exported"
    MASS_MAIL_SENT = "mass_mail_sent"
    SIDE_EFFECT_SUCCEEDED = "side_effect_succeeded"
    SIDE_EFFECT_FAILED = "side_effect_failed"
    SIDE_EFFECT_RETRIED = "side_effect_retried"
    SIDE_EFFECT_CANCELLED = "side_effect_cancelled"
    TERMINATE_REQUESTED = "terminate_requested"
    ADMIN_LOGGED_IN = "admin_logged_in"
    ADMIN_LOGIN_FAILED = "admin_login_failed"
    ADMIN_REAUTHENTICATED = "admin_reauthenticated"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_RESET = "two_factor_reset"
    FRAUD_CHECKED = "fraud_checked"
    FRAUD_CHECK_SKIPPED = "fraud_check_skipped"
    ORDER_FAILED_FRAUD_CHECK = "order_failed_fraud_check"
    FRAUD_SETTINGS_CHANGED = "fraud_settings_changed"
    RENEWAL_INVOICED = "renewal_invoiced"
    PAID_SETUP = "paid_setup"
    DAILY_RUN = "daily_run"
    INVOICE_PAYMENT_ADDED = "invoice_payment_added"
    INVOICE_PAID = "invoice_paid"
    INVOICE_REFUND_RECORDED = "invoice_refund_recorded"
    INVOICE_REFUND_REQUESTED = "invoice_refund_requested"
    INVOICE_CAPTURE_REQUESTED = "invoice_capture_requested"
    INVOICE_CANCELLED = "invoice_cancelled"
    INVOICE_MARKED_UNPAID = "invoice_marked_unpaid"
    INVOICE_LINES_EDITED = "invoice_lines_edited"
    CONFIG_OPTIONS_EDITED = "config_options_edited"
    SERVICE_UPGRADED = "service_upgraded"  # an upgrade order's change applied (actions.apply_upgrade)


def jsonable(value):
    """Decimal -> str, datetimes -> ISO 8601, recursively: the details column holds plain JSON."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _add(
    session: Session,
    order_id: int | None,
    actor: Actor,
    verb: Verb,
    from_status: str = "",
    to_status: str = "",
    details: dict | None = None,
) -> OrderEvent:
    event = OrderEvent(
        order_id=order_id,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        verb=verb,
        from_status=from_status or "",
        to_status=to_status or "",
        details=jsonable(details or {}),
        created_at=utcnow(),
    )
    session.add(event)
    # Imported here: actions.hook_events records side effects, whose module imports this one.
    from actions.hook_events import announce

    announce(session, event)  # the event hooks' deliveries, in this same transaction
    return event


def order_placed(session: Session, order: Order, actor: Actor, details: dict | None = None) -> OrderEvent:
    return _add(session, order.id, actor, Verb.ORDER_PLACED, "", order.status, details)


def order_transitioned(
    session, order_id, actor, verb: Verb, from_status, to_status, changes: dict
) -> OrderEvent:
    """Accept, Cancel, Set as Fraud, Set Back to Pending: `verb` is the row's (actions.transitions)."""
    return _add(session, order_id, actor, verb, from_status, to_status, changes)


def order_refund_requested(session, order_id, actor, refunds: list[dict]) -> OrderEvent:
    return _add(session, order_id, actor, Verb.ORDER_REFUND_REQUESTED, details={"refunds": refunds})


def order_deleted(session, order_id, actor, from_status, snapshot: dict) -> OrderEvent:
    return _add(session, order_id, actor, Verb.ORDER_DELETED, from_status, "", {"snapshot": snapshot})


def order_amended(session, order_id, actor, diff: dict) -> OrderEvent:
    """A pending order re-priced (actions.amend_order): {invoice_id, before, after, added, removed}."""
    return _add(session, order_id, actor, Verb.ORDER_AMENDED, details=diff)


def order_status_changed(session, order_id, actor, from_status, to_status) -> OrderEvent:
    return _add(session, order_id, actor, Verb.ORDER_STATUS_CHANGED, from_status, to_status)


def bulk_status_changed_rows(actor: Actor, action: str, to_status: str, where) -> Insert:
    """INSERT ... SELECT: one bulk_status_changed event per order matching `where`, taking the
    from-status from the row; run it before the UPDATE that changes those rows."""
    columns = select(
        Order.id,
        literal(actor.type, String),
        literal(actor.id, Integer),
        literal(actor.name, String),
        literal(Verb.BULK_STATUS_CHANGED.value, String),
        Order.status,
        literal(to_status, String),
        literal({"bulk": True, "action": str(action)}, JSON),
        literal(utcnow(), UTCDateTime),
    ).where(where)
    return insert(OrderEvent).from_select(
        [
            "order_id",
            "actor_type",
            "actor_id",
            "actor_name",
            "verb",
            "from_status",
            "to_status",
            "details",
            "created_at",
        ],
        columns,
    )


def affiliate_assigned(session, order_id, actor, old_affiliate_id, new_affiliate_id) -> OrderEvent:
    return _add(
        session,
        order_id,
        actor,
        Verb.AFFILIATE_ASSIGNED,
        details={"from": old_affiliate_id, "to": new_affiliate_id},
    )


def admin_notes_updated(session, order_id, actor, old: str, new: str) -> OrderEvent:
    return _add(session, order_id, actor, Verb.ADMIN_NOTES_UPDATED, details={"from": old, "to": new})


def payment_method_changed(session, order_id, actor, old: str, new: str, invoice_id) -> OrderEvent:
    return _add(session, order_id, actor, Verb.PAYMENT_METHOD_CHANGED,
                details={"from": old, "to": new, "invoice_id": invoice_id})


def record_edited(session, order_id, actor, record_type: str, record_id: int, changes: dict) -> OrderEvent:
    """An item or invoice of the order changed through its edit form: {field: {from, to}}."""
    return _add(session, order_id, actor, Verb.RECORD_EDITED,
                details={"record": record_type, "record_id": record_id, "changes": changes})


def config_options_edited(session, order_id, actor, service_id: int, options: dict, recurring: dict):
    """A service's configurable options changed: {option name: {from, to}} and its recurring amount."""
    return _add(session, order_id, actor, Verb.CONFIG_OPTIONS_EDITED,
                details={"service_id": service_id, "options": options, "recurring_amount": recurring})


def service_upgraded(session, order_id, actor, details: dict) -> OrderEvent:
    """{service_id, upgrade_id, changes: {field: {from, to}}, credit: {amount, refunded, credited}}."""
    return _add(session, order_id, actor, Verb.SERVICE_UPGRADED, details=details)


def list_exported(session, actor, list_name: str, fmt: str, filters: dict, rows: int) -> OrderEvent:
    """Not about one order: the activity log's own row (order_id NULL)."""
    return _add(session, None, actor, Verb.LIST_EXPORTED,
                details={"list": list_name, "format": fmt, "filters": filters, "rows": rows})


def admin_logged_in(session, actor, ip_address: str, user_agent: str, method: str) -> OrderEvent:
    """`method`: how the login was proven ("password", "password + authenticator app", ...)."""
    return _add(session, None, actor, Verb.ADMIN_LOGGED_IN,
                details={"ip_address": ip_address, "user_agent": user_agent, "method": method})


def admin_login_failed(
    session, actor, email: str, ip_address: str, user_agent: str, reason: str
) -> OrderEvent:
    """`reason` is for the log's reader; the login form itself says only "Invalid email or password"."""
    return _add(session, None, actor, Verb.ADMIN_LOGIN_FAILED,
                details={"email": email, "ip_address": ip_address, "user_agent": user_agent,
                         "reason": reason})


def admin_reauthenticated(session, actor, ip_address: str, method: str) -> OrderEvent:
    return _add(session, None, actor, Verb.ADMIN_REAUTHENTICATED,
                details={"ip_address": ip_address, "method": method})


def two_factor_enabled(session, actor, admin_id: int) -> OrderEvent:
    return _add(session, None, actor, Verb.TWO_FACTOR_ENABLED, details={"admin_id": admin_id})


def two_factor_reset(session, actor, admin_id: int, admin_email: str) -> OrderEvent:
    """Another admin's (or one's own) two-factor turned off: its secret, codes and browsers gone."""
    return _add(session, None, actor, Verb.TWO_FACTOR_RESET,
                details={"admin_id": admin_id, "admin_email": admin_email})
def mass_mail_sent(session, actor, template: str, subject: str, selection: str, recipients: int
                   ) -> OrderEvent:
    """Bulk Send Message from the orders grid: the activity log's row (each message is in the email log)."""
    return _add(session, None, actor, Verb.MASS_MAIL_SENT,
                details={"template": template, "subject": subject, "selection": selection,
                         "recipients": recipients})


def _effect_event(
    session, effect: SideEffect, actor: Actor, verb: Verb, from_status="", to_status="", **more
) -> OrderEvent | None:
    if effect.order_id is None:  # not about an order (nothing to put on a timeline)
        return None
    details = {
        "side_effect_id": effect.id,
        "kind": effect.kind,
        "target_type": effect.target_type,
        "target_id": effect.target_id,
        "attempts": effect.attempts,
        **more,
    }
    return _add(session, effect.order_id, actor, verb, from_status, to_status, details)


def side_effect_succeeded(
    session, effect: SideEffect, actor: Actor, message: str = "", item: dict | None = None
) -> OrderEvent | None:
    """`item`: the item status change the outcome made ({type, id, from, to}), if any."""
    item = item or {}
    return _effect_event(
        session,
        effect,
        actor,
        Verb.SIDE_EFFECT_SUCCEEDED,
        item.get("from", ""),
        item.get("to", ""),
        message=message,
        item=item or None,
    )


def side_effect_failed(
    session, effect: SideEffect, actor: Actor, error: str, retry_at: datetime | None
) -> OrderEvent | None:
    return _effect_event(
        session,
        effect,
        actor,
        Verb.SIDE_EFFECT_FAILED,
        error=error,
        retry_at=retry_at,
        final=retry_at is None,
    )


def side_effect_retried(session, effect: SideEffect, actor: Actor) -> OrderEvent | None:
    return _effect_event(session, effect, actor, Verb.SIDE_EFFECT_RETRIED)


def side_effect_cancelled(session, effect: SideEffect, actor: Actor, reason: str = "") -> OrderEvent | None:
    return _effect_event(session, effect, actor, Verb.SIDE_EFFECT_CANCELLED, reason=reason)


def terminate_requested(session, effect: SideEffect, actor: Actor, reason: str) -> OrderEvent | None:
    """A terminate recorded for an account nobody wants any more (a create that finished after its
    service or order was cancelled, the side-effect audit's --fix)."""
    return _effect_event(session, effect, actor, Verb.TERMINATE_REQUESTED, reason=reason)


def fraud_checked(session, order_id, actor, check_id: int, module: str, verdict: str, score, threshold,
                  error: str) -> OrderEvent:
    """A fraud check ran (at placement or Run Fraud Check); `error` is already redacted."""
    return _add(session, order_id, actor, Verb.FRAUD_CHECKED, details={
        "fraud_check_id": check_id, "module": module, "verdict": verdict, "score": score,
        "threshold": threshold, "error": error})


def fraud_check_skipped(session, order_id, actor, module: str, reason: str) -> OrderEvent:
    return _add(session, order_id, actor, Verb.FRAUD_CHECK_SKIPPED,
                details={"module": module, "reason": reason})


def order_failed_fraud_check(session, order_id, actor, from_status, to_status, changes: dict) -> OrderEvent:
    """Placement over the threshold: the Set as Fraud row applied by the system."""
    return _add(session, order_id, actor, Verb.ORDER_FAILED_FRAUD_CHECK, from_status, to_status, changes)


def fraud_settings_changed(session, actor, module: str, changed: list[str]) -> OrderEvent:
    """Not about one order (order_id NULL); names the fields that changed, never a value."""
    return _add(session, None, actor, Verb.FRAUD_SETTINGS_CHANGED,
                details={"module": module, "changed": changed})
def renewals_invoiced(session: Session, actor: Actor, entries: list[tuple[int, dict]]) -> None:
    """The daily run's renewal invoices, one event per (order, invoice): details {invoice_id,
    due_date, services, domains}. One multi-row INSERT: a run writes thousands."""
    if not entries:
        return
    now = utcnow()
    session.execute(insert(OrderEvent), [
        dict(order_id=order_id, actor_type=actor.type, actor_id=actor.id, actor_name=actor.name,
             verb=Verb.RENEWAL_INVOICED.value, from_status="", to_status="", details=jsonable(details),
             created_at=now)
        for order_id, details in entries
    ])


def paid_setup(session: Session, order_id: int, actor: Actor, details: dict) -> OrderEvent:
    """What paying the order's invoice in full set going: {invoice_id, services: [{id,
    side_effect_id}], domains: [...]} or {invoice_id, left_for_review: why}."""
    return _add(session, order_id, actor, Verb.PAID_SETUP, details=details)


def daily_run(session: Session, actor: Actor, summary: dict) -> OrderEvent:
    """A daily automation run's summary (not about one order: order_id NULL)."""
    return _add(session, None, actor, Verb.DAILY_RUN, details=summary)
