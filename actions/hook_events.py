"""Event hooks: which changes are announced, to which endpoints, with what (docs/hooks.md).

    EVENT_TYPES                    the event names an endpoint can subscribe to
    announce(session, event)       called for every timeline event (actions.events): if it is one of
        EVENT_TYPES and active endpoints want it, records one hook_delivery side effect per
        endpoint in the caller's transaction, so the delivery exists exactly when the change does
    announce_orders(session, event_type, order_ids)   the same for a set-based bulk status change
    create_endpoint / update_endpoint / rotate_secret / delete_endpoint   Setup > Event Hooks
    send_test_event(session, endpoint)   a "test.ping" delivery to one endpoint, through the outbox

A delivery's payload is the envelope sent ({id, type, occurred_at, data}), fixed when the change
is recorded: every attempt sends the same bytes with the same event id (at-least-once delivery;
the receiver drops a repeat by its id). `data` holds ids and the public fields of the order, item
and invoice: never a service password, EPP code, card or gateway detail.
"""

import secrets
import uuid

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from actions.errors import ErrorCode, TransitionError
from actions.events import jsonable
from actions.side_effects import new_side_effect, record_side_effect, record_side_effects
from models import (
    Domain,
    HookDelivery,
    HookEndpoint,
    Invoice,
    Order,
    OrderEvent,
    Service,
    ServiceAddon,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    utcnow,
)
from models.bounds import InvalidInput, clean_text
from modules.event_hooks import url_problem

EVENT_TYPES = {
    "order.placed": "Order placed",
    "order.accepted": "Order accepted",
    "order.cancelled": "Order cancelled",
    "order.fraud": "Order set as fraud",
    "order.pending": "Order set back to pending",
    "order.deleted": "Order deleted",
    "order.amended": "Pending order amended",
    "invoice.paid": "Invoice paid",
    "invoice.refunded": "Invoice payment refunded",
    "item.activated": "Service, domain or addon activated",
    "item.terminated": "Service or addon terminated",
    "service.upgraded": "Service upgraded or downgraded (the change applied)",
    "side_effect.failed": "Side effect failed (last try)",
}
TEST_EVENT = "test.ping"
MAX_URL_LENGTH = 2000
# Each event is one delivery per endpoint that wants it: a bound on what one change can fan out to.
MAX_ENDPOINTS = 50
# Orders loaded per SELECT when a bulk change is announced (one IN list each; well under the
# parameter limits of SQLite and PostgreSQL).
ANNOUNCE_BATCH = 1000

# Timeline verbs (actions.events.Verb values) that are an event of their own.
_BY_VERB = {
    "order_placed": "order.placed",
    "order_accepted": "order.accepted",
    "order_cancelled": "order.cancelled",
    "order_set_fraud": "order.fraud",
    "order_failed_fraud_check": "order.fraud",
    "order_set_pending": "order.pending",
    "order_deleted": "order.deleted",
    "order_amended": "order.amended",
    "invoice_paid": "invoice.paid",
    "invoice_refund_recorded": "invoice.refunded",
    "service_upgraded": "service.upgraded",
}
# A set-based bulk change (actions.bulk) names its transition's action.
BY_BULK_ACTION = {"accept": "order.accepted", "cancel": "order.cancelled", "set_fraud": "order.fraud",
                  "set_pending": "order.pending"}
_TERMINATES = (SideEffectKind.MODULE_TERMINATE, SideEffectKind.ADDON_TERMINATE)
_ITEM_MODELS = {"service": Service, "domain": Domain, "addon": ServiceAddon}


class HookEndpointError(ValueError):
    pass


def event_type_of(event: OrderEvent) -> str | None:
    verb, details = str(event.verb), event.details or {}
    if verb in _BY_VERB:
        return _BY_VERB[verb]
    if verb == "side_effect_failed":
        return "side_effect.failed" if details.get("final") else None
    if verb == "side_effect_succeeded":
        item = details.get("item") or {}
        if details.get("kind") == SideEffectKind.REFUND:
            return "invoice.refunded"
        if details.get("kind") in _TERMINATES and item:
            return "item.terminated"
        if item.get("to") == ServiceStatus.ACTIVE:
            return "item.activated"
    return None


def subscribed_endpoints(session: Session, event_type: str) -> list[HookEndpoint]:
    # Without autoflush: asking must not flush the caller's half-built rows (the endpoints are
    # their own table). A handful of rows: filtered here rather than by a JSON query each dialect
    # spells apart.
    with session.no_autoflush:
        endpoints = session.scalars(select(HookEndpoint).where(HookEndpoint.active.is_(True))
                                    .order_by(HookEndpoint.id)).all()
    return [endpoint for endpoint in endpoints if event_type in (endpoint.events or [])]


def announce(session: Session, event: OrderEvent) -> None:
    event_type = event_type_of(event)
    if event_type is None:
        return
    endpoints = subscribed_endpoints(session, event_type)
    if endpoints:
        _record(session, endpoints, event_type, _event_data(session, event, event_type))


def announce_orders(session: Session, event_type: str, order_ids: list[int]) -> None:
    """Set-based like the bulk change: per batch of ANNOUNCE_BATCH orders, one SELECT of the orders,
    one per kind of item, and batched INSERTs of the deliveries, whatever the number of orders."""
    endpoints = subscribed_endpoints(session, event_type)
    for start in range(0, len(order_ids) if endpoints else 0, ANNOUNCE_BATCH):
        orders = session.scalars(
            select(Order).where(Order.id.in_(order_ids[start:start + ANNOUNCE_BATCH])).order_by(Order.id)
            .options(selectinload(Order.services), selectinload(Order.domains), selectinload(Order.addons))
            .execution_options(populate_existing=True)).all()
        record_side_effects(session, [effect for order in orders for effect in
                                      _deliveries(endpoints, event_type, {"order": order_data(order)})])


def _record(session: Session, endpoints: list[HookEndpoint], event_type: str, data: dict) -> None:
    record_side_effects(session, _deliveries(endpoints, event_type, data))


def _deliveries(endpoints: list[HookEndpoint], event_type: str, data: dict) -> list[SideEffect]:
    envelope = {"id": f"evt_{uuid.uuid4().hex}", "type": event_type, "occurred_at": utcnow().isoformat(),
                "data": data}
    return [new_side_effect(kind=SideEffectKind.HOOK_DELIVERY, order_id=None, target_type="hook_endpoint",
                            target_id=endpoint.id, payload=envelope) for endpoint in endpoints]


# --- the payload: ids and public fields only -------------------------------------------------------

_ORDER_FIELDS = ("id", "order_number", "client_id", "date", "status", "amount", "payment_method",
                 "promo_code", "invoice_id", "source")
_SERVICE_FIELDS = ("id", "order_id", "client_id", "product_id", "domain", "billing_cycle",
                   "first_payment_amount", "recurring_amount", "registration_date", "next_due_date", "status")
_DOMAIN_FIELDS = ("id", "order_id", "client_id", "name", "type", "period_years", "registrar",
                  "first_payment_amount", "recurring_amount", "registration_date", "expiry_date",
                  "next_due_date", "status")
_ADDON_FIELDS = ("id", "order_id", "service_id", "client_id", "addon_id", "billing_cycle",
                 "first_payment_amount", "recurring_amount", "registration_date", "next_due_date", "status")
_INVOICE_FIELDS = ("id", "client_id", "date", "due_date", "date_paid", "date_refunded", "status", "subtotal",
                   "credit", "tax", "total", "payment_method")
_ITEM_FIELDS = {"service": _SERVICE_FIELDS, "domain": _DOMAIN_FIELDS, "addon": _ADDON_FIELDS}


def _public(row, fields) -> dict:
    if isinstance(row, dict):
        return jsonable({name: row.get(name) for name in fields})
    return jsonable({name: getattr(row, name) for name in fields})


def order_data(order: Order | None) -> dict | None:
    if order is None:
        return None
    return {**_public(order, _ORDER_FIELDS),
            "services": [_public(s, _SERVICE_FIELDS) for s in order.services],
            "domains": [_public(d, _DOMAIN_FIELDS) for d in order.domains],
            "addons": [_public(a, _ADDON_FIELDS) for a in order.addons]}


def _invoice_data(invoice: Invoice | None) -> dict | None:
    if invoice is None:
        return None
    return {**_public(invoice, _INVOICE_FIELDS), "balance": str(invoice.balance)}


def _event_data(session: Session, event: OrderEvent, event_type: str) -> dict:
    details = event.details or {}
    if event_type == "order.deleted":  # the order is going: what it was, from the delete snapshot
        snapshot = details.get("snapshot") or {}
        return {"order": {**_public(snapshot.get("order") or {}, _ORDER_FIELDS),
                          "services": [_public(s, _SERVICE_FIELDS) for s in snapshot.get("services", [])],
                          "domains": [_public(d, _DOMAIN_FIELDS) for d in snapshot.get("domains", [])],
                          "addons": [_public(a, _ADDON_FIELDS) for a in snapshot.get("addons", [])]}}
    order = session.get(Order, event.order_id) if event.order_id else None
    data: dict = {"order": order_data(order)}
    if event_type.startswith("invoice."):
        invoice_id = details.get("invoice_id") or details.get("target_id")
        data["invoice"] = _invoice_data(session.get(Invoice, invoice_id) if invoice_id else None)
    elif event_type.startswith("item."):
        item = details.get("item") or {}
        model = _ITEM_MODELS.get(item.get("type"))
        row = session.get(model, item.get("id")) if model is not None and item.get("id") else None
        fields = _public(row, _ITEM_FIELDS[item["type"]]) if row is not None else {"id": item.get("id")}
        data["item"] = {"type": item.get("type"), "from": item.get("from"), "to": item.get("to"), **fields}
    elif event_type == "service.upgraded":
        service = session.get(Service, details.get("service_id")) if details.get("service_id") else None
        data["service"] = _public(service, _SERVICE_FIELDS) if service is not None else None
        data["changes"] = details.get("changes") or {}
    elif event_type == "side_effect.failed":
        data["side_effect"] = {name: details.get(name) for name in
                               ("side_effect_id", "kind", "target_type", "target_id", "attempts", "error")}
    return data


# --- Setup > Event Hooks ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    try:
        url = clean_text(url, max_length=MAX_URL_LENGTH, what="The URL", single_line=True).strip()
    except InvalidInput as exc:
        raise HookEndpointError(exc.message) from None
    allowed = (current_app.config.get("HOOK_ALLOWED_NETWORKS") or []) if has_app_context() else []
    problem = url_problem(url, allowed) if url else "Enter the URL to send events to."
    if problem:
        raise HookEndpointError(problem)
    return url


def check_events(events: list[str]) -> list[str]:
    unknown = [name for name in events if name not in EVENT_TYPES]
    if unknown:
        raise HookEndpointError(f"Unknown event {unknown[0][:60]!r}; choose from the list.")
    if not events:
        raise HookEndpointError("Choose at least one event.")
    return [name for name in EVENT_TYPES if name in events]  # in the list's order, once each


def _clean_description(text: str) -> str:
    try:
        return clean_text(text or "", max_length=255, what="The description", single_line=True)
    except InvalidInput as exc:
        raise HookEndpointError(exc.message) from None


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(session: Session, url: str, events: list[str], description: str = "",
                    active: bool = True) -> tuple[HookEndpoint, str]:
    """The new endpoint and its secret (stored encrypted; show it now)."""
    if session.scalar(select(func.count()).select_from(HookEndpoint)) >= MAX_ENDPOINTS:
        raise HookEndpointError(f"At most {MAX_ENDPOINTS} endpoints: delete one you no longer use first.")
    endpoint = HookEndpoint(url=check_url(url), events=check_events(events),
                            description=_clean_description(description), active=active, secret=new_secret())
    session.add(endpoint)
    session.flush()
    return endpoint, endpoint.secret


def update_endpoint(session: Session, endpoint: HookEndpoint, url: str, events: list[str],
                    description: str, active: bool) -> HookEndpoint:
    endpoint.url, endpoint.events = check_url(url), check_events(events)
    endpoint.description, endpoint.active = _clean_description(description), active
    session.flush()
    return endpoint


def rotate_secret(session: Session, endpoint: HookEndpoint) -> str:
    """A new secret: deliveries from now on (queued retries included) are signed with it."""
    endpoint.secret = new_secret()
    session.flush()
    return endpoint.secret


def delete_endpoint(session: Session, endpoint: HookEndpoint) -> None:
    """Its queued deliveries then fail as not runnable; its delivery log stays."""
    session.delete(endpoint)
    session.flush()


def send_test_event(session: Session, endpoint: HookEndpoint):
    if not endpoint.active:
        raise TransitionError(ErrorCode.NOT_ALLOWED, "This endpoint is inactive: activate it to send events")
    envelope = {"id": f"evt_{uuid.uuid4().hex}", "type": TEST_EVENT, "occurred_at": utcnow().isoformat(),
                "data": {"endpoint_id": endpoint.id, "message": "A test event from Orderdesk"}}
    return record_side_effect(session, kind=SideEffectKind.HOOK_DELIVERY, order_id=None,
                              target_type="hook_endpoint", target_id=endpoint.id, payload=envelope)


# --- delivery outcomes (actions.side_effect_outcomes, jobs.run) ------------------------------------


def record_delivery(session: Session, effect, result) -> None:
    """One line of the delivery log, and the endpoint's failure badge, in the outcome's transaction."""
    data = getattr(result, "data", None) or {}
    session.add(HookDelivery(endpoint_id=effect.target_id, side_effect_id=effect.id,
                             event_id=str(effect.payload.get("id", ""))[:64],
                             event_type=str(effect.payload.get("type", ""))[:40], attempt=effect.attempts,
                             succeeded=result.success, status_code=data.get("status_code"),
                             duration_ms=int(data.get("duration_ms") or 0),
                             error="" if result.success else effect.last_error))
    endpoint = session.get(HookEndpoint, effect.target_id) if effect.target_id else None
    if endpoint is None:
        return
    if result.success:
        endpoint.consecutive_failures, endpoint.last_success_at = 0, utcnow()
    else:
        endpoint.consecutive_failures = HookEndpoint.consecutive_failures + 1  # one UPDATE: no lost counts
        endpoint.last_error, endpoint.last_failure_at = effect.last_error, utcnow()
    session.flush()
