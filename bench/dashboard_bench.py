"""The dashboard against the orders list page on the same database, in one run, and its figures
against a direct SQL count.

    .venv/bin/python bench/dashboard_bench.py --database-url sqlite:////tmp/orders.db          # 1,000,000
    .venv/bin/python bench/dashboard_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The database is prepared as bench/export_bench.py does (topped up to --orders with seed_demo, the
daily figures rebuilt when they do not add up to the orders, a bench admin). Through the Flask test
client, signed in as a Full Administrator, it GETs the dashboard (/admin/, 30, 90 and 365 days) and the
orders list (/admin/orders/) alternately, --repeats times each after a warm-up, so load on a
shared machine hits all alike, and prints the median ms of each and the ratio dashboard / list
(exit 1 above 2x). Then it compares the daily orders-by-status figures the dashboard draws for the
last 365 days (read from the page's own table of figures), and its pending counter, with a direct
GROUP BY / COUNT over the orders table.
"""

import argparse
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.export_bench import BENCH_ADMIN, make_app, prepare  # noqa: E402

PAGES = {"dashboard, 30 days": "/admin/", "dashboard, 90 days": "/admin/?days=90",
         "dashboard, 365 days": "/admin/?days=365",
         "orders list": "/admin/orders/"}


def timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def as_day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite's date() is text


def figures_check(app, client) -> tuple[bool, int]:
    """The daily counts kept (every day) and those the 365-day dashboard shows in its figures
    table against a direct GROUP BY over the orders; the pending COUNT."""
    from sqlalchemy import func, select

    from actions.daily_stats import day_of
    from admin.filters import status_group_titles
    from extensions import db
    from models import DailyOrderCount, Order, utcnow
    from tests.dashboard_support import shown_orders_table

    window = shown_orders_table(client.get("/admin/?days=365").get_data(as_text=True))
    with app.test_request_context():
        today = utcnow().date()
        start = today - timedelta(days=364)
        kept = {(as_day(d), status): n for d, status, n in db.session.execute(
            select(DailyOrderCount.day, DailyOrderCount.status, DailyOrderCount.orders)) if n}
        day = day_of(db.session, Order.date)
        direct = {(as_day(d), status): n for d, status, n in db.session.execute(
            select(day, Order.status, func.count()).group_by(day, Order.status))}
        in_window = {key: n for key, n in direct.items() if start <= key[0] <= today}
        pending = db.session.scalar(select(func.count()).select_from(Order)
                                    .where(Order.status.in_(status_group_titles("pending"))))
    first, last = (min(direct)[0], max(direct)[0]) if direct else (None, None)
    print(f"orders by day and status, every day ({first} to {last}): {sum(kept.values()):,} orders in "
          f"{len(kept):,} cells kept; direct GROUP BY over orders: {sum(direct.values()):,} in "
          f"{len(direct):,}: {'equal' if kept == direct else 'DIFFERENT'}")
    print(f"the 365 days the dashboard shows (to {today}): {sum(window.values()):,} orders in its table, "
          f"{sum(in_window.values()):,} counted directly: {'equal' if window == in_window else 'DIFFERENT'}")
    return kept == direct and window == in_window, pending


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    from sqlalchemy import select

    from admin.orders import PENDING_BADGE_CAP
    from extensions import db
    from models import AdminUser
    from tests.conftest import LoginClient

    orders = prepare(args.database_url, args.orders)
    app = make_app(args.database_url)
    app.test_client_class = LoginClient
    with app.app_context():
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN))
        client = app.test_client(user=admin)
        times = {name: [] for name in PAGES}
        for path in PAGES.values():
            timed(client, path)  # warm-up
        for _ in range(args.repeats):
            for name, path in PAGES.items():
                times[name].append(timed(client, path))
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"{db.engine.dialect.name}, {orders:,} orders, median of {args.repeats} requests:")
        for name, ms in medians.items():
            print(f"  {name:<22} {ms:8.1f} ms")
        ratios = {name: medians[name] / medians["orders list"] for name in PAGES if name != "orders list"}
        for name, ratio in ratios.items():
            print(f"  {name} / orders list: {ratio:.2f}x")
        equal, pending = figures_check(app, client)
        html = client.get("/admin/").get_data(as_text=True)
        shown = re.search(r'id="figure-pending">([^<]*)<', html).group(1)
        expected = str(pending) if pending <= PENDING_BADGE_CAP else f"{PENDING_BADGE_CAP}+"
        print(f"pending orders: dashboard shows {shown!r}, direct COUNT {pending:,} (shown capped at "
              f"{PENDING_BADGE_CAP}+): {'equal' if shown == expected else 'DIFFERENT'}")
        equal = equal and shown == expected
        db.engine.dispose()
    return 0 if equal and all(r <= 2 for r in ratios.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
