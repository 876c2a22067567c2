"""Running side effects: claiming a row and recording what its attempt achieved.

    start_side_effect(session, effect_id, attempt=None) -> SideEffect | None
        claims a queued row (queued -> running, attempts + 1, started_at) with one conditional
        UPDATE; with `attempt`, only while the row has exactly that many attempts (each RQ job
        runs one attempt, jobs.queueing). None if the row is not there to claim (running
        elsewhere, succeeded, failed, cancelled, or a later attempt's). Commit right after
        claiming, then call the module.
    complete_side_effect(session, effect, result, actor=SYSTEM, attempt=None) -> bool
        `result` is a modules.base.ModuleResult (only .message and .data are read). Applies the
        item-level outcome, marks the row succeeded, writes an order event.
    fail_side_effect(session, effect, error, retry_at=None, actor=SYSTEM, attempt=None) -> bool
        retry_at given: back to queued with next_attempt_at (the caller decides the back-off);
        otherwise final: failed. Items are left as they are (a failed create leaves the service
        Pending). Writes an order event either way.

Both record only for the attempt that owns the row - still running with `attempt` attempts (by
default the attempts the object shows) - and return False, changing nothing, otherwise (the
sweeper gave that attempt up as lost, or the outcome was already recorded). A superseded attempt
whose create succeeded while its row was cancelled meanwhile records a compensating terminate:
nobody else knows that account exists.

Before reading any item they take the order's lock (actions.locking.lock_order_row, the lock
every order action takes), so an outcome and Cancel / Set as Fraud never interleave: either the
action sees the outcome (an Active service gets a terminate) or the outcome sees the action (a
service cancelled while its account was being created gets a terminate).

Outcomes of a successful attempt:
    module_create -> service Active (only from Pending, and only while the order is not Cancelled
        or Fraud; result.data may carry username/password), + the welcome email if the payload
        asked. A service cancelled or set as fraud while its account was being created, or whose
        order was, gets a terminate instead (no account left behind). A create the paid-in-full
        automation recorded (payload on_payment) starts the service's billing from that day
        (actions.paid_setup.start_billing_on_setup).
    module_terminate -> service Cancelled or Fraud (payload then_status)
    module_change_package -> the upgrade order's change applied to its service, once
        (actions.apply_upgrade.upgrade_applied)
    domain_register / domain_transfer -> domain Active
    refund -> a refund Transaction (amount_out, refund_of_id -> the payment, transaction_id from
        result.data["transaction_id"]); a Paid or Cancelled invoice Refunded once every payment is
        refunded (actions.refund_payment.mark_refunded_if_settled)
    email -> email_log row sent (sent_at)
    a service or domain made Active -> the order accepted when auto-accept is on and it is paid
        and set up (actions.paid_setup.accept_if_set_up)
    capture -> a payment Transaction, and the invoice Paid when that settles it
        (actions.attempt_capture.record_capture); a failed capture (retrying or final) writes its
        error on the invoice (record_capture_error) and leaves it as it was
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from actions import events
from actions.actor import SYSTEM, Actor
from actions.addon_transitions import addon_created, addon_superseded_success, addon_terminated
from actions.apply_upgrade import upgrade_applied
from actions.attempt_capture import record_capture, record_capture_error
from actions.locking import lock_order_row
from actions.paid_setup import accept_if_set_up, start_billing_on_setup
from actions.redaction import redact, side_effect_secrets
from actions.refund_payment import mark_refunded_if_settled
from actions.side_effects import change_side_effect, record_welcome_email, request_terminate
from models import (
    Domain,
    DomainStatus,
    EmailLog,
    EmailStatus,
    Invoice,
    Order,
    OrderStatus,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
    utcnow,
)

ENDED_ORDER = (OrderStatus.CANCELLED, OrderStatus.FRAUD)
_RUNNING = (SideEffectStatus.RUNNING,)


def start_side_effect(session: Session, effect_id: int, attempt: int | None = None) -> SideEffect | None:
    rows = SideEffect.__table__.c
    conditions = [rows.id == effect_id, rows.status == SideEffectStatus.QUEUED]
    if attempt is not None:
        conditions.append(rows.attempts == attempt)
    claimed = session.execute(
        update(SideEffect.__table__)
        .where(*conditions)
        .values(
            status=SideEffectStatus.RUNNING,
            attempts=rows.attempts + 1,
            started_at=utcnow(),
            next_attempt_at=None,
        )
    ).rowcount
    if not claimed:
        return None
    return session.get(SideEffect, effect_id, populate_existing=True)


def _lock_items(session: Session, effect: SideEffect) -> None:
    """The order's lock before any item is read: every kind but email touches the order's items."""
    if effect.kind != SideEffectKind.EMAIL and effect.order_id is not None:
        lock_order_row(session, effect.order_id)


def _fresh(session: Session, model, row_id):
    return session.get(model, row_id, populate_existing=True) if row_id else None


def _item_change(kind: str, item, to: str) -> dict | None:
    if item.status == to:
        return None
    change = {"type": kind, "id": item.id, "from": item.status, "to": to}
    item.status = to
    return change


def _take_down(session: Session, service: Service, then_status: str, reason: str) -> None:
    """An account exists that nobody wants any more: terminate it."""
    effect = request_terminate(session, service, then_status)
    events.terminate_requested(session, effect, SYSTEM, reason)


def _created(session: Session, effect: SideEffect, result) -> dict | None:
    service = _fresh(session, Service, effect.target_id)
    if service is None:
        return None
    data = getattr(result, "data", None) or {}
    if data.get("username"):
        service.username = data["username"]
    if data.get("password"):
        service.password = data["password"]
    order = _fresh(session, Order, service.order_id)
    if service.status in (ServiceStatus.CANCELLED, ServiceStatus.FRAUD):
        _take_down(session, service, service.status, f"The service was set {service.status} while its "
                   "account was being created")
        return None
    if service.status != ServiceStatus.PENDING:
        return None
    if order is not None and order.status in ENDED_ORDER:
        _take_down(session, service, order.status, f"The order was set {order.status} while the account "
                   "was being created")
        return None
    change = _item_change("service", service, ServiceStatus.ACTIVE)
    service.registration_date = service.registration_date or utcnow().date()
    if effect.payload.get("on_payment"):
        start_billing_on_setup(service, utcnow().date())
    if effect.payload.get("send_welcome_email"):
        record_welcome_email(session, service, effect.payload.get("welcome_template"))
    return change


def _terminated(session: Session, effect: SideEffect, result) -> dict | None:
    service = _fresh(session, Service, effect.target_id)
    if service is None:
        return None
    return _item_change("service", service, effect.payload.get("then_status", ServiceStatus.CANCELLED))


def _registered(session: Session, effect: SideEffect, result) -> dict | None:
    domain = _fresh(session, Domain, effect.target_id)
    waiting = (DomainStatus.PENDING, DomainStatus.PENDING_REGISTRATION, DomainStatus.PENDING_TRANSFER)
    if domain is None or domain.status not in waiting:
        return None
    domain.registration_date = domain.registration_date or utcnow().date()
    return _item_change("domain", domain, DomainStatus.ACTIVE)


def _refunded(session: Session, effect: SideEffect, result) -> dict | None:
    payment = _fresh(session, Transaction, effect.payload["payment_id"])
    invoice = _fresh(session, Invoice, effect.target_id)
    if payment is None or invoice is None:
        return None
    data = getattr(result, "data", None) or {}
    session.add(
        Transaction(
            client_id=payment.client_id,
            invoice=invoice,
            gateway=payment.gateway,
            date=utcnow(),
            description=f"Refund of {payment.transaction_id or f'payment #{payment.id}'}",
            amount_out=Decimal(str(effect.payload["amount"])),
            refund_of_id=payment.id,
            transaction_id=str(data.get("transaction_id") or data.get("refund_id") or ""),
        )
    )
    session.flush()
    return mark_refunded_if_settled(invoice)


def _emailed(session: Session, effect: SideEffect, result) -> dict | None:
    log = _fresh(session, EmailLog, effect.target_id)
    if log is not None:
        log.status = EmailStatus.SENT
        log.sent_at = utcnow()
        log.error = ""
    return None


_OUTCOMES = {
    SideEffectKind.MODULE_CREATE: _created,
    SideEffectKind.MODULE_TERMINATE: _terminated,
    SideEffectKind.MODULE_CHANGE_PACKAGE: upgrade_applied,  # the upgrade's change, applied once
    SideEffectKind.ADDON_CREATE: addon_created,
    SideEffectKind.ADDON_TERMINATE: addon_terminated,
    SideEffectKind.DOMAIN_REGISTER: _registered,
    SideEffectKind.DOMAIN_TRANSFER: _registered,
    SideEffectKind.REFUND: _refunded,
    SideEffectKind.EMAIL: _emailed,
    SideEffectKind.CAPTURE: record_capture,
    SideEffectKind.HOOK_DELIVERY: lambda session, effect, result: None,  # its log: jobs.run.record_outcome
}


def complete_side_effect(
    session: Session, effect: SideEffect, result, actor: Actor = SYSTEM, attempt: int | None = None
) -> bool:
    attempt = effect.attempts if attempt is None else attempt
    _lock_items(session, effect)
    owned = change_side_effect(
        session,
        effect,
        _RUNNING,
        attempt,
        status=SideEffectStatus.SUCCEEDED,
        finished_at=utcnow(),
        next_attempt_at=None,
        last_error="",
    )
    if not owned:
        _superseded_success(session, effect)
        return False
    item = _OUTCOMES[effect.kind](session, effect, result)
    # A module's message is kept on the timeline: never with a secret it was handed.
    message = redact(getattr(result, "message", "") or "", side_effect_secrets(session, effect))
    events.side_effect_succeeded(session, effect, actor, message, item)
    if item and item.get("type") in ("service", "domain") and item.get("to") == ServiceStatus.ACTIVE:
        accept_if_set_up(session, effect.order_id)  # the last item set up: the optional auto-accept
    session.flush()
    return True


def _superseded_success(session: Session, effect: SideEffect) -> None:
    """This attempt's create succeeded after the sweeper gave it up, and the row was cancelled
    since: the account exists and no later attempt will report it."""
    if effect.status != SideEffectStatus.CANCELLED:
        return
    if effect.kind == SideEffectKind.ADDON_CREATE:
        addon_superseded_success(session, effect)
        session.flush()
    if effect.kind != SideEffectKind.MODULE_CREATE:
        return
    service = _fresh(session, Service, effect.target_id)
    if service is not None:
        _take_down(session, service, service.status, "A create given up as lost succeeded after its "
                   "side effect was cancelled")
        session.flush()


def fail_side_effect(
    session: Session,
    effect: SideEffect,
    error: str,
    retry_at: datetime | None = None,
    actor: Actor = SYSTEM,
    attempt: int | None = None,
) -> bool:
    attempt = effect.attempts if attempt is None else attempt
    _lock_items(session, effect)
    # An error text is shown to admins and mailed to them: never with a secret the call was handed.
    error = redact(error, side_effect_secrets(session, effect))
    if retry_at is not None:
        values = dict(status=SideEffectStatus.QUEUED, next_attempt_at=retry_at)
    else:
        values = dict(status=SideEffectStatus.FAILED, next_attempt_at=None, finished_at=utcnow())
    if not change_side_effect(session, effect, _RUNNING, attempt, last_error=error, **values):
        return False
    if effect.kind == SideEffectKind.CAPTURE:
        record_capture_error(session, effect, error, retry_at)
    if retry_at is None and effect.kind == SideEffectKind.EMAIL:
        log = _fresh(session, EmailLog, effect.target_id)
        if log is not None:
            log.status, log.error = EmailStatus.FAILED, error
    events.side_effect_failed(session, effect, actor, error, retry_at)
    session.flush()
    return True
