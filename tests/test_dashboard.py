"""The dashboard's figures equal a direct count over the same data after every kind of change
(placing, single actions, bulk changes, deletes, payments), and the page reads no orders table."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.bulk import bulk_change_status
from actions.cancel import cancel_order
from actions.daily_stats import rebuild_daily_stats
from actions.delete import delete_order
from actions.fraud import set_order_fraud
from extensions import db
from models import DailyOrderCount, DailyRevenue, Order, OrderStatus, Transaction, utcnow
from tests import factories
from tests.dashboard_support import shown_orders_table
from tests.sql_support import recorded_statements

ADMIN = Actor.system("Dashboard test")


def direct_counts() -> dict:
    rows = db.session.execute(select(Order.date, Order.status))
    counts: dict = {}
    for when, status in rows:
        counts[(when.date(), status)] = counts.get((when.date(), status), 0) + 1
    return counts


def kept_counts() -> dict:
    rows = db.session.execute(select(DailyOrderCount.day, DailyOrderCount.status, DailyOrderCount.orders))
    return {(day, status): n for day, status, n in rows if n}


def direct_revenue() -> dict:
    money: dict = {}
    for when, paid, refunded in db.session.execute(select(Transaction.date, Transaction.amount_in,
                                                          Transaction.amount_out)):
        was = money.get(when.date(), (Decimal("0.00"), Decimal("0.00")))
        money[when.date()] = (was[0] + paid, was[1] + refunded)
    return money


def kept_revenue() -> dict:
    return {day: (paid, refunded) for day, paid, refunded in db.session.execute(
        select(DailyRevenue.day, DailyRevenue.paid_in, DailyRevenue.refunded))}


def test_kept_figures_equal_a_direct_count_after_every_kind_of_change(session):
    orders = [factories.make_order() for _ in range(4)]
    old = factories.make_order(status=OrderStatus.ACTIVE, invoice_status="Paid", paid=True)
    old.date = utcnow() - timedelta(days=40)
    paid = factories.make_order(status=OrderStatus.ACTIVE, invoice_status="Paid", paid=True)
    session.commit()
    assert kept_counts() == direct_counts() and kept_revenue() == direct_revenue()

    cancel_order(session, orders[0].id, ADMIN)
    set_order_fraud(session, orders[1].id, ADMIN)
    session.commit()
    bulk_change_status(session, select(Order.id).where(Order.status == OrderStatus.PENDING), "cancel", ADMIN)
    session.commit()
    delete_order(session, orders[0].id, ADMIN)
    session.add(Transaction(client_id=paid.client_id, invoice_id=paid.invoice_id, gateway="banktransfer",
                            amount_out=Decimal("5.00"), refund_of_id=paid.invoice.transactions[0].id))
    session.commit()
    assert kept_counts() == direct_counts()
    assert kept_revenue() == direct_revenue()
    before = (kept_counts(), kept_revenue())
    rebuild_daily_stats(session)
    session.commit()
    assert (kept_counts(), kept_revenue()) == before  # the rebuild agrees with what was kept


def test_dashboard_shows_the_figures_and_reads_no_orders_scan(admin_client, session):
    for _ in range(3):
        factories.make_order()
    factories.make_order(status=OrderStatus.FRAUD, invoice_status="Cancelled")
    session.commit()
    admin_client.get("/admin/")
    with recorded_statements(db.engine) as statements:
        html = admin_client.get("/admin/?days=90").get_data(as_text=True)
    assert 'id="figure-pending">3<' in html and 'id="figure-fraud-today">1<' in html
    assert "<svg" in html and "<script" not in html.split('id="chart-orders"')[1].split("</div>")[0]
    orders_reads = [s for s in statements if " FROM orders" in s and "LIMIT" not in s.upper()]
    assert orders_reads == []  # every read of orders is capped or a single index lookup
    assert db.session.scalar(select(func.count()).select_from(DailyOrderCount)) >= 1


def test_dashboard_period_and_permissions(client_as, session):
    support = client_as(factories.make_admin("Support"))
    session.commit()
    for days in ("30", "90", "365", "abc", "100000000000"):
        assert support.get(f"/admin/?days={days}").status_code == 200


@pytest.mark.parametrize("days", [30, 90, 365])
def test_the_figures_each_period_shows_equal_a_direct_count(admin_client, session, days):
    """What the page shows per day and status (its table of figures under the chart) against a
    count over orders: inside the period, at its edges, and nothing from before it."""
    statuses = [OrderStatus.PENDING, OrderStatus.ACTIVE, OrderStatus.CANCELLED, OrderStatus.FRAUD]
    for n, age in enumerate([0, 0, 1, 29, 30, 89, 90, 200, 364, 365, 400]):
        order = factories.make_order(status=statuses[n % 4])
        order.date = utcnow() - timedelta(days=age)
    session.commit()
    html = admin_client.get(f"/admin/?days={days}").get_data(as_text=True)
    first = utcnow().date() - timedelta(days=days - 1)
    expected = {key: n for key, n in direct_counts().items() if key[0] >= first}
    assert shown_orders_table(html) == expected
    assert 0 < sum(expected.values()) < 11
    chart = html.split('id="chart-orders"')[1].split("</svg>")[0]
    assert all(status in chart for _, status in expected)  # every status shown is in the legend
