"""The orders list against the alternative and the floor, on one database, in one run.

    .venv/bin/python bench/baseline_bench.py --db sqlite:////path/orders_1m.sqlite
    .venv/bin/python bench/baseline_bench.py --db postgresql://postgres@127.0.0.1:5432/orders_1m

Three ways to answer the same list request, each through the Flask test client, in-process:
- **Orderdesk**: `/admin/orders/`, logged in as a Full Administrator (an admin row is added to the
  database if it has none for the bench: nothing else is written).
- **Plain Flask-Admin**: what a team would build otherwise: a stock `flask_admin.contrib.sqla`
  ModelView over the same `orders` table (the same models, 50 rows a page, equality filters on
  status, IP, client and the invoice's status as payment status, search by order # and IP), no
  login.
- **Floor**: the SQL Orderdesk sent for that request (recorded once, replayed statement by statement
  with its parameters) plus a minimal Jinja table of the page's rows, in a bare Flask route: what
  the page costs if nothing but its queries and an HTML table had to happen.

The three are requested in turn for each scenario (REPEATS rounds after a warm-up; median), so load
on the shared machine hits all alike; printed: ms each, plain / Orderdesk (how much faster Orderdesk
is than the alternative) and Orderdesk / floor (what Orderdesk adds on top of its own SQL). The
database is used as the CLI left it: nothing ANALYZEs it here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEATS = 9
BENCH_ADMIN = "baseline-bench@example.com"
FLOOR_TABLE = """<table>{% for row in rows %}<tr>{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>
{% endfor %}</table>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", action="append", required=True, help="a database URL (repeatable)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    for url in args.db:
        run(url, args.repeats)


def run(url: str, repeats: int) -> None:
    from tests.conftest import make_test_app

    app = make_test_app(url, SECRET_KEY=None)  # the instance's key, which encrypted the CLI's rows
    facts = prepare(app)
    plain = plain_flask_admin(url)
    floor = floor_app(app)
    floor_client = floor.test_client()
    orderdesk = app.test_client(user=facts["admin"])
    print(f"\n{facts['database']}, {facts['orders']:,} orders: median of {repeats} requests, ms")
    print("| Scenario | Orderdesk | plain Flask-Admin | floor | plain / Orderdesk | Orderdesk / floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ours, theirs in scenarios(facts):
        floor.statements = record(app, orderdesk, ours)
        sides = [(orderdesk, "/admin/orders/", ours), (plain, "/plain/order/", theirs),
                 (floor_client, "/floor", {})]
        for client, path, query in sides:  # warm up
            timed(client, path, query)
        times = [[], [], []]
        for _ in range(repeats):
            for side, (client, path, query) in enumerate(sides):
                times[side].append(timed(client, path, query))
        ours_ms, theirs_ms, floor_ms = (statistics.median(t) for t in times)
        print(f"| {name} | {ours_ms:.1f} | {theirs_ms:.1f} | {floor_ms:.1f} | {theirs_ms / ours_ms:.1f} | "
              f"{ours_ms / floor_ms:.2f} |", flush=True)


def prepare(app) -> dict:
    from sqlalchemy import func, select

    from extensions import db
    from models import AdminUser, Order
    from tests import factories

    with app.app_context():
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN)) or \
            factories.make_admin("Full Administrator", email=BENCH_ADMIN)
        db.session.commit()
        assert admin.id  # loaded while the session is open
        newest = db.session.scalar(select(func.max(Order.id)))
        middle = db.session.get(Order, newest // 2)
        return {"admin": admin, "orders": db.session.scalar(select(func.count()).select_from(Order)),
                "client": middle.client_id, "ip": middle.ip_address, "order_number": middle.order_number,
                "database": db.engine.dialect.name}


def scenarios(facts: dict) -> list[tuple[str, dict, dict]]:
    """(name, Orderdesk's query string, the plain view's query string for the same rows)."""
    return [
        ("list default", {}, {}),
        ("status Pending", {"flt0_status_equals": "Pending"}, {"flt0_0": "Pending"}),
        ("status Cancelled", {"flt0_status_equals": "Cancelled"}, {"flt0_0": "Cancelled"}),
        ("payment status Unpaid", {"flt0_payment_status_equals": "Unpaid"}, {"flt0_3": "Unpaid"}),
        ("client", {"flt0_client_is": str(facts["client"])}, {"flt0_2": str(facts["client"])}),
        ("IP address", {"flt0_ip_address_equals": facts["ip"]}, {"flt0_1": facts["ip"]}),
        ("search by order #", {"search": str(facts["order_number"])}, {"search": str(facts["order_number"])}),
        ("page 50", {"page": "50"}, {"page": "50"}),
    ]


def plain_flask_admin(url: str):
    """A stock Flask-Admin ModelView over the same table: the alternative a team would build."""
    from flask import Flask
    from flask_admin import Admin
    from flask_admin.contrib.sqla import ModelView
    from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter

    from extensions import db
    from models import Invoice, Order

    class PlainOrders(ModelView):
        page_size = 50
        can_set_page_size = False
        column_list = ["id", "order_number", "date", "client", "amount", "payment_method", "status",
                       "ip_address"]
        column_default_sort = ("id", True)
        column_searchable_list = ["order_number", "ip_address"]
        # One operation each, so the filters are flt0_0 .. flt0_3 in scenarios() (the invoice's
        # status: Flask-Admin joins invoices for it).
        column_filters = [FilterEqual(Order.status, "Status"), FilterEqual(Order.ip_address, "IP address"),
                          IntEqualFilter(Order.client_id, "Client id"),  # PostgreSQL: integer = varchar fails
                          FilterEqual(Invoice.status, "Payment status")]

    app = Flask("plain-flask-admin")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="plain", TESTING=True)
    db.init_app(app)
    admin = Admin(app, url="/plain")
    admin.add_view(PlainOrders(Order, db, endpoint="plain_orders", url="/plain/order"))
    return app.test_client()


def floor_app(app):
    """A bare Flask route: replays the statements it is given, renders the page's rows in a table."""
    from flask import Flask, render_template_string

    from extensions import db

    floor = Flask("floor")
    with app.app_context():
        engine = db.engine

    @floor.route("/floor")
    def page():
        rows = []
        with engine.connect() as connection:
            for statement, parameters in floor.statements:
                result = connection.exec_driver_sql(statement, parameters)
                if result.returns_rows:
                    fetched = result.fetchall()
                    rows = fetched if len(fetched) > len(rows) else rows
        return render_template_string(FLOOR_TABLE, rows=rows)

    floor.statements = []
    return floor


def record(app, client, query: dict) -> list:
    """The statements one Orderdesk list request sends (minus the session and login bookkeeping
    writes, which a read-only replay must not repeat)."""
    from extensions import db
    from tests.sql_support import recorded_statements

    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as captured:
        assert client.get("/admin/orders/", query_string=query).status_code == 200
    return [(s, p) for s, p in captured if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def timed(client, path: str, query: dict) -> float:
    started = time.perf_counter()
    response = client.get(path, query_string=query)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, query, response.status_code)
    return elapsed * 1000


if __name__ == "__main__":
    main()
