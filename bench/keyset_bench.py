"""Keyset paging at 1,000,000 orders: the oldest pages of the orders list against page 1, in one run.

    .venv/bin/python bench/keyset_bench.py \\
        --small sqlite:////tmp/keyset/orders_10k.sqlite --large sqlite:////tmp/keyset/orders_1m.sqlite \\
        --small postgresql+psycopg://postgres@127.0.0.1:5432/keyset_10k \\
        --large postgresql+psycopg://postgres@127.0.0.1:5432/keyset_1m

Each --small/--large pair is one backend: databases built by the CLI (`flask db upgrade` and
`flask seed-demo`), used as they are (no ANALYZE here; the bench only adds its own admin user).
Every case is a GET of /admin/orders/ through the Flask test client, logged in as a Full
Administrator. All cases of a backend are requested round-robin (a warm-up, then --repeats rounds),
so load on the shared machine hits them alike; it prints the median ms of each case at both sizes
and the large size's ratio to page 1 at the small size, to page 1 at the large size and to the
same list's page 1 at the small size (the issue's target: within 1.25x); then page 1's statements
timed one by one at both sizes (what every page pays at the large size, whatever the paging); then
every statement a case runs against `orders` is EXPLAINed on the large database
(bench/list_bench.py's print_plans).

Cases, each at both sizes: page 1; the oldest page by keyset (`?cursor=last`); the last page
reached by walking Older (a cursor after the 51st-oldest order); the oldest Pending orders
(status group); sorted by total (ascending, ties broken by id): page 1, the last page and the last
page reached by Older.
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.list_bench import print_plans  # noqa: E402
from bench.seed_bench import db_name  # noqa: E402

LIST_URL = "/admin/orders/"
BENCH_ADMIN = "keyset-bench@example.com"
REPEATS = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="append", required=True, help="database URL (10,000 orders)")
    parser.add_argument("--large", action="append", required=True, help="database URL (1,000,000 orders)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    if len(args.small) != len(args.large):
        parser.error("give one --large per --small")
    for small, large in zip(args.small, args.large, strict=True):
        run(small, large, args.repeats)


def run(small_url: str, large_url: str, repeats: int) -> None:
    from tests.conftest import make_test_app

    sides = []
    for url in (small_url, large_url):
        app = make_test_app(url)
        admin, size, cases = prepare(app)
        sides.append((app, app.test_client(user=admin), size, cases))
    requests = [(size, name, client, query) for _, client, size, cases in sides for name, query in cases]
    timings = {(size, name): [] for size, name, _, _ in requests}
    rows = {}
    for size, name, client, query in requests:  # warm-up; rows shown
        rows[size, name] = fetch(client, query)[1]
    for _ in range(repeats):
        for size, name, client, query in requests:
            timings[size, name].append(fetch(client, query)[0])
    ms = {key: statistics.median(values) for key, values in timings.items()}
    small, large = sides[0][2], sides[1][2]
    print(f"\n{db_name(small_url)}: orders list, median of {repeats} requests (all cases round-robin), ms")
    print(f"| Case | Rows | ms at {small:,} | ms at {large:,} | ratio to page 1 at {small:,} | "
          f"ratio to page 1 at {large:,} | ratio to its list's page 1 at {small:,} |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _ in sides[1][3]:
        first = FIRST_PAGE_OF.get(name, "page 1")
        print(f"| {name} | {rows[large, name]} | {ms[small, name]:.1f} | {ms[large, name]:.1f} | "
              f"{ms[large, name] / ms[small, 'page 1']:.2f} | {ms[large, name] / ms[large, 'page 1']:.2f} | "
              f"{ms[large, name] / ms[small, first]:.2f} |", flush=True)
    print_statement_times(sides, repeats)
    print_plans(db_name(large_url), large, sides[1][1], sides[1][0], sides[1][3])
    for app, *_ in sides:
        with app.app_context():
            from extensions import db

            db.engine.dispose()


# The first page of the list each deeper case pages through.
FIRST_PAGE_OF = {"Pending: oldest page": "Pending: page 1", "by total: last page": "by total: page 1",
                 "by total: last page by Older": "by total: page 1"}


def print_statement_times(sides, repeats: int) -> None:
    """Page 1's statements timed at both sizes (median per statement): what a page pays at the large
    size that it does not at the small one, whatever the paging."""
    from sqlalchemy import event

    from extensions import db

    print("\npage 1, each statement's median ms at each size:")
    times = []
    for app, client, _, _ in sides:
        with app.app_context():
            engine = db.engine
        started, spent = {}, {}

        def before(conn, cursor, statement, parameters, context, executemany, started=started):
            started[id(cursor)] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany, started=started, spent=spent):
            name = " ".join(statement.split())[:90]
            spent.setdefault(name, []).append((time.perf_counter() - started.pop(id(cursor))) * 1000)

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        for _ in range(repeats):
            fetch(client, {})
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        times.append({name: statistics.median(values) for name, values in spent.items()})
    print(f"| Statement | ms at {sides[0][2]:,} | ms at {sides[1][2]:,} |")
    print("|---|---:|---:|")
    for name in sorted(times[1], key=lambda n: times[0].get(n, 0) - times[1][n]):
        print(f"| `{name}` | {times[0].get(name, 0):.2f} | {times[1][name]:.2f} |")


def prepare(app):
    """The bench's admin (added once), the number of orders, and the cases' query strings."""
    from sqlalchemy import func, select

    from admin.list_cursor import make_cursor
    from extensions import db
    from models import AdminUser, Order
    from tests import factories

    with app.app_context():
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN)) or \
            factories.make_admin("Full Administrator", email=BENCH_ADMIN)
        db.session.commit()
        assert admin.id  # loaded now: the test client signs it in after the session closes
        size = db.session.scalar(select(func.count()).select_from(Order))
        view = next(v for a in app.extensions["admin"] for v in a._views
                    if getattr(v, "endpoint", "") == "orders")
        with app.test_request_context(LIST_URL):
            sort = view.list_sort(None, None, [])
            row = db.session.scalars(select(Order).order_by(Order.id).offset(50).limit(1)).one()
            older = make_cursor("orders", sort, "after", row)
            by_total = view.list_sort("amount", False, [])
            ordered = select(Order).order_by(*by_total.order(reverse=True))
            row = db.session.scalars(ordered.offset(50).limit(1)).one()
            older_by_total = make_cursor("orders", by_total, "after", row)
        amount_sort = str([name for name, _ in view._list_columns].index("amount"))
        cases = [
            ("page 1", {}),
            ("oldest page (cursor=last)", {"cursor": "last"}),
            ("last page by Older", {"cursor": older}),
            ("Pending: page 1", {"flt0_status_group_equals": "pending"}),
            ("Pending: oldest page", {"flt0_status_group_equals": "pending", "cursor": "last"}),
            ("by total: page 1", {"sort": amount_sort}),
            ("by total: last page", {"sort": amount_sort, "cursor": "last"}),
            ("by total: last page by Older", {"sort": amount_sort, "cursor": older_by_total}),
        ]
        db.session.remove()
    return admin, size, cases


def fetch(client, query: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(LIST_URL, query_string=query)
    elapsed = time.perf_counter() - started
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Showing the first page" not in html, (query, response.status_code)
    return elapsed * 1000, len(re.findall(r'class="col-order_number"', html))


if __name__ == "__main__":
    main()
