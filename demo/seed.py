"""`flask seed-demo`: make sure the catalog, N clients and N orders exist, adding what is missing.

Large runs are set-based: batches of BATCH orders, each written with one executemany per table
(demo/bulk.py) and committed, so memory stays bounded and an interrupted run is completed by the
next one. Run it while nothing else writes orders.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from actions.reference_data import ensure_reference_data
from demo.bulk import Ids, order_numbers
from demo.catalog import PROMOTIONS, DemoCatalog, ensure_catalog
from demo.history import TABLES, HistoryWriter
from demo.people import ensure_affiliates, top_up_clients
from demo.plans import HISTORY, order_plans
from models import Client, Order, Promotion
from models.planner_stats import gather_statistics
from models.substring_index import indexing_deferred

BATCH = 5_000
NUMBER_SEED = 3_000_000_000_000


def seed_demo(session: Session, orders: int = 200, clients: int | None = None,
              only_if_empty: bool = False, now: datetime | None = None) -> str:
    """Make sure at least `orders` orders and `clients` clients exist (default clients: orders / 5,
    at least 20), adding the missing ones; `now` (default: this hour) ends the demo's history.
    Commits. Returns a one-line summary."""
    ensure_reference_data(session)
    if only_if_empty and session.scalar(select(Order.id).limit(1)) is not None:
        session.commit()
        return "Orders already exist: demo data not loaded."
    clients = max(20, orders // 5) if clients is None else clients
    now = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    catalog = ensure_catalog(session)
    session.commit()
    signups = (now - HISTORY - timedelta(days=60), now - timedelta(days=1))
    with indexing_deferred(session):
        new_clients = top_up_clients(session, clients, *signups)
        ensure_affiliates(session, max(3, clients // 50))
        new_orders = _top_up_orders(session, orders, catalog, now)
    _count_promotion_uses(session)
    session.commit()
    gather_statistics(session.connection())  # the rows just written, for the planner
    session.commit()
    total_orders = session.scalar(select(func.count()).select_from(Order))
    total_clients = session.scalar(select(func.count()).select_from(Client))
    return (f"Seeded {total_orders} orders, {total_clients} clients "
            f"({new_orders} new orders, {new_clients} new clients).")


def _top_up_orders(session: Session, target: int, catalog: DemoCatalog, now: datetime) -> int:
    conn = session.connection()
    have = conn.scalar(select(func.count()).select_from(Order))
    if have >= target:
        return 0
    ids = Ids(conn, TABLES)
    writer = HistoryWriter(catalog, ids)
    plans = order_plans(session, catalog, target, now)
    for first in range(have + 1, target + 1, BATCH):
        ks = range(first, min(first + BATCH, target + 1))
        numbers = order_numbers(conn, NUMBER_SEED, ks)
        for k, plan in zip(ks, plans, strict=False):
            writer.write(plan, numbers[k])
        writer.flush(conn)
        ids.publish(conn)
        session.commit()
        conn = session.connection()
    return target - have


def _count_promotion_uses(session: Session) -> None:
    """Placing claims one use per order with the code (actions.promotions.claim_promotion_use)."""
    used = (select(func.count()).select_from(Order).where(Order.promo_code == Promotion.code)
            .scalar_subquery())
    session.execute(update(Promotion).where(Promotion.code.in_([p["code"] for p in PROMOTIONS]))
                    .values(uses=used))
