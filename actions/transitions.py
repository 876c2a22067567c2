"""The transition table of DESIGN.md §4: the one place that says what each order action does.

Every order action (accept, cancel, cancel & refund, fraud, pending, delete, change status) reads
its row here, and so does every face: the order page's buttons, the list's row and bulk actions and
the API take each action's label, permissions, confirmation and bulk availability from its row and
run it through run_order_action. "Allowed from" is models.guards.ALLOWED_FROM (models/ cannot
import actions/); `Transition.refusal` adds the row's other checks. docs/extending.md says how to
add an action.

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

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.addon_transitions import apply_addon_rule
from actions.errors import STALE_MESSAGE, ErrorCode, TransitionError
from actions.gateways import gateways_can_refund
from actions.locking import lock_order
from actions.side_effects import cancel_if_queued, request_terminate
from models import (
    DomainStatus,
    InvoiceStatus,
    Order,
    OrderStatus,
    Permission,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    utcnow,
)
from models.guards import (
    ALLOWED_FROM,
    AllowedFrom,
    OrderAction,
    Refusal,
    RefusalCode,
    is_pending_like,
    no_unrefunded_payments,
    payments_to_refund,
)

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
    "run_order_action",
    "transition_for",
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


Check = Callable[[Session, Order], Refusal | None]


@dataclass(frozen=True)
class Transition:
    """One row of the table: what the action does, when it may run, and how every face offers it.

    The faces (the order page, the list's row and bulk actions, the API) read `label`,
    `permissions`, `confirm`, `done`, `bulk`, `row_action` and `page_form` from here; adding an
    action is one row here and one use-case module named by `perform`.
    """

    action: str  # OrderAction for the built-in rows; also the URL verb (/order/<action>/)
    label: str
    allowed_from: AllowedFrom
    order_to: str | None  # None: chosen by the admin (change status) or the order is removed (delete)
    # The use case, "module:function", called as f(session, order, actor=..., expected_version=...,
    # **perform_kwargs, **inputs). A string: the verb modules import this table, not the reverse.
    perform: str = ""
    perform_kwargs: dict = field(default_factory=dict)
    permissions: tuple[str, ...] = ()  # every one is needed, on every face
    done: str = ""  # "Order #123 <done>." once it ran
    confirm: str | None = None  # asked before it runs on one order; "{number}": the order #
    checks: tuple[Check, ...] = ()  # guards beyond allowed_from (payments, gateways)
    services: ItemRule | None = None  # None: unchanged (accept handles pending items per option)
    domains: ItemRule | None = None
    invoice: dict[str, str] = field(default_factory=dict)  # invoice status from -> to
    verb: str = ""  # its timeline event (actions.events.Verb); "": delete/change status write their own
    cancels: tuple[str, ...] = ()  # kinds of the order's queued (not yet running) side effects to cancel
    refund: bool = False  # refund side effect per payment; invoice Refunded when they succeed
    removes: bool = False  # the order, its items and its invoice are deleted
    bulk: bool = True  # offered on the list grid: status only (removes: order by order)
    bulk_confirm: str | None = None  # asked before a bulk run
    row_action: bool = False  # offered in each row of the list grid
    icon: str = "fa-cog"  # Font Awesome icon of its row action
    style: str = "btn-outline-secondary"  # its button on the order page
    page_form: str = ""  # "": a plain button; "accept_options" / "status_choice": the page's own form

    @property
    def chooses_status(self) -> bool:
        """The admin picks the new status (Change status)."""
        return self.order_to is None and not self.removes

    def refusal(self, session: Session, order: Order, new_status: str | None = None) -> Refusal | None:
        """None when the action may run on `order` (status rule, then the row's checks)."""
        found = self.allowed_from.refusal(order.status, is_pending_like(order))
        if found is None and self.chooses_status and new_status == order.status:
            found = Refusal(RefusalCode.SAME_STATUS, f"The order is already {order.status}")
        for check in self.checks:
            found = found or check(session, order)
        return found

    def perform_function(self) -> Callable:
        module_name, _, name = self.perform.partition(":")
        return getattr(import_module(module_name), name)


def _row(action: OrderAction, label: str, order_to: str | None, **kw) -> Transition:
    return Transition(action, label, ALLOWED_FROM[action], order_to, **kw)


# Provisioning, and captures of the invoice, no longer wanted once an order is cancelled or set as fraud.
_PROVISIONING = (SideEffectKind.MODULE_CREATE, SideEffectKind.ADDON_CREATE, SideEffectKind.DOMAIN_REGISTER,
                 SideEffectKind.DOMAIN_TRANSFER, SideEffectKind.CAPTURE)

_CANCEL_ITEMS = dict(
    verb=events.Verb.ORDER_CANCELLED,
    cancels=_PROVISIONING,
    services=ItemRule(ServiceStatus.CANCELLED, terminate=LIVE_SERVICES),
    domains=ItemRule(DomainStatus.CANCELLED, keep=frozenset({DomainStatus.ACTIVE})),
    invoice={InvoiceStatus.UNPAID: InvoiceStatus.CANCELLED},
    perform="actions.cancel:cancel_order",
)

# In the order the order page shows the buttons.
TRANSITIONS: dict[str, Transition] = {
    Action.ACCEPT: _row(
        Action.ACCEPT, "Accept Order", OrderStatus.ACTIVE, verb=events.Verb.ORDER_ACCEPTED,
        perform="actions.accept:accept_order", permissions=(Permission.ACCEPT_ORDER,), done="accepted",
        confirm="Accept order #{number}?", bulk_confirm="Accept the selected orders (status only)?",
        row_action=True, icon="fa-check",
        style="btn-success", page_form="accept_options"),
    Action.CANCEL: _row(
        Action.CANCEL, "Cancel Order", OrderStatus.CANCELLED, **_CANCEL_ITEMS,
        permissions=(Permission.CANCEL_ORDER,), done="cancelled", confirm="Cancel order #{number}?",
        bulk_confirm="Cancel the selected orders (status only, no module commands)?", row_action=True,
        icon="fa-ban", style="btn-warning"),
    Action.CANCEL_AND_REFUND: _row(
        Action.CANCEL_AND_REFUND, "Cancel & Refund", OrderStatus.CANCELLED, **_CANCEL_ITEMS,
        perform_kwargs={"refund": True}, refund=True, bulk=False,
        permissions=(Permission.CANCEL_ORDER, Permission.REFUND_INVOICE_PAYMENTS),
        checks=(payments_to_refund, gateways_can_refund), done="cancelled (refunds requested)",
        confirm="Cancel order #{number} and refund its payments?", style="btn-warning"),
    Action.SET_FRAUD: _row(
        Action.SET_FRAUD, "Set as Fraud", OrderStatus.FRAUD, verb=events.Verb.ORDER_SET_FRAUD,
        perform="actions.fraud:set_order_fraud", permissions=(Permission.SET_AS_FRAUD,), done="set as Fraud",
        confirm="Set order #{number} as fraud?",
        bulk_confirm="Set the selected orders as fraud (status only)?", row_action=True,
        icon="fa-user-secret", style="btn-dark",
        cancels=_PROVISIONING,
        services=ItemRule(ServiceStatus.FRAUD, terminate=LIVE_SERVICES),
        domains=ItemRule(DomainStatus.FRAUD, keep=frozenset({DomainStatus.ACTIVE})),
        invoice={InvoiceStatus.UNPAID: InvoiceStatus.CANCELLED},
    ),
    Action.SET_PENDING: _row(
        Action.SET_PENDING, "Set Back to Pending", OrderStatus.PENDING, verb=events.Verb.ORDER_SET_PENDING,
        perform="actions.pending:set_order_pending", permissions=(Permission.SET_BACK_TO_PENDING,),
        done="set back to Pending", confirm="Set order #{number} back to pending?",
        bulk_confirm="Set the selected orders back to pending (status only)?",
        row_action=True, icon="fa-undo", style="btn-secondary",
        cancels=(SideEffectKind.MODULE_TERMINATE, SideEffectKind.ADDON_TERMINATE),  # the admin takes it back
        services=ItemRule(ServiceStatus.PENDING),
        domains=ItemRule(DomainStatus.PENDING),
        invoice={InvoiceStatus.CANCELLED: InvoiceStatus.UNPAID},
    ),
    Action.DELETE: _row(
        Action.DELETE, "Delete Order", None, removes=True, perform="actions.delete:delete_order",
        permissions=(Permission.DELETE_ORDER,), checks=(no_unrefunded_payments,), done="deleted",
        confirm="Delete order #{number} for good, with its items and invoice?",
        bulk_confirm="Delete the selected orders for good?", style="btn-danger"),
    Action.CHANGE_STATUS: _row(
        Action.CHANGE_STATUS, "Change Status", None, perform="actions.status:change_order_status",
        permissions=(Permission.CHANGE_ORDER_STATUS,), done="status changed", page_form="status_choice",
        confirm="Change the status of order #{number}?",
        bulk_confirm="Change the status of the selected orders (status only)?"),
}


def transition_for(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise TransitionError(ErrorCode.NOT_ALLOWED, f"Unknown order action {action!r}") from None


def run_order_action(
    session: Session, action: str, order: Order | int, actor: Actor, expected_version: int | None = None,
    **inputs,
):
    """Any row's use case, the same way from every face (inputs: options=..., new_status=...)."""
    row = transition_for(action)
    return row.perform_function()(
        session, order, actor=actor, expected_version=expected_version, **row.perform_kwargs, **inputs)


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

    Returns what changed, for the event's details: services/domains/addons [{id, from, to}], invoice
    {from, to}, terminate / addon_terminate [side effect ids], cancelled_side_effects [ids]. Ordered
    addons follow the services' rule (actions.addon_transitions).
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
        if order.addons:  # the keys only for orders that have addons
            changes["addons"], changes["addon_terminate"] = apply_addon_rule(session, order, rule)
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
    transition = TRANSITIONS[action]
    found = transition.refusal(session, order)
    if found:
        raise TransitionError.from_refusal(found)
    from_status = order.status
    changes = apply_transition(session, order, transition, actor)
    events.order_transitioned(session, order.id, actor, transition.verb, from_status, order.status, changes)
    session.flush()
    return order
