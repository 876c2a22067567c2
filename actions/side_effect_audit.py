"""The orphan check behind `flask --app app audit-side-effects`: items whose state disagrees with
their last successful module call, and the side effects that put them right.

    find_disagreements(session, service_ids=None) -> list[Disagreement]
    compensate(session, disagreement, actor) -> SideEffect | None    (flushes; the caller commits)

Disagreements (services; a terminate already queued or running settles both):
- an account left behind: the service's last successful module call was a create, yet it is
  Cancelled, Fraud or Terminated - the compensation is a terminate that leaves it in that status;
- a live service on an ended order: Active or Suspended while the order is Cancelled or Fraud (a
  status-only bulk change, a custom status change back and forth) - a terminate that ends it in
  the order's status.
The runtime already prevents both where it can (actions.side_effect_outcomes); this finds what
happened before, by hand, or through the status-only changes the product allows.
"""

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from actions import events
from actions.actor import Actor
from actions.locking import lock_order_row
from actions.side_effects import UNFINISHED, request_terminate
from models import Order, OrderStatus, Service, ServiceStatus, SideEffect, SideEffectKind, SideEffectStatus

ENDED_ORDERS = (OrderStatus.CANCELLED, OrderStatus.FRAUD)
LIVE_SERVICES = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED)
GONE_SERVICES = (ServiceStatus.CANCELLED, ServiceStatus.FRAUD, ServiceStatus.TERMINATED)
ACCOUNT_LEFT = "an account was created and never terminated"
LIVE_ON_ENDED_ORDER = "the service is live on an ended order"


@dataclass(frozen=True)
class Disagreement:
    order_id: int
    order_status: str
    service_id: int
    service_status: str
    problem: str
    then_status: str  # where the compensating terminate leaves the service

    def __str__(self) -> str:
        return (
            f"order {self.order_id} ({self.order_status}), service {self.service_id} "
            f"({self.service_status}): {self.problem}; fix: terminate, then {self.then_status}"
        )


def find_disagreements(session: Session, service_ids: list[int] | None = None) -> list[Disagreement]:
    calls = (SideEffectKind.MODULE_CREATE, SideEffectKind.MODULE_TERMINATE)
    last_call = (
        select(SideEffect.target_id.label("service_id"), func.max(SideEffect.id).label("id"))
        .where(
            SideEffect.target_type == "service",
            SideEffect.kind.in_(calls),
            SideEffect.status == SideEffectStatus.SUCCEEDED,
        )
        .group_by(SideEffect.target_id)
        .subquery()
    )
    last = aliased(SideEffect)
    terminate_under_way = exists().where(
        SideEffect.target_type == "service",
        SideEffect.target_id == Service.id,
        SideEffect.kind == SideEffectKind.MODULE_TERMINATE,
        SideEffect.status.in_(UNFINISHED),
    )
    account_left = Service.status.in_(GONE_SERVICES) & (last.kind == SideEffectKind.MODULE_CREATE)
    live_on_ended = Service.status.in_(LIVE_SERVICES) & Order.status.in_(ENDED_ORDERS)
    query = (
        select(Order.id, Order.status, Service.id, Service.status, account_left)
        .join(Order, Service.order_id == Order.id)
        .outerjoin(last_call, last_call.c.service_id == Service.id)
        .outerjoin(last, last.id == last_call.c.id)
        .where(or_(account_left, live_on_ended), ~terminate_under_way)
        .order_by(Order.id, Service.id)
    )
    if service_ids is not None:
        query = query.where(Service.id.in_(service_ids))
    found = []
    for order_id, order_status, service_id, service_status, left in session.execute(query):
        if left:
            found.append(Disagreement(order_id, order_status, service_id, service_status, ACCOUNT_LEFT,
                                      service_status))
        else:
            found.append(Disagreement(order_id, order_status, service_id, service_status,
                                      LIVE_ON_ENDED_ORDER, order_status))
    return found


def compensate(session: Session, disagreement: Disagreement, actor: Actor) -> SideEffect | None:
    """Record the terminate that settles it, under the order's lock, if it still disagrees (None:
    it was settled meanwhile)."""
    lock_order_row(session, disagreement.order_id)
    current = find_disagreements(session, [disagreement.service_id])
    if not current:
        return None
    service = session.get(Service, disagreement.service_id, populate_existing=True)
    effect = request_terminate(session, service, current[0].then_status)
    events.terminate_requested(session, effect, actor, f"audit-side-effects: {current[0].problem}")
    session.flush()
    return effect
