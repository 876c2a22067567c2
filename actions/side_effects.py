"""Recording side effects (the outbox) and recording their outcomes.

Contract shared by actions/ and jobs/ (DESIGN.md §5). Nothing here commits: the caller does.

Recording (inside an action's transaction, committed with the state change):
    record_side_effect(session, *, kind, order_id, target_type, target_id, payload=None) -> SideEffect
        (how many tries a row gets is the app's SIDE_EFFECT_MAX_ATTEMPTS, read by the job)
    record_email(session, *, template, to, client_id, order_id, context=None) -> SideEffect
        writes the email_log row now (status queued, subject = template name, body empty; the
        email job renders and fills them), then a side effect of kind "email" whose target is that
        log row and whose payload is {template, email_log_id, client_id, order_id, **context}.
  The ids recorded in a transaction are in session.info[PENDING_KEY]; the dispatcher in jobs/
  enqueues or runs them after the commit.

Running (jobs/):
    start_side_effect(session, effect_id) -> SideEffect | None
        claims a queued row (queued -> running, attempts + 1, started_at) with one conditional
        UPDATE; None if the row is not queued (already running elsewhere, succeeded, failed or
        cancelled). Commit right after claiming, then call the module.
    complete_side_effect(session, effect, result, actor=SYSTEM) -> SideEffect
        `result` is a modules.base.ModuleResult (only .message and .data are read). Applies the
        item-level outcome, marks the row succeeded, writes an order event. Idempotent.
    fail_side_effect(session, effect, error, retry_at=None, actor=SYSTEM) -> SideEffect
        retry_at given: back to queued with next_attempt_at (the job decides the back-off);
        otherwise final: failed. Items are left as they are (a failed create leaves the service
        Pending). Writes an order event either way.

Admin (order page, "failed side effects" list):
    retry_side_effect(session, effect, actor) -> SideEffect    failed -> queued, attempts reset
    cancel_side_effect(session, effect, actor, reason="") -> SideEffect   queued/failed -> cancelled

Payloads written by actions/:
    module_create     target service  {server_id, username, send_welcome_email, welcome_template}
    module_terminate  target service  {then_status}   service -> then_status when it succeeds
    domain_register / domain_transfer  target domain  {registrar}
    refund            target invoice  {payment_id, amount, gateway, gateway_transaction_id}
    email             target email_log row  {template, email_log_id, client_id, order_id, ...ids}

Outcomes applied by complete_side_effect:
    module_create ok -> service Active (only from Pending; result.data may carry username/password),
        + the welcome email if the payload asked. If the service was cancelled or set as fraud while
        the create ran, it is left so and a terminate is recorded (no account left behind).
    module_terminate ok -> service Cancelled or Fraud (payload then_status)
    domain_register / domain_transfer ok -> domain Active
    refund ok -> a refund Transaction (amount_out, refund_of_id -> the payment, transaction_id from
        result.data["transaction_id"]); invoice Refunded once every payment is refunded
    email ok -> email_log row sent (sent_at)
    capture -> the row only (invoice payment recording belongs to the invoice actions)
"""

import secrets
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from actions import events
from actions.actor import SYSTEM, Actor
from actions.errors import ErrorCode, TransitionError
from actions.redaction import redact, side_effect_secrets
from models import (
    Domain,
    DomainStatus,
    EmailLog,
    EmailStatus,
    Invoice,
    InvoiceStatus,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
    utcnow,
)
from models.guards import refundable_payments

# Session.info key where the dispatcher finds the rows recorded in this transaction.
PENDING_KEY = "orderdesk_side_effects"

DEFAULT_WELCOME_TEMPLATE = "Product Welcome"


def record_side_effect(
    session: Session,
    *,
    kind: str,
    order_id: int | None,
    target_type: str,
    target_id: int | None,
    payload: dict | None = None,
) -> SideEffect:
    effect = SideEffect(
        kind=kind,
        order_id=order_id,
        target_type=target_type,
        target_id=target_id,
        payload=payload or {},
        status=SideEffectStatus.QUEUED,
        attempts=0,
        idempotency_key=f"{kind}-{uuid.uuid4().hex}",
    )
    session.add(effect)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(effect.id)
    return effect


def record_email(
    session: Session,
    *,
    template: str,
    to: str,
    client_id: int | None,
    order_id: int | None,
    context: dict | None = None,
) -> SideEffect:
    log = EmailLog(
        client_id=client_id,
        order_id=order_id,
        template=template,
        to=to,
        subject=template,
        body="",
        status=EmailStatus.QUEUED,
    )
    session.add(log)
    session.flush()
    payload = {
        "template": template,
        "email_log_id": log.id,
        "client_id": client_id,
        "order_id": order_id,
        **(context or {}),
    }
    return record_side_effect(
        session,
        kind=SideEffectKind.EMAIL,
        order_id=order_id,
        target_type="email",
        target_id=log.id,
        payload=payload,
    )


def record_welcome_email(session: Session, service: Service, template: str | None = None) -> SideEffect:
    template = template or service.product.welcome_email or DEFAULT_WELCOME_TEMPLATE
    return record_email(
        session,
        template=template,
        to=service.client.email,
        client_id=service.client_id,
        order_id=service.order_id,
        context={"service_id": service.id},
    )


def new_password() -> str:
    return secrets.token_urlsafe(12)


def username_for(service: Service) -> str:
    stem = "".join(c for c in service.domain.split(".")[0].lower() if c.isalnum())[:8] or "user"
    if not stem[0].isalpha():
        stem = "u" + stem[:7]
    return f"{stem}{service.id}"


def record_module_create(
    session: Session, service: Service, *, server_id: int | None, send_welcome_email: bool,
) -> SideEffect:
    """The server module's create for a service (on accept, or right after an on_order placement).

    Username and password are chosen here, once, and kept on the service, so a retried create
    reuses them (DESIGN.md §5). The service stays Pending until the create succeeds.
    """
    service.username = service.username or username_for(service)
    service.password = service.password or new_password()
    return record_side_effect(
        session,
        kind=SideEffectKind.MODULE_CREATE,
        order_id=service.order_id,
        target_type="service",
        target_id=service.id,
        payload={
            "server_id": server_id,
            "username": service.username,
            "send_welcome_email": send_welcome_email,
            "welcome_template": service.product.welcome_email or None,
        },
    )


# --- running -------------------------------------------------------------------------------------


def start_side_effect(session: Session, effect_id: int) -> SideEffect | None:
    rows = SideEffect.__table__.c
    claimed = session.execute(
        update(SideEffect.__table__)
        .where(rows.id == effect_id, rows.status == SideEffectStatus.QUEUED)
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


def _item_change(kind: str, item, to: str) -> dict | None:
    if item.status == to:
        return None
    change = {"type": kind, "id": item.id, "from": item.status, "to": to}
    item.status = to
    return change


def _created(session: Session, effect: SideEffect, result) -> dict | None:
    service = session.get(Service, effect.target_id)
    if service is None:
        return None
    data = getattr(result, "data", None) or {}
    if data.get("username"):
        service.username = data["username"]
    if data.get("password"):
        service.password = data["password"]
    if service.status in (ServiceStatus.CANCELLED, ServiceStatus.FRAUD):
        # Cancelled while the account was being created: take it down again.
        record_side_effect(
            session,
            kind=SideEffectKind.MODULE_TERMINATE,
            order_id=service.order_id,
            target_type="service",
            target_id=service.id,
            payload={"then_status": service.status},
        )
        return None
    if service.status != ServiceStatus.PENDING:
        return None
    change = _item_change("service", service, ServiceStatus.ACTIVE)
    service.registration_date = service.registration_date or utcnow().date()
    if effect.payload.get("send_welcome_email"):
        record_welcome_email(session, service, effect.payload.get("welcome_template"))
    return change


def _terminated(session: Session, effect: SideEffect, result) -> dict | None:
    service = session.get(Service, effect.target_id)
    if service is None:
        return None
    return _item_change("service", service, effect.payload.get("then_status", ServiceStatus.CANCELLED))


def _registered(session: Session, effect: SideEffect, result) -> dict | None:
    domain = session.get(Domain, effect.target_id)
    waiting = (DomainStatus.PENDING, DomainStatus.PENDING_REGISTRATION, DomainStatus.PENDING_TRANSFER)
    if domain is None or domain.status not in waiting:
        return None
    domain.registration_date = domain.registration_date or utcnow().date()
    return _item_change("domain", domain, DomainStatus.ACTIVE)


def _refunded(session: Session, effect: SideEffect, result) -> dict | None:
    payment = session.get(Transaction, effect.payload["payment_id"])
    invoice = session.get(Invoice, effect.target_id)
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
    if refundable_payments(invoice):
        return None
    invoice.date_refunded = utcnow()
    return _item_change("invoice", invoice, InvoiceStatus.REFUNDED)


def _emailed(session: Session, effect: SideEffect, result) -> dict | None:
    log = session.get(EmailLog, effect.target_id)
    if log is not None:
        log.status = EmailStatus.SENT
        log.sent_at = utcnow()
        log.error = ""
    return None


_OUTCOMES = {
    SideEffectKind.MODULE_CREATE: _created,
    SideEffectKind.MODULE_TERMINATE: _terminated,
    SideEffectKind.DOMAIN_REGISTER: _registered,
    SideEffectKind.DOMAIN_TRANSFER: _registered,
    SideEffectKind.REFUND: _refunded,
    SideEffectKind.EMAIL: _emailed,
    SideEffectKind.CAPTURE: lambda session, effect, result: None,
}


def complete_side_effect(session: Session, effect: SideEffect, result, actor: Actor = SYSTEM) -> SideEffect:
    if effect.status == SideEffectStatus.SUCCEEDED:
        return effect
    item = _OUTCOMES[effect.kind](session, effect, result)
    effect.status = SideEffectStatus.SUCCEEDED
    effect.finished_at = utcnow()
    effect.next_attempt_at = None
    effect.last_error = ""
    # A module's message is kept on the timeline: never with a secret it was handed.
    message = redact(getattr(result, "message", ""), side_effect_secrets(session, effect))
    events.side_effect_succeeded(session, effect, actor, message, item)
    session.flush()
    return effect


def fail_side_effect(
    session: Session, effect: SideEffect, error: str, retry_at: datetime | None = None, actor: Actor = SYSTEM
) -> SideEffect:
    # An error text is shown to admins and mailed to them: never with a secret the call was handed.
    error = redact(error, side_effect_secrets(session, effect))
    effect.last_error = error
    if retry_at is not None:
        effect.status = SideEffectStatus.QUEUED
        effect.next_attempt_at = retry_at
    else:
        effect.status = SideEffectStatus.FAILED
        effect.next_attempt_at = None
        effect.finished_at = utcnow()
        if effect.kind == SideEffectKind.EMAIL:
            log = session.get(EmailLog, effect.target_id)
            if log is not None:
                log.status, log.error = EmailStatus.FAILED, error
    events.side_effect_failed(session, effect, actor, error, retry_at)
    session.flush()
    return effect


def retry_side_effect(session: Session, effect: SideEffect, actor: Actor) -> SideEffect:
    if effect.status != SideEffectStatus.FAILED:
        raise TransitionError(
            ErrorCode.NOT_ALLOWED, f"Only failed side effects can be retried; this one is {effect.status}"
        )
    effect.status = SideEffectStatus.QUEUED
    effect.attempts = 0
    effect.next_attempt_at = None
    effect.finished_at = None
    events.side_effect_retried(session, effect, actor)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(effect.id)
    return effect


def cancel_side_effect(session: Session, effect: SideEffect, actor: Actor, reason: str = "") -> SideEffect:
    if effect.status not in (SideEffectStatus.QUEUED, SideEffectStatus.FAILED):
        raise TransitionError(ErrorCode.NOT_ALLOWED, f"A {effect.status} side effect cannot be cancelled")
    effect.status = SideEffectStatus.CANCELLED
    effect.finished_at = utcnow()
    events.side_effect_cancelled(session, effect, actor, reason)
    session.flush()
    return effect
