"""Bulk status change from the list grid ("select all matching"), at three sizes in one run.

    .venv/bin/python bench/bulk_bench.py                       # 1,000 / 10,000 / 100,000 orders
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bulk_bench.py

For each size: insert that many Active orders (one INSERT ... SELECT), then time
actions.bulk.bulk_change_status(Cancel) over the query that selects them all, and count the SQL
statements it sends. Set-based means the statement count stays the same and the time grows with
the rows the database touches, not with Python round trips. Prints ms, rows/s and the statement
count per size, and the time ratio of each size to the smallest. SQLite always; PostgreSQL too
when TEST_DATABASE_URL (or BENCH_DATABASE_URL) is set, in a database of its own.

Then, against the equivalent raw UPDATE (the action's own final UPDATE alone, the ticked ids
written into its SQL text), per size: "select all matching" and the same orders as ticked ids, the
action and the raw UPDATE alternating for --repeats rounds, each flushed, timed and rolled back;
median ms and action / raw (the issue's target: within 3x, and under 1 s at 10,000).
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

REPEATS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated order counts")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="rounds against the raw UPDATE")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="orderdesk-bulk-bench-") as folder:
        run(f"sqlite:///{folder}/bench.db", sizes, args.repeats)
    if os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
        with fresh_postgres_database() as url:
            run(url, sizes, args.repeats)
    else:
        print("PostgreSQL: skipped (set TEST_DATABASE_URL to include it)")


def run(url: str, sizes: list[int], repeats: int) -> None:
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
        results, against_raw = [], []
        for index, size in enumerate(sizes):
            tag = f"bench-{size}"
            insert_orders(db.session, size, tag, 1_000_000_000 + index * 1_000_000)
            db.session.commit()
            matching = aliased(Order)
            query = select(matching.id).where(matching.payment_method == tag)
            ticked = db.session.scalars(query).all()
            for target, what in ((query, "select all matching"), (ticked, "ticked ids")):
                times = {False: [], True: []}
                for _ in range(repeats):
                    for raw in times:
                        times[raw].append(timed_cancel(db.session, target, raw))
                against_raw.append((size, what, *(statistics.median(times[raw]) for raw in times)))
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
        print(f"{db_name(url)}: bulk Cancel against the raw UPDATE of the same orders, median of {repeats}, "
              "rolled back")
        print(f"{'orders':>10} {'target':>20} {'action ms':>10} {'raw ms':>9} {'action/raw':>11}")
        for size, what, action, raw in against_raw:
            print(f"{size:>10,} {what:>20} {action:>10.1f} {raw:>9.1f} {action / raw:>11.2f}")
        db.session.remove()
        db.engine.dispose()


def timed_cancel(session, target, raw: bool) -> float:
    """ms of bulk Cancel of `target` (ids, or a SELECT of ids) by actions.bulk, or with `raw` by
    the action's final UPDATE alone (ticked ids written into its SQL text, as one would by hand);
    flushed, timed, then rolled back."""
    from sqlalchemy import update

    from actions.actor import Actor
    from actions.bulk import bulk_change_status
    from actions.transitions import TRANSITIONS, Action
    from models import Order

    connection = session.connection()  # the transaction begins outside the timing
    change = update(Order.__table__).where(
        Order.id.in_(target), TRANSITIONS[Action.CANCEL].allowed_from.sql()
    ).values(status="Cancelled", version=Order.version + 1)
    if isinstance(target, list):
        change = str(change.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    started = time.perf_counter()
    if not raw:
        bulk_change_status(session, target, Action.CANCEL, Actor.system("bulk bench"))
        session.flush()
    elif isinstance(change, str):
        connection.exec_driver_sql(change)
    else:
        session.execute(change)
    elapsed = time.perf_counter() - started
    session.rollback()
    return elapsed * 1000


if __name__ == "__main__":
    main()
