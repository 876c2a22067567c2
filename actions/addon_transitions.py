"""Ordered addons in the transition table, accept and the side-effect outcomes.

Addons follow their order's row exactly like services (actions.transitions.ItemRule): a live
(Active / Suspended) addon whose addon has a module gets an addon_terminate and moves when it
succeeds; one without a module has nothing to run and moves now. Accept: a Pending addon gets its
module create (the default from its auto-setup rule, like a service's) and stays Pending until it
succeeds, or is Active now. Called with the order's lock held (actions.locking).
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from actions import events
from actions.actor import SYSTEM
from actions.addon_items import (
    default_run_module_create,
    has_module,
    record_addon_create,
    record_addon_welcome_email,
    request_addon_terminate,
)
from models import Order, OrderStatus, ServiceAddon, ServiceStatus, SideEffect, utcnow

ENDED_ORDER = (OrderStatus.CANCELLED, OrderStatus.FRAUD)


@dataclass
class AddonAcceptOptions:
    run_module_create: bool | None = None  # None: from the addon's auto-setup rule
    send_welcome_email: bool | None = None  # None: yes (when the addon has a welcome email)


def apply_addon_rule(session: Session, order: Order, rule) -> tuple[list[dict], list[int]]:
    """(status changes, terminate side-effect ids) of the order's addons under an ItemRule."""
    moved, terminate = [], []
    for item in order.addons:
        if item.status in rule.terminate and has_module(item):
            terminate.append(request_addon_terminate(session, item, rule.to).id)
        elif item.status not in rule.keep and item.status != rule.to:
            moved.append({"id": item.id, "from": item.status, "to": rule.to})
            item.status = rule.to
    return moved, terminate


def accept_addons(session: Session, order: Order, options: dict[int, AddonAcceptOptions]) -> list[dict]:
    changes = []
    for item in order.addons:
        if item.status != ServiceStatus.PENDING:
            continue
        opt = options.get(item.id) or AddonAcceptOptions()
        create = opt.run_module_create
        if create is None:
            create = default_run_module_create(session, item)
        create = create and has_module(item)  # nothing to run without a module
        welcome = True if opt.send_welcome_email is None else opt.send_welcome_email
        change = {"id": item.id, "from": item.status, "run_module_create": create,
                  "send_welcome_email": welcome}
        if create:
            change["side_effect_id"] = record_addon_create(session, item, send_welcome_email=welcome).id
        else:
            item.status = ServiceStatus.ACTIVE
            item.registration_date = item.registration_date or utcnow().date()
            if welcome:
                record_addon_welcome_email(session, item)
        change["to"] = item.status
        changes.append(change)
    return changes


# --- outcomes of the addon's module commands (actions.side_effect_outcomes) -----------------------


def _fresh(session: Session, effect: SideEffect) -> ServiceAddon | None:
    return session.get(ServiceAddon, effect.target_id, populate_existing=True) if effect.target_id else None


def _take_down(session: Session, item: ServiceAddon, then_status: str, reason: str) -> None:
    events.terminate_requested(session, request_addon_terminate(session, item, then_status), SYSTEM, reason)


def addon_created(session: Session, effect: SideEffect, result) -> dict | None:
    item = _fresh(session, effect)
    if item is None:
        return None
    if item.status in (ServiceStatus.CANCELLED, ServiceStatus.FRAUD):
        _take_down(session, item, item.status, f"The addon was set {item.status} while it was being set up")
        return None
    if item.status != ServiceStatus.PENDING:
        return None
    order = session.get(Order, item.order_id) if item.order_id else None
    if order is not None and order.status in ENDED_ORDER:
        _take_down(session, item, order.status, f"The order was set {order.status} while the addon was "
                   "being set up")
        return None
    change = {"type": "addon", "id": item.id, "from": item.status, "to": ServiceStatus.ACTIVE}
    item.status = ServiceStatus.ACTIVE
    item.registration_date = item.registration_date or utcnow().date()
    if effect.payload.get("send_welcome_email"):
        record_addon_welcome_email(session, item, effect.payload.get("welcome_template"))
    return change


def addon_terminated(session: Session, effect: SideEffect, result) -> dict | None:
    item = _fresh(session, effect)
    to = effect.payload.get("then_status", ServiceStatus.CANCELLED)
    if item is None or item.status == to:
        return None
    change = {"type": "addon", "id": item.id, "from": item.status, "to": to}
    item.status = to
    return change


def addon_superseded_success(session: Session, effect: SideEffect) -> None:
    """A create given up as lost succeeded after its row was cancelled: the addon exists."""
    item = _fresh(session, effect)
    if item is not None:
        _take_down(session, item, item.status, "A create given up as lost succeeded after its side effect "
                   "was cancelled")
