"""The scenarios of bench/scenarios.py: what each one requests or runs, and the values it uses.

Each scenario is a function of (side, facts) returning the ms of one run; a side is one database
(its app, a signed-in test client, its facts). Facts are read once per database after the fixture
(bench/pages_bench.py's big order and busy client). Terms typed by a user (an email, part of a
name) come from the small database, whose first clients the demo makes alike at every size.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.pages_bench import PAGES, starter_cart

LIST_URL = "/admin/orders/"
SELECTED = 10_000  # "10,000 selected orders"
MATCHING = 100_000  # "all 100,000 matching a filter" (only a database that has them)


def read_facts(session, fixture: dict) -> dict:
    """The values the scenarios filter, search and change by, on this database."""
    from sqlalchemy import func, select

    from models import Client, Order, OrderStatusDefinition, Service

    demo_top = fixture["big_order"] - 1  # the fixture placed the big order first, after the demo's
    middle = session.get(Order, demo_top // 2)
    selected = session.scalars(select(Order.id).where(Order.id <= demo_top)
                               .order_by(Order.id.desc()).limit(SELECTED)).all()
    window_end = datetime.now(UTC) - timedelta(days=30)  # before any order the bench placed
    window_start = session.scalar(select(Order.date).where(Order.date < window_end)
                                  .order_by(Order.date.desc()).offset(MATCHING - 1).limit(1))
    first = session.scalar(select(Client).order_by(Client.id).limit(1))
    month_start = (datetime.now(UTC) - timedelta(days=365)).date().replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {
        **fixture,
        "statuses": session.scalars(select(OrderStatusDefinition.title)
                                    .order_by(OrderStatusDefinition.sort_order)).all(),
        "client": middle.client_id, "order_number_mid": middle.order_number, "ip": middle.ip_address,
        "email": first.email, "name_part": first.last_name[1:-1], "month": f"{month_start} to {month_end}",
        "product": session.execute(select(Service.product_id).group_by(Service.product_id)
                                   .order_by(func.count(), Service.product_id)).scalars().first(),
        "selected": selected,
        "window": (window_start, window_end) if window_start is not None else None,
    }


def get(url_of, data: dict | None = None):
    """A GET of the URL url_of(facts) (a path, or a path and query string dict)."""
    def run(side, facts) -> float:
        url, query = url_of(facts) if callable(url_of) else (url_of, data)
        started = time.perf_counter()
        response = side["client"].get(url, query_string=query)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, query, response.status_code)
        return elapsed * 1000
    return run


def listed(query_of):
    return get(lambda facts: (LIST_URL, query_of(facts)))


def place_by_form(side, facts) -> float:
    """Add New Order, POSTed: one Starter service with a new domain for the demo's first client."""
    from sqlalchemy import func, select

    from extensions import db
    from models import Client

    side["placed"] = side.get("placed", 0) + 1
    with side["app"].app_context():
        client = db.session.scalar(select(func.min(Client.id)))
        cart = starter_cart(db.session, client, "scenario-post")
        form = {"client_id": str(client), "payment_method": "banktransfer", "status": "Pending",
                "generate_invoice": "1", "products-0-product_id": str(cart.products[0].product_id),
                "products-0-billing_cycle": "Monthly", "products-0-quantity": "1",
                "products-0-domain": f"scenario-{time.time_ns()}.example.com"}
        db.session.remove()
    started = time.perf_counter()
    response = side["client"].post("/admin/add-order/", data=form)
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:2000])
    return elapsed * 1000


def bulk(target_of, raw: bool = False):
    """Cancel of the orders target_of(facts) selects (bench/bulk_bench.py's timed_cancel)."""
    def run(side, facts) -> float | None:
        from bench.bulk_bench import timed_cancel
        from extensions import db

        target = target_of(facts)
        if target is None:
            return None
        with side["app"].app_context():
            elapsed = timed_cancel(db.session, target, raw)
            db.session.remove()
            vacuum_rolled_back_rows(db.engine)
        return elapsed
    return run


# What a rolled-back bulk Cancel leaves behind on PostgreSQL: its row versions, dead.
BULK_TABLES = ("orders", "order_events", "order_status_counts", "daily_order_counts", "side_effects")


def vacuum_rolled_back_rows(engine) -> None:
    """VACUUM (no ANALYZE: planner statistics stay as the CLI left them) the tables a rolled-back
    bulk wrote, outside the timing. Autovacuum would in production; without it every round's
    100,000 dead row versions and their index entries slow the next round (BENCHMARKS.md: the
    scenarios' first PostgreSQL run)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM {', '.join(BULK_TABLES)}")


def selected(facts):
    return facts["selected"]


def all_matching(facts):
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from models import Order

    if facts["window"] is None or facts["orders"] < MATCHING:
        return None
    matching = aliased(Order)  # as the grid's "select all matching" builds it: a SELECT of ids
    start, end = facts["window"]
    return select(matching.id).where(matching.date >= start, matching.date < end)


def scenarios(statuses: list[str]) -> dict:
    """Name -> run, in the order of the issue's list."""
    found = {
        "list default": listed(lambda f: {}),
        **{f"status {title}": listed(lambda f, t=title: {"flt0_status_equals": t}) for title in statuses},
        "status Active + date range (a month)": listed(
            lambda f: {"flt0_status_equals": "Active", "flt1_date_between": f["month"]}),
        "payment status Unpaid": listed(lambda f: {"flt0_payment_status_equals": "Unpaid"}),
        "client (by id)": listed(lambda f: {"flt0_client_is": str(f["client"])}),
        "product (the rarest)": listed(lambda f: {"flt0_product_equals": str(f["product"])}),
        "search: order #": listed(lambda f: {"search": str(f["order_number_mid"])}),
        "search: email": listed(lambda f: {"search": f["email"]}),
        "search: part of a name": listed(lambda f: {"search": f["name_part"]}),
        "search: IP": listed(lambda f: {"search": f["ip"]}),
        "oldest page by keyset": listed(lambda f: {"cursor": "last"}),
    }
    for name, url_of in PAGES.items():
        found[name] = get(lambda f, url_of=url_of: (url_of(f), None))
    found["Add New Order (POST, placement)"] = place_by_form
    for (action, raw), target_of in zip(AGAINST_RAW.items(), (selected, all_matching), strict=True):
        found[action], found[raw] = bulk(target_of), bulk(target_of, raw=True)
    return found


# Each bulk scenario and the raw UPDATE of the same orders it is compared with.
AGAINST_RAW = {
    f"bulk Cancel: {SELECTED:,} selected": f"raw UPDATE: the same {SELECTED:,}",
    f"bulk Cancel: all {MATCHING:,} matching a date range": f"raw UPDATE: the same {MATCHING:,}",
}
