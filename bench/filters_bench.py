"""Rare and combined filters of the orders list at two sizes in one run: median ms per case, ratio.

    .venv/bin/python bench/filters_bench.py --prepare --small URL --large URL   # the rare rows
    DATABASE_URL=URL .venv/bin/flask --app app db upgrade                         # each of the two
    .venv/bin/python bench/filters_bench.py --small URL --large URL [--repeats 9]  # measure

URL: a copy of a database exactly as the CLI leaves it (`flask db upgrade`, `flask seed-demo
--orders N`, then `flask db upgrade` again after a new migration), SQLite or PostgreSQL. This script
never runs ANALYZE: the plans are those the product's own statistics give (models/planner_stats.py).

`--prepare` WRITES to both databases (so give it copies): the rare cases below, by one documented
SQL step (RARE_SETUP); then run `flask db upgrade` on both (the CLI's ANALYZE, so the statistics are
those the product leaves after a change this large), then run again without --prepare to measure.
The rare rows are the same number at both sizes, spread over the whole id range (at
1/10, 3/10, ... 9/10 of the orders), so a plan that walks newest-first until it has enough rows
walks most of the table:
- custom status "Rare Hold" (in the Pending group) on 5 orders: a status used by 0.0005 % of 1,000,000
- custom statuses "Rare Dispute" and "Rare Documents" on 3 orders each, the only two statuses of the
  Cancelled group (the core Cancelled status taken out of it): a status group of two rare statuses
- every invoice Paid except the first invoices of 5 orders: payment status Unpaid among mostly paid
- a product "Rare Product" holding 10 services
- a client named "Rarely Seen" (the first with exactly 5 orders): a full name only one client has
Then every case is a GET of /admin/orders/ through the Flask test client (logged in as a Full
Administrator), small and large alternately; then each statement reading orders is EXPLAINed on
the large database and a scan of orders without an index is flagged.
"""

import argparse
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.list_bench import LIST_URL, print_plans  # noqa: E402
from bench.seed_bench import db_name  # noqa: E402

REPEATS = 9
BENCH_ADMIN = "filters-bench@example.com"
RARE_STATUS = "Rare Hold"
RARE_PRODUCT = "Rare Product"
UNIQUE_NAME = "Rarely Seen"
SPREAD = (0.1, 0.3, 0.5, 0.7, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", required=True, help="database URL (a copy: it is written once)")
    parser.add_argument("--large", required=True, help="database URL (a copy: it is written once)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--prepare", action="store_true",
                        help="only write the rare rows (then run `flask db upgrade` on both, then measure)")
    args = parser.parse_args()
    if args.prepare:
        for url in (args.small, args.large):
            prepare_rare_rows(url)
        return
    run([args.small, args.large], args.repeats)


def prepare_rare_rows(url: str) -> None:
    from tests.conftest import make_test_app

    app = make_test_app(url)
    with app.app_context():
        from extensions import db

        started = time.perf_counter()
        facts = rare_rows(db.session, write=True)
        print(f"{db_name(url)}: {facts['orders']:,} orders, rare rows written in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        db.engine.dispose()


def run(urls: list[str], repeats: int) -> None:
    from tests.conftest import make_test_app

    apps = []
    for url in urls:
        app = make_test_app(url)
        apps.append((app, prepare(app)))
    database = db_name(urls[0])
    cases = list_cases(apps[0][1]), list_cases(apps[1][1])
    clients = [app.test_client(user=facts["admin"]) for app, facts in apps]
    sizes = [facts["orders"] for _, facts in apps]
    print(f"\n{database}: orders list, rare and combined filters, median of {repeats} requests, ms "
          f"({sizes[0]:,} vs {sizes[1]:,} orders)", flush=True)
    print(f"| Case | Rows shown | ms at {sizes[0]:,} | ms at {sizes[1]:,} | ratio large/small |")
    print("|---|---:|---:|---:|---:|")
    for (name, small_query), (_, large_query) in zip(*cases, strict=True):
        pairs = [(clients[0], small_query), (clients[1], large_query)]
        page, shown = [[], []], []
        for client, query in pairs:  # warm up; rows shown at each size (they must agree)
            shown.append(request(client, query)[1])
        for _ in range(repeats):
            for side, (client, query) in enumerate(pairs):
                page[side].append(request(client, query)[0])
        small_ms, large_ms = statistics.median(page[0]), statistics.median(page[1])
        rows = shown[1] if shown[0] == shown[1] else f"{shown[0]} / {shown[1]}"
        print(f"| {name} | {rows} | {small_ms:.1f} | {large_ms:.1f} | {large_ms / small_ms:.2f} |",
              flush=True)
    print_plans(database, sizes[1], clients[1], apps[1][0], cases[1])
    for app, _ in apps:
        with app.app_context():
            from extensions import db

            db.engine.dispose()


# The documented setup step (dialect-neutral SQL; :names are bound below). Idempotent: it runs only
# on a database without the "Rare Hold" status.
RARE_SETUP = [
    "INSERT INTO order_statuses (title, color, include_in_pending, include_in_active, include_in_cancelled,"
    " sort_order, is_core) VALUES ('Rare Hold', '#aa7700', TRUE, FALSE, FALSE, 50, FALSE),"
    " ('Rare Dispute', '#7700aa', FALSE, FALSE, TRUE, 60, FALSE),"
    " ('Rare Documents', '#0077aa', FALSE, FALSE, TRUE, 70, FALSE)",
    "UPDATE order_statuses SET include_in_cancelled = FALSE WHERE title = 'Cancelled'",
    "UPDATE orders SET status = 'Rare Hold' WHERE id IN :on_hold",
    "UPDATE orders SET status = 'Rare Dispute' WHERE id IN :dispute",
    "UPDATE orders SET status = 'Rare Documents' WHERE id IN :documents",
    "UPDATE invoices SET status = 'Paid' WHERE status <> 'Paid'"
    " AND id NOT IN (SELECT invoice_id FROM orders WHERE id IN :unpaid AND invoice_id IS NOT NULL)",
    "UPDATE invoices SET status = 'Unpaid' WHERE id IN (SELECT invoice_id FROM orders WHERE id IN :unpaid)",
    "INSERT INTO products (name, group_name, type, description, module, default_server_id, auto_setup,"
    " welcome_email, requires_domain, stock_control, stock_quantity, hidden, retired, created_at)"
    " SELECT 'Rare Product', group_name, type, description, module, default_server_id, auto_setup,"
    " welcome_email, requires_domain, stock_control, stock_quantity, hidden, retired, created_at"
    " FROM products WHERE id = (SELECT min(id) FROM products)",
    "UPDATE services SET product_id = (SELECT id FROM products WHERE name = 'Rare Product')"
    " WHERE id IN :rare_services",
    "UPDATE clients SET first_name = 'Rarely', last_name = 'Seen' WHERE id = (SELECT min(client_id) FROM"
    " (SELECT client_id FROM orders GROUP BY client_id HAVING count(*) = 5) AS five_orders)",
]


def prepare(app) -> dict:
    """The rare rows (once), the bench's admin, and the values the cases filter by."""
    from sqlalchemy import select

    from extensions import db
    from models import AdminUser
    from tests import factories

    with app.app_context():
        facts = rare_rows(db.session, write=False)
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN)) or \
            factories.make_admin("Full Administrator", email=BENCH_ADMIN)
        db.session.commit()
        assert admin.id
        return {**facts, "admin": admin}


def rare_rows(session, write: bool) -> dict:
    """The values the cases filter by; with `write`, RARE_SETUP first unless done before (committed).
    Also the fixture of tests/test_filter_plans.py."""
    from sqlalchemy import bindparam, func, select, text

    from models import Client, Order, OrderStatusDefinition, Product, Service

    top = session.scalar(select(func.max(Order.id)))
    at = [max(1, int(top * fraction)) for fraction in SPREAD]
    marker = select(OrderStatusDefinition.id).where(OrderStatusDefinition.title == RARE_STATUS)
    if session.scalar(marker) is None:
        if not write:
            raise SystemExit(f"{session.get_bind().url}: no rare rows. Run this script with --prepare, "
                             "then `flask --app app db upgrade` on both databases, then measure.")
        services_top = session.scalar(select(func.max(Service.id)))
        ids = {
            "on_hold": at,
            "dispute": [n + 1 for n in at[:3]], "documents": [n + 2 for n in at[2:]],
            "unpaid": [n + 3 for n in at],
            "rare_services": [max(1, int(services_top * (k + 0.5) / 10)) for k in range(10)],
        }
        for statement in RARE_SETUP:
            names = [name for name in ids if f":{name}" in statement]
            sql = text(statement).bindparams(*(bindparam(name, expanding=True) for name in names))
            session.execute(sql, {name: ids[name] for name in names})
        session.commit()
    held = session.get(Order, at[2])  # a Rare Hold order: its client and month
    client = session.get(Client, session.get(Order, top // 3).client_id)  # not the renamed one
    return {
        "orders": session.scalar(select(func.count()).select_from(Order)),
        "held_client": held.client_id, "held_day": held.date.date(),
        "client_name": f"{client.first_name} {client.last_name}",
        "product": session.scalar(select(Product.id).where(Product.name == RARE_PRODUCT)),
        "common_product": session.scalar(select(Service.product_id).group_by(Service.product_id)
                                         .order_by(func.count().desc(), Service.product_id).limit(1)),
    }


def list_cases(facts: dict) -> list[tuple[str, dict]]:
    from admin.orders import OrderView

    day = facts["held_day"]
    first = day.replace(day=1)
    month = f"{first} to {(first + timedelta(days=32)).replace(day=1) - timedelta(days=1)}"
    year = f"{day - timedelta(days=183)} to {day + timedelta(days=182)}"
    by_amount = {"sort": str(OrderView.column_list.index("amount")), "desc": "1"}  # a list column's index
    return [
        ("status Rare Hold (5 orders)", {"flt0_status_equals": RARE_STATUS}),
        ("status Rare Hold + date range, a year", {"flt0_status_equals": RARE_STATUS,
                                                   "flt1_date_between": year}),
        ("status Rare Hold, sorted by total", {"flt0_status_equals": RARE_STATUS, **by_amount}),
        ("status Active + date range, a month", {"flt0_status_equals": "Active", "flt1_date_between": month}),
        ("status Active, sorted by total", {"flt0_status_equals": "Active", **by_amount}),
        ("payment status Unpaid (5 orders)", {"flt0_payment_status_equals": "Unpaid"}),
        ("product with 10 services", {"flt0_product_equals": str(facts["product"])}),
        ("product with the most services", {"flt0_product_equals": str(facts["common_product"])}),
        ("date range, a year + payment status Unpaid", {"flt0_date_between": year,
                                                        "flt1_payment_status_equals": "Unpaid"}),
        ("Cancelled group: two rare statuses (6 orders)", {"flt0_status_group_equals": "cancelled"}),
        ("Pending group (Pending + Rare Hold)", {"flt0_status_group_equals": "pending"}),
        ("Pending group + date range + client", {"flt0_status_group_equals": "pending",
                                                 "flt1_date_between": month,
                                                 "flt2_client_is": str(facts["held_client"])}),
        ("Pending group + payment status Unpaid", {"flt0_status_group_equals": "pending",
                                                   "flt1_payment_status_equals": "Unpaid"}),
        ("client by full name, one client's (Rarely Seen)", {"flt0_client_is": UNIQUE_NAME}),
        ("client by full name, a common one (more clients share it at 1M)",
         {"flt0_client_is": facts["client_name"]}),
        ("select all matching: Rare Hold", {"flt0_status_equals": RARE_STATUS, "all_matching": "1"}),
        ("select all matching: Pending group", {"flt0_status_group_equals": "pending", "all_matching": "1"}),
        ("select all matching: client by full name (Rarely Seen)", {"flt0_client_is": UNIQUE_NAME,
                                                                    "all_matching": "1"}),
    ]


def request(client, query: dict) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(LIST_URL, query_string=query)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (query, response.status_code)
    return elapsed * 1000, len(re.findall(r'class="col-order_number"', response.get_data(as_text=True)))


if __name__ == "__main__":
    main()
