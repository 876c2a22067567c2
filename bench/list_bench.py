"""The orders list page at two sizes in one run: median ms per case, and the ratio large/small.

    .venv/bin/python bench/list_bench.py                                    # 10,000 and 200,000 orders
    .venv/bin/python bench/list_bench.py --orders-large 1000000             # 10,000 and 1,000,000
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/list_bench.py

Two databases per backend, one per size, each seeded with demo.seed_demo (which ends with ANALYZE, as
`flask seed-demo` does: the bench runs none of its own).
SQLite always (temporary files, or kept in --sqlite-dir and reused by a later run: seed_demo only
adds missing orders and missing indexes are created); PostgreSQL too when TEST_DATABASE_URL (or
BENCH_DATABASE_URL) is set, in two databases of its own, dropped afterwards. Every case is a GET of
/admin/orders/ through the Flask test client, logged in as a Full Administrator; the small and the
large database are requested alternately, so load on the shared machine hits both alike. Then every
statement a case runs against the orders table is EXPLAINed on the large database (plain EXPLAIN,
nothing disabled); a scan of orders without an index is flagged "SCAN".
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import db_name, fresh_postgres_database  # noqa: E402

REPEATS = 9
LIST_URL = "/admin/orders/"
BENCH_ADMIN = "list-bench@example.com"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders-small", type=int, default=10_000)
    parser.add_argument("--orders-large", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--sqlite-dir", help="keep the SQLite files here and reuse them next time")
    args = parser.parse_args()
    sizes = (args.orders_small, args.orders_large)
    if args.db in ("sqlite", "both"):
        with ExitStack() as stack:
            folder = args.sqlite_dir or stack.enter_context(
                tempfile.TemporaryDirectory(prefix="orderdesk-list-"))
            Path(folder).mkdir(parents=True, exist_ok=True)
            run([f"sqlite:///{folder}/orders_{size}.db" for size in sizes], sizes, args.repeats)
    if args.db in ("postgresql", "both"):
        if os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
            with fresh_postgres_database() as small, fresh_postgres_database() as large:
                run([small, large], sizes, args.repeats)
        else:
            print("PostgreSQL: skipped (set TEST_DATABASE_URL to include it)")


def run(urls: list[str], sizes: tuple[int, int], repeats: int) -> None:
    from tests.conftest import make_test_app

    apps = []
    for url, size in zip(urls, sizes, strict=True):
        app = make_test_app(url)
        apps.append((app, seed(app, size)))
    database = db_name(urls[0])
    cases = list_cases(apps[0][1]), list_cases(apps[1][1])
    clients = [app.test_client(user=facts["admin"]) for app, facts in apps]
    print(f"\n{database}: orders list, median of {repeats} requests, ms "
          f"({sizes[0]:,} vs {sizes[1]:,} orders)", flush=True)
    print(f"| Case | Rows shown | ms at {sizes[0]:,} | ms at {sizes[1]:,} | ratio large/small |")
    print("|---|---:|---:|---:|---:|")
    for (name, small_query), (_, large_query) in zip(*cases, strict=True):
        pairs = [(clients[0], small_query), (clients[1], large_query)]
        page, rows = [[], []], None
        for client, query in pairs:  # warm up: caches, statement cache; rows shown at large
            rows = request(client, query)[1]
        for _ in range(repeats):
            for side, (client, query) in enumerate(pairs):
                page[side].append(request(client, query)[0])
        small_ms, large_ms = statistics.median(page[0]), statistics.median(page[1])
        print(f"| {name} | {rows} | {small_ms:.1f} | {large_ms:.1f} | {large_ms / small_ms:.2f} |",
              flush=True)
    print_plans(database, sizes[1], clients[1], apps[1][0], cases[1])
    for app, _ in apps:
        with app.app_context():
            from extensions import db

            db.engine.dispose()


def seed(app, size: int) -> dict:
    """Seed (or top up) to `size` orders, create missing indexes; pick the filter values."""
    from sqlalchemy import func, select

    from demo import seed_demo
    from extensions import db
    from models import AdminUser, Order, Service
    from tests import factories

    with app.app_context():
        db.create_all()
        match_models_indexes(db)
        started = time.perf_counter()
        seed_demo(db.session, orders=size)
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN)) or \
            factories.make_admin("Full Administrator", email=BENCH_ADMIN)  # a reused database has it
        db.session.commit()
        assert admin.id  # loaded now: the test client signs it in after the session closes
        print(f"{db_name(str(db.engine.url))}: {size:,} orders ready in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        newest = db.session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
        middle = db.session.get(Order, newest.id // 2)
        # The product with the fewest services: a product filter's hardest case.
        rare_product = db.session.execute(
            select(Service.product_id).group_by(Service.product_id).order_by(func.count(), Service.product_id)
        ).scalars().first()
        return {"admin": admin, "newest": newest.id, "client": middle.client_id, "ip": newest.ip_address,
                "order_number": middle.order_number, "product": rare_product}


def match_models_indexes(db) -> None:
    """A reused database gets the indexes models/ declares now, and loses ones it no longer does."""
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SAWarning
    from sqlalchemy.schema import CreateIndex

    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        declared = {index.name for index in table.indexes}
        with warnings.catch_warnings():  # expression indexes are not reflected: they stay as they are
            warnings.simplefilter("ignore", SAWarning)
            reflected = inspector.get_indexes(table.name)
        for index in reflected:
            if index["name"] not in declared and not index.get("unique"):
                db.session.execute(text(f'DROP INDEX "{index["name"]}"'))
        for index in table.indexes:
            db.session.execute(CreateIndex(index, if_not_exists=True))
    db.session.commit()


def list_cases(facts: dict) -> list[tuple[str, dict]]:
    from admin.orders import OrderView

    # The month a year ago: ~1/24 of the orders (the demo history is two years).
    month_start = (datetime.now(UTC) - timedelta(days=365)).date().replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return [
        ("page 0, unfiltered", {}),
        ("Pending menu (status group)", {"flt0_status_group_equals": "pending"}),
        ("status = Active", {"flt0_status_equals": "Active"}),
        ("date range, one month", {"flt0_date_between": f"{month_start} to {month_end}"}),
        ("client (by id)", {"flt0_client_is": str(facts["client"])}),
        ("payment status Paid", {"flt0_payment_status_equals": "Paid"}),
        ("IP address", {"flt0_ip_address_equals": facts["ip"]}),
        ("order # search", {"search": str(facts["order_number"])}),
        ("product (rarest)", {"flt0_product_equals": str(facts["product"])}),
        ("amount 20.00 to 40.00", {"flt0_total_at_least": "20", "flt1_total_at_most": "40"}),
        ("page 5", {"page": "5"}),
        (f"last numbered page ({OrderView.cheap_pages})", {"page": str(OrderView.cheap_pages - 1)}),
        ("oldest page by keyset", {"cursor": "last"}),
    ]


def request(client, query: dict) -> tuple[float, int]:
    """One GET of the list (no app context held, so nothing is cached in `g` between requests):
    (ms, rows shown)."""
    started = time.perf_counter()
    response = client.get(LIST_URL, query_string=query)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (query, response.status_code)
    return elapsed * 1000, len(re.findall(r'class="col-order_number"', response.get_data(as_text=True)))


def print_plans(database: str, size: int, client, app, cases) -> None:
    """Each case's statements that read orders, EXPLAINed on the large database; scans flagged."""
    from extensions import db
    from tests.sql_support import recorded_statements

    with app.app_context():
        engine = db.engine
    print(f"\n{database} at {size:,} orders: query plans of the statements reading orders")
    seen, flagged = set(), 0
    for name, query in cases:
        with recorded_statements(engine) as captured:
            client.get(LIST_URL, query_string=query)
        print(f"- {name}")
        with engine.connect() as connection:
            for statement, parameters in captured:
                if not re.search(r"\bFROM orders\b", statement):
                    continue
                plan, scanned = explain(connection, statement, parameters)
                flagged += scanned
                if statement in seen:
                    print("    (same statement as above)" + (" SCAN" if scanned else ""))
                    continue
                seen.add(statement)
                print(f"    {'SCAN ' if scanned else ''}{plan}\n      in: {one_line(statement)}")
    print(f"{database}: {flagged} statement(s) scan orders without an index", flush=True)


def explain(connection, statement: str, parameters) -> tuple[str, bool]:
    from tests.sql_support import query_plan

    if connection.dialect.name == "postgresql":
        lines = [line.strip() for line in query_plan(connection, statement, parameters)]
        return " | ".join(lines), any("Seq Scan on orders" in line for line in lines)
    details = query_plan(connection, statement, parameters)
    # Flagged as asked, though a bare "SCAN orders" with no "TEMP B-TREE FOR ORDER BY" walks the
    # table in id order and stops at the LIMIT (page 0 unfiltered): read it with the timings.
    scanned = any(re.match(r"SCAN orders\b", d) and "USING" not in d for d in details)
    return "; ".join(details), scanned


def one_line(statement: str, limit: int = 400) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[:limit] + " ..."


if __name__ == "__main__":
    main()
