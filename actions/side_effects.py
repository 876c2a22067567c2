"""Recording side effects (the outbox), and the one way a recorded row changes state.

Contract shared by actions/ and jobs/ (DESIGN.md §5, docs/side-effects.md). Nothing here commits:
the caller does. Running rows and recording their outcomes: actions.side_effect_outcomes.

Recording (inside an action's transaction, committed with the state change):
    record_side_effect(session, *, kind, order_id, target_type, target_id, payload=None) -> SideEffect
        (how many tries a row gets is the app's SIDE_EFFECT_MAX_ATTEMPTS, read by the job)
    new_side_effect(...) / record_side_effects(session, effects)   the same for many rows, one flush
    record_email(session, *, template, to, client_id, order_id, context=None) -> SideEffect
        writes the email_log row now (status queued, subject = template name, body empty; the
        email job renders and fills them), then a side effect of kind "email" whose target is that
        log row and whose payload is {template, email_log_id, client_id, order_id, **context}.
    record_module_create(session, service, *, server_id, send_welcome_email) -> SideEffect
    request_terminate(session, service, then_status) -> SideEffect
        the one place a terminate is recorded: one per service - if one is queued or running
        already, its then_status is updated instead of recording a second.
  The ids recorded in a transaction are in session.info[PENDING_KEY]; the dispatcher in jobs/
  enqueues or runs them after the commit.

Ownership: a row changes state only through change_side_effect, a conditional UPDATE on the row's
current status (and, for a running row, the attempt that claimed it) whose row count is checked.
So a face can never overwrite a row a worker has claimed, a worker never overwrites a row it no
longer owns, and of two sweepers or two admins exactly one moves a row.

Admin (order page, "failed side effects" list):
    retry_side_effect(session, effect, actor) -> SideEffect    failed -> queued, attempts reset
    cancel_side_effect(session, effect, actor, reason="") -> SideEffect   queued/failed -> cancelled
        both raise TransitionError (nothing changed) when the row is no longer in that state.
Order actions: cancel_if_queued(session, effect, actor, reason) -> bool (False: a worker has
claimed it; it runs, and its outcome deals with the item).

Payloads written by actions/:
    module_create     target service  {server_id, username, send_welcome_email, welcome_template}
    module_terminate  target service  {then_status}   service -> then_status when it succeeds
    module_change_package  target service  {upgrade_id}   an upgrade order's change (actions.apply_upgrade)
    domain_register / domain_transfer  target domain  {registrar}
    refund            target invoice  {payment_id, amount, gateway, gateway_transaction_id}
    email             target email_log row  {template, email_log_id, client_id, order_id, ...ids}
    hook_delivery     target hook_endpoint  {id, type, occurred_at, data}: the event as sent
                      (actions.hook_events; no order_id: no order lock, no timeline event)
"""

import secrets
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.errors import ErrorCode, TransitionError
from models import (
    EmailLog,
    EmailStatus,
    Service,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    utcnow,
)

# Session.info key where the dispatcher finds the rows recorded in this transaction.
PENDING_KEY = "orderdesk_side_effects"

DEFAULT_WELCOME_TEMPLATE = "Product Welcome"
UNFINISHED = (SideEffectStatus.QUEUED, SideEffectStatus.RUNNING)


def record_side_effect(
    session: Session,
    *,
    kind: str,
    order_id: int | None,
    target_type: str,
    target_id: int | None,
    payload: dict | None = None,
) -> SideEffect:
    [effect] = record_side_effects(session, [new_side_effect(kind=kind, order_id=order_id,
                                                             target_type=target_type, target_id=target_id,
                                                             payload=payload)])
    return effect


def new_side_effect(*, kind: str, order_id: int | None, target_type: str, target_id: int | None,
                    payload: dict | None = None) -> SideEffect:
    """A queued row, not yet in the session: record_side_effects records many with one flush."""
    return SideEffect(kind=kind, order_id=order_id, target_type=target_type, target_id=target_id,
                      payload=payload or {}, status=SideEffectStatus.QUEUED, attempts=0,
                      idempotency_key=f"{kind}-{uuid.uuid4().hex}")


def record_side_effects(session: Session, effects: list[SideEffect]) -> list[SideEffect]:
    """One flush for all (batched INSERTs, not one per row)."""
    session.add_all(effects)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).extend(effect.id for effect in effects)
    return effects


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


def request_terminate(session: Session, service: Service, then_status: str) -> SideEffect:
    """The server module's terminate for a service, which moves to `then_status` when it succeeds.
    Call it holding the order's lock (actions.locking): a terminate's outcome takes it too, so the
    one found queued or running cannot finish meanwhile."""
    under_way = session.scalar(
        select(SideEffect)
        .where(
            SideEffect.kind == SideEffectKind.MODULE_TERMINATE,
            SideEffect.target_type == "service",
            SideEffect.target_id == service.id,
            SideEffect.status.in_(UNFINISHED),
        )
        .order_by(SideEffect.id.desc())
        .limit(1)
    )
    if under_way is not None and change_side_effect(
        session, under_way, UNFINISHED, payload={**under_way.payload, "then_status": then_status}
    ):
        return under_way
    return record_side_effect(
        session,
        kind=SideEffectKind.MODULE_TERMINATE,
        order_id=service.order_id,
        target_type="service",
        target_id=service.id,
        payload={"then_status": then_status},
    )


# --- the ownership rule ----------------------------------------------------------------------------


def change_side_effect(
    session: Session, effect: SideEffect, from_statuses: tuple[str, ...], attempt: int | None = None,
    **values,
) -> bool:
    """Change the row only if it is still in one of `from_statuses` (and, with `attempt`, still
    has that many attempts): one conditional UPDATE, its row count checked. The object is
    refreshed either way, so the caller sees the row as it now is, whoever changed it."""
    session.flush()  # pending ORM changes first: the refresh below would drop them
    rows = SideEffect.__table__.c
    conditions = [rows.id == effect.id, rows.status.in_(from_statuses)]
    if attempt is not None:
        conditions.append(rows.attempts == attempt)
    changed = session.execute(update(SideEffect.__table__).where(*conditions).values(**values)).rowcount
    session.refresh(effect)
    return changed == 1


def retry_side_effect(session: Session, effect: SideEffect, actor: Actor) -> SideEffect:
    retried = change_side_effect(
        session,
        effect,
        (SideEffectStatus.FAILED,),
        status=SideEffectStatus.QUEUED,
        attempts=0,
        next_attempt_at=None,
        finished_at=None,
    )
    if not retried:
        raise TransitionError(
            ErrorCode.NOT_ALLOWED, f"Only failed side effects can be retried; this one is {effect.status}"
        )
    events.side_effect_retried(session, effect, actor)
    session.info.setdefault(PENDING_KEY, []).append(effect.id)
    return effect


def _cancel(session: Session, effect: SideEffect, from_statuses: tuple[str, ...], actor: Actor,
            reason: str) -> bool:
    if not change_side_effect(
        session, effect, from_statuses, status=SideEffectStatus.CANCELLED, finished_at=utcnow()
    ):
        return False
    events.side_effect_cancelled(session, effect, actor, reason)
    return True


def cancel_side_effect(session: Session, effect: SideEffect, actor: Actor, reason: str = "") -> SideEffect:
    if not _cancel(session, effect, (SideEffectStatus.QUEUED, SideEffectStatus.FAILED), actor, reason):
        raise TransitionError(ErrorCode.NOT_ALLOWED, f"A {effect.status} side effect cannot be cancelled")
    return effect


def cancel_if_queued(session: Session, effect: SideEffect, actor: Actor, reason: str) -> bool:
    """Cancel a row no worker has claimed; False when one has (it is running now)."""
    return _cancel(session, effect, (SideEffectStatus.QUEUED,), actor, reason)
