"""Intelligent search at two sizes in one run: the median time per search, and the ratio large/small.

    .venv/bin/python bench/search_bench.py                                  # 10,000 then 100,000 orders
    .venv/bin/python bench/search_bench.py --orders-large 1000000           # 10,000 then 1,000,000
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/search_bench.py

SQLite always (a temporary file); PostgreSQL too when TEST_DATABASE_URL (or BENCH_DATABASE_URL) is
set, in a database of its own that is dropped afterwards. Each database: seed the small size with
demo.seed_demo (which ANALYZEs, as `flask seed-demo` does; the bench runs none of its own), time
every term; top the same database up to the large size (seed_demo adds exactly the missing orders),
time the same terms again. The terms are
taken from the data at the small size, so both sizes search for the same things. At the large size
the plan of every statement is printed as "index" or "SCAN" (plain EXPLAIN, nothing disabled).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import db_name, fresh_postgres_database  # noqa: E402

REPEATS = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders-small", type=int, default=10_000)
    parser.add_argument("--orders-large", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.db != "postgresql":
        with tempfile.TemporaryDirectory(prefix="orderdesk-search-bench-") as folder:
            run(f"sqlite:///{folder}/bench.db", args)
    if args.db == "sqlite":
        return
    if os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
        with fresh_postgres_database() as url:
            run(url, args)
    else:
        print("PostgreSQL: skipped (set TEST_DATABASE_URL to include it)")


def run(url: str, args) -> None:

    from app import create_app
    from demo import seed_demo
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        db.create_all()
        medians = {}
        for size in (args.orders_small, args.orders_large):
            started = time.perf_counter()
            seed_demo(db.session, orders=size)  # which ends with ANALYZE, as `flask seed-demo` does
            seconds = time.perf_counter() - started
            print(f"{db_name(url)}: seeded {size:,} orders in {seconds:.0f} s", flush=True)
            terms = medians.get("terms") or pick_terms(db.session)
            medians["terms"] = terms
            medians[size] = time_searches(db.session, terms)
            report(db_name(url), size, terms, medians[size])
        print_plans(db.session, medians["terms"])
        small, large = medians[args.orders_small], medians[args.orders_large]
        overall_small, overall_large = statistics.median(small.values()), statistics.median(large.values())
        print(f"{db_name(url)}: median per search {overall_small:.2f} ms at {args.orders_small:,} orders, "
              f"{overall_large:.2f} ms at {args.orders_large:,}; ratio large/small "
              f"{overall_large / overall_small:.2f}", flush=True)
        db.session.remove()
        db.engine.dispose()


def pick_terms(session) -> list[str]:
    """Real values from the data: a name, an email start, a company, a hostname, a username,
    a domain, an order #, an order id, an invoice id, a two-letter prefix, and a miss."""
    from sqlalchemy import select

    from models import Client, Domain, Order, Service

    client = session.scalar(select(Client).where(Client.company_name != "").order_by(Client.id).limit(1))
    service = session.scalar(select(Service).where(Service.username != "").order_by(Service.id).limit(1))
    domain = session.scalar(select(Domain).order_by(Domain.id).limit(1))
    order = session.scalar(select(Order).order_by(Order.id.desc()).limit(1))
    invoice_id = session.scalar(select(Order.invoice_id).where(Order.invoice_id < order.id // 2).limit(1))
    return [
        f"{client.first_name} {client.last_name[:3]}", client.email[:6], client.company_name[:5],
        service.domain[:8], service.username, domain.name, str(order.order_number), str(order.id),
        str(invoice_id), "ma", "zzqx-nothing",
    ]


def time_searches(session, terms: list[str]) -> dict[str, float]:
    """Median milliseconds per term over REPEATS searches (all five groups), identity map cleared."""
    from actions.search import search

    result = {}
    for term in terms:
        search(session, term)  # warm the caches and the statement cache
        timings = []
        for _ in range(REPEATS):
            session.expunge_all()
            started = time.perf_counter()
            search(session, term)
            timings.append((time.perf_counter() - started) * 1000)
        result[term] = statistics.median(timings)
    return result


def report(database: str, size: int, terms: list[str], medians: dict[str, float]) -> None:
    cells = ", ".join(f"{term!r} {medians[term]:.2f}" for term in terms)
    print(f"{database} at {size:,} orders, median ms per search: {cells}", flush=True)


def print_plans(session, terms: list[str]) -> None:
    """Every statement the search runs at the large size, EXPLAINed as the planner chooses."""
    from actions.search import search
    from extensions import db
    from tests.sql_support import query_plan, recorded_statements

    with recorded_statements(db.engine) as captured:
        for term in terms:
            search(session, term)
    connection = session.connection()
    scans = 0
    for statement, parameters in captured:
        steps = query_plan(connection, statement, parameters)
        if connection.dialect.name == "postgresql":
            plan = " ".join(steps)
            scanned = "Seq Scan" in plan
        else:
            plan = "; ".join(steps)
            scanned = not all(step.startswith("SEARCH") for step in steps)
        scans += scanned
        if scanned:
            print(f"  SCAN: {plan}\n    in {statement}")
    print(f"{db_name(str(connection.engine.url))}: {len(captured)} statements EXPLAINed, "
          f"{len(captured) - scans} index searches, {scans} scans", flush=True)


if __name__ == "__main__":
    main()
