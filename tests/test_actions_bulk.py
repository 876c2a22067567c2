"""Bulk status changes from the list grid: status only, guarded per row, set-based SQL."""


import pytest
from sqlalchemy import Integer, String, case, func, literal, select
from sqlalchemy.orm import aliased

from actions.actor import Actor
from actions.bulk import bulk_change_status, bulk_each
from actions.transitions import Action, TransitionError
from models import Order, OrderEvent, OrderStatusDefinition, SideEffect, utcnow
from models.base import UTCDateTime
from tests.factories import make_client, make_order
from tests.sql_support import recorded_statements
from tests.test_transitions import table_snapshot

ADMIN = Actor("admin", 5, "Bulk Admin")


def test_bulk_cancel_changes_status_only_and_reports_refusals(session):
    active = make_order(
        status="Active", services=["Active", "Pending"], domains=["Pending"], invoice_status="Unpaid"
    )
    pending = make_order(status="Pending", services=["Pending"], invoice_status="Unpaid")
    already = make_order(status="Cancelled")
    versions = {o.id: o.version for o in (active, pending, already)}
    ids = [active.id, pending.id, already.id]
    session.commit()

    result = bulk_change_status(session, ids, Action.CANCEL, ADMIN)
    assert result.changed == 2
    assert result.refused == [(already.order_number, "The order is already Cancelled")]
    assert result.summary == "2 changed, 1 refused"
    session.commit()
    assert [session.get(Order, i).status for i in ids] == ["Cancelled", "Cancelled", "Cancelled"]
    assert [s.status for s in active.services] == ["Active", "Pending"] and active.domains[
        0
    ].status == "Pending"
    assert active.invoice.status == "Unpaid" and pending.invoice.status == "Unpaid"
    assert session.scalar(select(func.count()).select_from(SideEffect)) == 0
    assert [session.get(Order, i).version for i in ids] == [
        versions[active.id] + 1,
        versions[pending.id] + 1,
        versions[already.id],
    ]
    events = session.scalars(select(OrderEvent).order_by(OrderEvent.order_id)).all()
    assert [(e.order_id, e.verb, e.from_status, e.to_status, e.actor_name) for e in events] == [
        (active.id, "bulk_status_changed", "Active", "Cancelled", "Bulk Admin"),
        (pending.id, "bulk_status_changed", "Pending", "Cancelled", "Bulk Admin"),
    ]
    assert events[0].details == {"bulk": True, "action": "cancel"} and events[0].actor_id == 5


def test_bulk_uses_the_same_guards_as_single_actions(session):
    session.add(OrderStatusDefinition(title="Processed", include_in_pending=True))
    session.add(OrderStatusDefinition(title="Building"))
    orders = [make_order(status=s) for s in ("Pending", "Processed", "Building", "Active")]
    ids = [o.id for o in orders]
    session.commit()

    accepted = bulk_change_status(session, ids, "accept", ADMIN)
    assert accepted.changed == 2
    assert [n for n, _ in accepted.refused] == [orders[2].order_number, orders[3].order_number]
    assert "Only pending orders can be accepted" in accepted.refused[0][1]
    session.commit()
    to_custom = bulk_change_status(session, ids, Action.CHANGE_STATUS, ADMIN, new_status="Building")
    assert to_custom.changed == 3 and to_custom.refused == [
        (orders[2].order_number, "The order is already Building")
    ]
    assert [o.status for o in orders] == ["Building"] * 4


def test_bulk_refuses_unknown_status_and_non_bulk_actions(session):
    order = make_order()
    session.commit()
    before = table_snapshot(session)
    for call in (
        lambda: bulk_change_status(session, [order.id], Action.CHANGE_STATUS, ADMIN, new_status="Nope"),
        lambda: bulk_change_status(session, [order.id], Action.CANCEL_AND_REFUND, ADMIN),
        lambda: bulk_change_status(session, [order.id], Action.DELETE, ADMIN),
    ):
        with pytest.raises(TransitionError):
            call()
        session.rollback()
    assert table_snapshot(session) == before


def test_bulk_delete_goes_order_by_order_with_the_same_guard(session):
    gone = make_order(status="Cancelled", invoice_status="Cancelled")
    kept = make_order(status="Active")
    paid = make_order(status="Fraud", invoice_status="Paid", paid=True)
    gone_id = gone.id
    session.commit()
    result = bulk_each(session, [gone.id, kept.id, paid.id], Action.DELETE, ADMIN)
    session.commit()
    assert result.changed == 1
    assert [n for n, _ in result.refused] == [kept.order_number, paid.order_number]
    assert session.get(Order, gone_id) is None and session.get(Order, kept.id) and session.get(Order, paid.id)
    assert session.scalar(select(OrderEvent.verb).where(OrderEvent.order_id == gone_id)) == "order_deleted"


# --- select all matching the filter, at volume -----------------------------------------------------


def insert_orders(session, count: int, tag: str, first_number: int) -> None:
    """`count` orders in one INSERT ... SELECT; every 10th is already Cancelled."""
    client = make_client()
    n = select(literal(1, Integer).label("i")).cte("n", recursive=True)
    n = n.union_all(select(n.c.i + 1).where(n.c.i < count))
    status = case((n.c.i % 10 == 0, literal("Cancelled", String)), else_=literal("Active", String))
    rows = select(
        literal(first_number, Integer) + n.c.i,
        literal(client.id, Integer),
        literal(utcnow(), UTCDateTime),
        status,
        literal("", String),
        literal("", String),
        literal(0, Integer),
        literal(tag, String),
        literal("", String),
        literal("", String),
        literal("", String),
        literal("", String),
        literal("admin", String),
        literal(1, Integer),
    )
    columns = [
        "order_number",
        "client_id",
        "date",
        "status",
        "promo_code",
        "promo_type",
        "amount",
        "payment_method",
        "ip_address",
        "fraud_module",
        "notes",
        "admin_notes",
        "source",
        "version",
    ]
    session.execute(Order.__table__.insert().from_select(columns, rows))
    session.commit()


def count_statements(session, call):
    with recorded_statements(session.get_bind()) as statements:
        result = call()
    return result, len(statements)


def test_select_all_matching_is_set_based(session):
    insert_orders(session, 100, "small-set", 1_100_000_000)
    insert_orders(session, 10_000, "large-set", 1_200_000_000)
    matching = aliased(Order)

    def bulk(tag):
        query = select(matching.id).where(matching.payment_method == tag)
        return bulk_change_status(session, query, Action.CANCEL, ADMIN)

    small, small_statements = count_statements(session, lambda: bulk("small-set"))
    session.commit()
    large, large_statements = count_statements(session, lambda: bulk("large-set"))
    session.commit()

    assert (small.changed, len(small.refused)) == (90, 10)
    assert (large.changed, len(large.refused)) == (9_000, 1_000)
    # Set-based: the same few statements for 100 rows as for 10,000 (speed: bench/bulk_bench.py):
    # refused rows, (PostgreSQL) the lock, the events, two daily-count moves, the UPDATE, (flush).
    assert small_statements == large_statements <= 7
    counts = dict(
        session.execute(
            select(Order.status, func.count())
            .where(Order.payment_method == "large-set")
            .group_by(Order.status)
        ).all()
    )
    assert counts == {"Cancelled": 10_000}
    assert session.scalar(select(func.count()).select_from(OrderEvent)) == 9_090
    assert session.scalar(select(func.max(Order.version)).where(Order.payment_method == "large-set")) == 2
