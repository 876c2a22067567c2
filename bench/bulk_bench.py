"""Bulk status change from the list grid ("select all matching"), at three sizes in one run.

    .venv/bin/python bench/bulk_bench.py                       # 1,000 / 10,000 / 100,000 orders
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bulk_bench.py

For each size: insert that many Active orders (one INSERT ... SELECT), then time
actions.bulk.bulk_change_status(Cancel) over the query that selects them all, and count the SQL
statements it sends. Set-based means the statement count stays the same and the time grows with
the rows the database touches, not with Python round trips. Prints ms, rows/s and the statement
count per size, and the time ratio of each size to the smallest. SQLite always; PostgreSQL too
when TEST_DATABASE_URL (or BENCH_DATABASE_URL) is set, in a database of its own.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import db_name, fresh_postgres_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated order counts")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="orderdesk-bulk-bench-") as folder:
        run(f"sqlite:///{folder}/bench.db", sizes)
    if os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
        with fresh_postgres_database() as url:
            run(url, sizes)
    else:
        print("PostgreSQL: skipped (set TEST_DATABASE_URL to include it)")


def run(url: str, sizes: list[int]) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from actions.actor import Actor
    from actions.bulk import bulk_change_status
    from actions.reference_data import ensure_reference_data
    from actions.transitions import Action
    from app import create_app
    from extensions import db
    from models import Order
    from tests.test_actions_bulk import count_statements, insert_orders

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    actor = Actor.system("bulk bench")
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        db.session.commit()
        results = []
        for index, size in enumerate(sizes):
            tag = f"bench-{size}"
            insert_orders(db.session, size, tag, 1_000_000_000 + index * 1_000_000)
            db.session.commit()
            matching = aliased(Order)
            query = select(matching.id).where(matching.payment_method == tag)
            started = time.perf_counter()
            result, statements = count_statements(
                db.session, lambda query=query: bulk_change_status(db.session, query, Action.CANCEL, actor))
            db.session.commit()
            seconds = time.perf_counter() - started
            results.append((size, seconds, statements, result.changed))
        smallest = results[0][1]
        print(f"{db_name(url)}: bulk Cancel over 'select all matching'")
        print(f"{'orders':>10} {'changed':>9} {'ms':>9} {'rows/s':>10} {'statements':>11} {'x smallest':>11}")
        for size, seconds, statements, changed in results:
            print(f"{size:>10,} {changed:>9,} {seconds * 1000:>9.1f} {changed / seconds:>10,.0f} "
                  f"{statements:>11} {seconds / smallest:>11.1f}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
