"""The pages beside the list, at two sizes in one run: order page, invoice page, client summary,
Add New Order and the intelligent search.

    .venv/bin/python bench/pages_bench.py --small sqlite:////tmp/orders_10k.sqlite \
        --large sqlite:////tmp/orders_1m.sqlite
    .venv/bin/python bench/pages_bench.py --small postgresql://postgres@127.0.0.1:5432/copy_10k \
        --large postgresql://postgres@127.0.0.1:5432/copy_1m

Give it copies of databases as the CLI leaves them (`flask db upgrade` + `flask seed-demo`): it
adds the same fixture to both, through the product's own actions where one exists:
- an order of 20 services placed by `place_order` for a demo client, and 50 events on its
  timeline (admin notes changed 50 times by `update_admin_notes`); its invoice has 20 lines;
- a client with 5,000 orders: the demo's last client gets 5,000 orders placed by `place_order`
  (one service and its domain each, committed every BATCH; a run cut short resumes where it stopped).
Then, through the Flask test client as a Full Administrator, the small and the large database are
requested alternately (--repeats rounds after a warm-up; median): ms at each size, the ratio
large/small, and the statements each page sends at each size (equal: nothing grows with the data).
Nothing ANALYZEs the databases here.
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
BENCH_ADMIN = "pages-bench@example.com"
BIG_ORDER_ITEMS = 20
BIG_ORDER_EVENTS = 50
BUSY_CLIENT_ORDERS = 5_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", required=True, help="database URL of the small size")
    parser.add_argument("--large", required=True, help="database URL of the large size")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    from tests.conftest import make_test_app
    from tests.sql_support import recorded_statements

    sides = []
    for url in (args.small, args.large):
        app = make_test_app(url, SECRET_KEY=None)  # the instance's key, which encrypted the CLI's rows
        facts = fixture(app)
        sides.append((app, facts, app.test_client(user=facts["admin"])))
    print(f"\n{sides[0][1]['database']}: pages at {sides[0][1]['orders']:,} and {sides[1][1]['orders']:,} "
          f"orders, median of {args.repeats} requests")
    print("| Page | ms small | ms large | ratio large/small | statements small | statements large |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in PAGES:
        urls = [PAGES[name](facts) for _, facts, _ in sides]
        counts = []
        for (app, _, client), url in zip(sides, urls, strict=True):
            timed(client, url)  # warm up
            with app.app_context():
                from extensions import db

                engine = db.engine
            with recorded_statements(engine) as captured:
                timed(client, url)
            counts.append(len(captured))
        times = [[], []]
        for _ in range(args.repeats):
            for side, ((_, _, client), url) in enumerate(zip(sides, urls, strict=True)):
                times[side].append(timed(client, url))
        small, large = (statistics.median(t) for t in times)
        print(f"| {name} | {small:.1f} | {large:.1f} | {large / small:.2f} | {counts[0]} | {counts[1]} |",
              flush=True)


PAGES = {
    "order page (20 items, 50 events)": lambda f: f"/admin/orders/details/?id={f['big_order']}",
    "invoice page (20 lines)": lambda f: f"/admin/invoices/details/?id={f['big_invoice']}",
    f"client summary ({BUSY_CLIENT_ORDERS:,} orders)": lambda f: f"/admin/client-summary/{f['busy_client']}/",
    "Add New Order (form)": lambda f: "/admin/add-order/",
    "intelligent search (client's last name)": lambda f: f"/admin/search/?q={f['last_name']}",
    "intelligent search (order #)": lambda f: f"/admin/search/?q={f['order_number']}",
}


def fixture(app) -> dict:
    """The big order, the busy client and an admin; made once (a second run reuses them)."""
    from sqlalchemy import func, select

    from actions.actor import Actor
    from actions.notes import update_admin_notes
    from actions.place import place_order
    from extensions import db
    from models import AdminUser, Client, Order
    from tests import factories

    with app.app_context():
        session = db.session
        admin = session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN))
        if admin is None:
            admin = factories.make_admin("Full Administrator", email=BENCH_ADMIN)
            session.commit()
        actor = Actor.admin(admin)
        big = session.scalar(select(Order).where(Order.placed_by_admin_id == admin.id).order_by(Order.id))
        if big is None:
            first_client = session.scalar(select(func.min(Client.id)))
            big = place_order(session, starter_cart(session, first_client, "pages-bench", BIG_ORDER_ITEMS),
                              actor, quiet_placement(admin.id))
            session.commit()
            for n in range(BIG_ORDER_EVENTS):
                note = f"Call {n}: the client asked about item {n % BIG_ORDER_ITEMS}."
                update_admin_notes(session, big.id, note, actor)
                session.commit()
        busy = session.scalar(select(func.max(Client.id)))
        placed = session.scalar(select(func.count()).where(Order.client_id == busy))
        for n in range(placed, BUSY_CLIENT_ORDERS):
            place_order(session, starter_cart(session, busy, f"busy-{n}"), actor, quiet_placement())
            if n % BATCH == BATCH - 1:
                session.commit()
        session.commit()
        assert admin.id  # loaded now: the test client signs it in after the session closes
        return {
            "admin": admin, "database": db.engine.dialect.name,
            "orders": session.scalar(select(func.count()).select_from(Order)),
            "big_order": big.id, "big_invoice": big.invoice_id, "busy_client": busy,
            "last_name": session.get(Client, busy).last_name, "order_number": big.order_number,
        }


BATCH = 250


def starter_cart(session, client_id: int, domain: str, items: int = 1):
    """A bank-transfer cart of `items` Starter services, each with its own domain under `domain`."""
    from sqlalchemy import select

    from actions.cart import Cart, CartProduct
    from models import Product

    product = session.scalar(select(Product.id).where(Product.name == "Starter"))
    lines = [CartProduct(product, domain=f"{domain}-{n}.example.com") for n in range(items)]
    return Cart(client_id=client_id, payment_method="banktransfer", products=lines)


def quiet_placement(admin_id: int | None = None):
    """No emails: the bench measures pages, not the outbox."""
    from actions.cart import PlaceOptions

    return PlaceOptions(order_confirmation=False, new_order_notification=False,
                        send_invoice_email=False, placed_by_admin_id=admin_id)


def timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed * 1000


if __name__ == "__main__":
    main()
