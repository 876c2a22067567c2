"""The per-status order counters (models.order_counts) stay equal to COUNT(*) through every kind of
write: placement, single actions, set-based bulk changes, deletes, a renamed status, seed-demo."""

import pytest
from sqlalchemy import func, select, text, update

from actions.actor import SYSTEM
from actions.bulk import bulk_change_status
from actions.transitions import Action, run_order_action
from demo import seed_demo
from extensions import db
from models import Order, OrderStatusDefinition
from models.order_counts import count_orders, counts_by_status
from tests import factories


def _truth() -> dict[str, int]:
    return dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())


def _check():
    counted = {status: n for status, n in counts_by_status(db.session).items() if n}
    assert counted == _truth()
    assert count_orders(db.session) == sum(_truth().values())


def test_counters_follow_every_write(session):
    orders = [factories.make_order() for _ in range(6)]
    session.commit()
    _check()
    run_order_action(session, Action.ACCEPT, orders[0].id, SYSTEM, options=None)
    run_order_action(session, Action.SET_FRAUD, orders[1].id, SYSTEM)
    run_order_action(session, Action.CANCEL, orders[2].id, SYSTEM)
    session.commit()
    _check()
    bulk_change_status(session, [o.id for o in orders[3:]], Action.CANCEL, SYSTEM)
    session.commit()
    _check()
    run_order_action(session, Action.DELETE, orders[1].id, SYSTEM)
    session.commit()
    _check()
    session.add(OrderStatusDefinition(title="On Hold", color="#123456"))
    session.flush()
    session.execute(update(Order).where(Order.id == orders[0].id).values(status="On Hold"))
    session.commit()
    _check()
    status = session.scalar(select(OrderStatusDefinition).where(OrderStatusDefinition.title == "On Hold"))
    status.title = "Waiting"  # orders follow by ON UPDATE CASCADE, and so do their counts
    session.commit()
    _check()
    assert count_orders(session, "Waiting") == 1 and count_orders(session, "On Hold") == 0
    session.rollback()


def test_counters_after_seed_demo(session):
    seed_demo(session, orders=300)
    _check()


def test_one_statement_inserting_many_orders_writes_one_counter_version(session):
    """PostgreSQL counts inserts per statement: a bulk load (seed-demo's COPY) must not leave a dead
    counter row version per order behind (autovacuum may be off or late; every unfiltered count
    would scan them all)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite updates its counter rows in place")
    template = factories.make_order()
    session.commit()
    columns = [c.name for c in Order.__table__.columns if c.name not in ("id", "order_number")]
    listed = ", ".join(columns)
    session.execute(
        text(
            f"INSERT INTO orders ({listed}, order_number) SELECT {listed}, 1000000000 + g "
            "FROM orders, generate_series(1, 500) AS g WHERE id = :id"
        ),
        {"id": template.id},
    )
    versions = text(  # this transaction's inserts and updates of counter rows
        "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'order_status_counts'"
    )
    assert session.scalar(versions) == 1
    _check()
    session.execute(text("DELETE FROM orders WHERE id <> :id"), {"id": template.id})
    assert session.scalar(versions) == 2
    _check()
    session.rollback()


def test_an_update_writes_a_counter_version_per_status_whose_count_moved(session):
    """PostgreSQL's update trigger nets -1 for each row's old status and +1 for its new one: an
    update that moves no order between statuses writes no counter, and one that moves many writes
    one version per status (two orders swapping statuses net zero for both)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite's row triggers fire only when the status changes")
    orders = [factories.make_order(status=status) for status in ["Pending"] * 5 + ["Active"]]
    session.commit()
    # Counter row versions written since the last call (this backend's counts not yet reported
    # may include an earlier transaction's, so each step compares before and after).
    versions = text(
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0) FROM pg_stat_xact_user_tables "
        "WHERE relname = 'order_status_counts'"
    )

    def written(statement, parameters=None) -> int:
        before = session.scalar(versions)
        session.execute(statement, parameters)
        return session.scalar(versions) - before

    assert written(update(Order).values(version=Order.version + 1)) == 0  # no status moves
    assert written(update(Order).where(Order.status == "Pending").values(status="Cancelled")) == 2
    _check()
    swap = text("UPDATE orders SET status = CASE WHEN id = :a THEN 'Cancelled' ELSE 'Active' END "
                "WHERE id IN (:a, :b)")
    assert written(swap, {"a": orders[-1].id, "b": orders[0].id}) == 0  # each status -1 +1
    _check()
    session.rollback()
