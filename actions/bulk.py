"""Bulk actions on the orders list grid (DESIGN.md §4, "Bulk actions").

    bulk_change_status(session, orders, action, actor, new_status=None) -> BulkResult
        orders: a list of order ids (the ticked rows) or a Select of Order.id ("select all N
        matching this filter": the whole filtered set, not just the visible page).
        action: any row of the transition table offered in bulk that is not `removes`
        (Accept, Cancel, Set as Fraud, Set Back to Pending, Change status with new_status).
    bulk_each(session, order_ids, action, actor) -> BulkResult
        rows that run order by order (Delete: each deleted order keeps its own snapshot event).

Status only, as the seed says: no module commands, no side-effect rows, items and invoices
untouched. Each row is checked by the same "Allowed from" rule as the single action (the
transition row's allowed_from); refused rows are reported with the reason.

bulk_change_status is set-based: a fixed number of statements whatever the number of rows -
the refused rows (one SELECT), on PostgreSQL a row lock on the allowed rows (one SELECT ... FOR
UPDATE), the events (one INSERT ... SELECT, taking each row's from-status), the dashboard's daily
counts (two INSERT ... SELECT ... ON CONFLICT: out of the old statuses, into the new) and the change
(one UPDATE ... WHERE id IN (...) AND <allowed>, bumping version so open order pages go stale). If the
INSERT and UPDATE do not agree on the rows (a concurrent change slipped in), the whole bulk is
refused as stale. Objects of the session are expired afterwards. Flushes, never commits.

bulk_each runs the row's use case per order, each in a savepoint, so one refused order does not
stop the others.
"""

import json
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, func, select, update
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.daily_stats import order_count_moves
from actions.hook_events import BY_BULK_ACTION, announce_orders, subscribed_endpoints
from actions.status import order_status_exists
from actions.transitions import ErrorCode, Transition, TransitionError, run_order_action, transition_for
from models import Order
from models.guards import Refusal, RefusalCode


@dataclass
class BulkResult:
    changed: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (order_number, reason)

    @property
    def summary(self) -> str:
        return f"{self.changed} changed, {len(self.refused)} refused"


def _target(session: Session, orders: list[int] | Select):
    """WHERE of the orders to change. Ticked ids travel as one bound value (an array on PostgreSQL,
    a JSON list on SQLite), not one parameter each: every statement of a bulk repeats the target, and
    expanding 10,000 parameters per statement cost more than the statements themselves."""
    if isinstance(orders, Select):
        return Order.id.in_(orders)
    ids = [int(i) for i in orders]
    if session.get_bind().dialect.name == "postgresql":
        return Order.id == any_(bindparam("ticked_ids", ids, type_=ARRAY(Integer)))
    listed = func.json_each(bindparam("ticked_ids", json.dumps(ids))).table_valued("value")
    return Order.id.in_(select(listed.c.value))


def bulk_transition(action: str) -> Transition:
    """The row of `action`, refused when the grid does not offer it."""
    transition = transition_for(action)
    if not transition.bulk:
        raise TransitionError(ErrorCode.NOT_BULK, f"{transition.label} is not available as a bulk action")
    return transition


def _refusal(transition: Transition, status: str) -> Refusal:
    found = transition.allowed_from.refusal(status)
    if found is None and transition.chooses_status:
        found = Refusal(RefusalCode.SAME_STATUS, f"The order is already {status}")
    return found or Refusal(RefusalCode.NOT_ALLOWED, f"Not allowed from {status}")


def bulk_change_status(
    session: Session,
    orders: list[int] | Select,
    action: str,
    actor: Actor,
    new_status: str | None = None,
) -> BulkResult:
    transition = bulk_transition(action)
    if transition.removes:
        raise TransitionError(ErrorCode.NOT_BULK, f"{transition.label} runs order by order (bulk_each)")
    if transition.chooses_status:
        if not new_status or not order_status_exists(session, new_status):
            raise TransitionError(ErrorCode.UNKNOWN_STATUS, f"Unknown order status {new_status!r}")
        to_status = new_status
        allowed = transition.allowed_from.sql() & (Order.status != new_status)
    else:
        to_status = transition.order_to
        allowed = transition.allowed_from.sql()
    session.flush()
    target = _target(session, orders)
    result = BulkResult()
    for number, status in session.execute(
        select(Order.order_number, Order.status).where(target, ~allowed).order_by(Order.id)
    ):
        result.refused.append((number, _refusal(transition, status).message))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Order.id).where(target, allowed).with_for_update()).all()
    hook_event = BY_BULK_ACTION.get(str(transition.action))
    announced = (session.scalars(select(Order.id).where(target, allowed).order_by(Order.id)).all()
                 if hook_event and subscribed_endpoints(session, hook_event) else [])
    events_insert = events.bulk_status_changed_rows(actor, transition.action, to_status, target & allowed)
    inserted = session.execute(events_insert.execution_options(preserve_rowcount=True)).rowcount
    for move in order_count_moves(session, target & allowed, to_status):  # the dashboard's figures
        session.execute(move)
    changed = session.execute(
        update(Order.__table__).where(target, allowed).values(status=to_status, version=Order.version + 1)
    ).rowcount
    if inserted != changed:
        raise TransitionError.stale()
    session.expire_all()
    if announced:
        announce_orders(session, hook_event, announced)
    result.changed = changed
    return result


def bulk_each(session: Session, order_ids: list[int], action: str, actor: Actor) -> BulkResult:
    bulk_transition(action)
    result = BulkResult()
    for order_id in order_ids:
        number = session.scalar(select(Order.order_number).where(Order.id == order_id))
        try:
            with session.begin_nested():
                run_order_action(session, action, order_id, actor)
            result.changed += 1
        except TransitionError as exc:
            result.refused.append((number or order_id, exc.message))
    return result
