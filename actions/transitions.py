"""The transition table of DESIGN.md §4: the one place that says what each order action does.

Every order action (accept, cancel, cancel & refund, fraud, pending, delete, change status) reads
its row here. "Allowed from" is models.guards.ALLOWED_FROM (models/ cannot import actions/, and
the admin page needs the guards too); the row's other columns are below.

Errors: every refusal is a TransitionError with a stable `code` (ErrorCode) and a human `message`.
A refusal is raised BEFORE anything changes; the caller rolls back its session (harmless when
nothing was written, required when a stale write was detected during flush).

Transaction rule, everywhere in actions/: actions change the session and flush, they never
commit. The face (admin view, API, CLI, job) commits, and after the commit the dispatcher runs the
side effects the action recorded (session.info[actions.side_effects.PENDING_KEY]).

Concurrency: every single-order action starts with actions.locking.lock_order (SELECT ... FOR
UPDATE on PostgreSQL + the version check), so of two simultaneous actions exactly one applies and
the other gets TransitionError("stale", STALE_MESSAGE) with nothing changed.

Decisions where DESIGN.md §4 is silent:
- "Others" in Cancel / Set as Fraud means every service that is not Active or Suspended; items
  already in the target status are left alone (no event line for them).
- Cancel and Set as Fraud cancel the order's queued (not yet running) create / register / transfer
  side effects, each with a conditional update (actions.side_effects.cancel_if_queued): a row a
  worker claimed meanwhile is left running, never overwritten - its service is cancelled now with
  the others, and the create's outcome, which waits for this action's lock, then records a
  terminate (actions.side_effect_outcomes). A service with a terminate already queued or running
  gets no second one: the pending one's then_status is updated (request_terminate).
- Set Back to Pending cancels queued (not yet running) terminates.
- Delete is also refused while side effects of the order are queued or running; it keeps the
  order's payments and refunds (transactions), detached from the deleted invoice.
- Change status to the order's current status is refused (same_status).
- Bulk: Accept, Cancel, Set as Fraud, Set Back to Pending and Change status are set-based and
  status-only; Delete runs per order (it needs each snapshot); Cancel & Refund is not a bulk action.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.errors import STALE_MESSAGE, ErrorCode, TransitionError
from actions.locking import lock_order
from actions.side_effects import cancel_if_queued, request_terminate
from models import (
    DomainStatus,
    InvoiceStatus,
    Order,
    OrderStatus,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    utcnow,
)
from models.guards import ALLOWED_FROM, AllowedFrom, OrderAction, refusal

Action = OrderAction  # the actions/ name for the same vocabulary

__all__ = [
    "Action",
    "ErrorCode",
    "ItemRule",
    "STALE_MESSAGE",
    "TRANSITIONS",
    "Transition",
    "TransitionError",
    "apply_transition",
    "transition_order",
    "unfinished_side_effects",
]

LIVE_SERVICES = frozenset({ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED})


@dataclass(frozen=True)
class ItemRule:
    """Items move to `to` now, except those in `keep` (left alone) and those in `terminate`
    (services: a terminate side effect is recorded and they move to `to` when it succeeds)."""

    to: str
    keep: frozenset[str] = frozenset()
    terminate: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Transition:
    action: OrderAction
    label: str
    allowed_from: AllowedFrom
    order_to: str | None  # None: chosen by the admin (change status) or the order is removed (delete)
    services: ItemRule | None = None  # None: unchanged (accept handles pending items per option)
    domains: ItemRule | None = None
    invoice: dict[str, str] = field(default_factory=dict)  # invoice status from -> to
    verb: str = ""  # its timeline event (actions.events.Verb); "": delete/change status write their own
    cancels: tuple[str, ...] = ()  # kinds of the order's queued (not yet running) side effects to cancel
    refund: bool = False  # refund side effect per payment; invoice Refunded when they succeed
    removes: bool = False  # the order, its items and its invoice are deleted
    bulk: bool = True  # available as a status-only bulk change on the list grid


def _row(action: OrderAction, label: str, order_to: str | None, **kw) -> Transition:
    return Transition(action, label, ALLOWED_FROM[action], order_to, **kw)


# Provisioning no longer wanted once an order is cancelled or set as fraud.
_PROVISIONING = (SideEffectKind.MODULE_CREATE, SideEffectKind.DOMAIN_REGISTER, SideEffectKind.DOMAIN_TRANSFER)

_CANCEL_ITEMS = dict(
    verb=events.Verb.ORDER_CANCELLED,
    cancels=_PROVISIONING,
    services=ItemRule(ServiceStatus.CANCELLED, terminate=LIVE_SERVICES),
    domains=ItemRule(DomainStatus.CANCELLED, keep=frozenset({DomainStatus.ACTIVE})),
    invoice={InvoiceStatus.UNPAID: InvoiceStatus.CANCELLED},
)

TRANSITIONS: dict[OrderAction, Transition] = {
    Action.ACCEPT: _row(Action.ACCEPT, "Accept Order", OrderStatus.ACTIVE, verb=events.Verb.ORDER_ACCEPTED),
    Action.CANCEL: _row(Action.CANCEL, "Cancel Order", OrderStatus.CANCELLED, **_CANCEL_ITEMS),
    Action.CANCEL_AND_REFUND: _row(
        Action.CANCEL_AND_REFUND,
        "Cancel & Refund",
        OrderStatus.CANCELLED,
        refund=True,
        bulk=False,
        **_CANCEL_ITEMS,
    ),
    Action.SET_FRAUD: _row(
        Action.SET_FRAUD,
        "Set as Fraud",
        OrderStatus.FRAUD,
        verb=events.Verb.ORDER_SET_FRAUD,
        cancels=_PROVISIONING,
        services=ItemRule(ServiceStatus.FRAUD, terminate=LIVE_SERVICES),
        domains=ItemRule(DomainStatus.FRAUD, keep=frozenset({DomainStatus.ACTIVE})),
        invoice={InvoiceStatus.UNPAID: InvoiceStatus.CANCELLED},
    ),
    Action.SET_PENDING: _row(
        Action.SET_PENDING,
        "Set Back to Pending",
        OrderStatus.PENDING,
        verb=events.Verb.ORDER_SET_PENDING,
        cancels=(SideEffectKind.MODULE_TERMINATE,),  # the admin takes the order back
        services=ItemRule(ServiceStatus.PENDING),
        domains=ItemRule(DomainStatus.PENDING),
        invoice={InvoiceStatus.CANCELLED: InvoiceStatus.UNPAID},
    ),
    Action.DELETE: _row(Action.DELETE, "Delete Order", None, removes=True),
    Action.CHANGE_STATUS: _row(Action.CHANGE_STATUS, "Change Status", None),
}


def unfinished_side_effects(session: Session, order_id: int) -> list[SideEffect]:
    return list(
        session.scalars(
            select(SideEffect)
            .where(
                SideEffect.order_id == order_id,
                SideEffect.status.in_([SideEffectStatus.QUEUED, SideEffectStatus.RUNNING]),
            )
            .order_by(SideEffect.id)
        )
    )


def apply_transition(session: Session, order: Order, transition: Transition, actor: Actor) -> dict:
    """Apply the order, item and invoice columns of a row to a locked order whose guard passed.

    Returns what changed, for the event's details: services/domains [{id, from, to}], invoice
    {from, to}, terminate [side effect ids], cancelled_side_effects [ids].
    """
    changes: dict = {
        "services": [],
        "domains": [],
        "invoice": None,
        "terminate": [],
        "cancelled_side_effects": [],
    }
    for effect in unfinished_side_effects(session, order.id):
        if effect.kind in transition.cancels and effect.status == SideEffectStatus.QUEUED:
            if cancel_if_queued(session, effect, actor, f"Order: {transition.label}"):
                changes["cancelled_side_effects"].append(effect.id)

    rule = transition.services
    if rule:
        for service in order.services:
            if service.status in rule.terminate:
                changes["terminate"].append(request_terminate(session, service, rule.to).id)
            elif service.status not in rule.keep and service.status != rule.to:
                changes["services"].append({"id": service.id, "from": service.status, "to": rule.to})
                service.status = rule.to
    rule = transition.domains
    if rule:
        for domain in order.domains:
            if domain.status not in rule.keep and domain.status != rule.to:
                changes["domains"].append({"id": domain.id, "from": domain.status, "to": rule.to})
                domain.status = rule.to
    invoice = order.invoice
    if invoice is not None and invoice.status in transition.invoice:
        to = transition.invoice[invoice.status]
        changes["invoice"] = {"id": invoice.id, "from": invoice.status, "to": to}
        invoice.status = to
        invoice.date_cancelled = utcnow() if to == InvoiceStatus.CANCELLED else None
    if transition.order_to is not None:
        order.status = transition.order_to
    return changes


def transition_order(
    session: Session, order: Order | int, action: OrderAction, actor: Actor, expected_version: int | None
) -> Order:
    """A whole table-driven action (Set as Fraud, Set Back to Pending): lock, guard, apply, event.
    Wrap the caller in actions.locking.order_action."""
    order = lock_order(session, order, expected_version)
    found = refusal(order, action)
    if found:
        raise TransitionError.from_refusal(found)
    transition = TRANSITIONS[action]
    from_status = order.status
    changes = apply_transition(session, order, transition, actor)
    events.order_transitioned(session, order.id, actor, transition.verb, from_status, order.status, changes)
    session.flush()
    return order
