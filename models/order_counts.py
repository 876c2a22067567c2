"""Orders per status, kept current by database triggers, so an exact total is a sum of a few rows.

The API's GetOrders must return `totalresults` exactly on every page, and GetOrderStatuses counts
per status; a COUNT over a million orders per call is neither cheap nor flat. Triggers on `orders`
(insert, delete, change of status; a renamed status cascades into orders and so is counted too)
add +1/-1 to a counter row. Every writer is covered: the ORM, set-based bulk changes, seed-demo's
batch inserts and hand-written SQL.

PostgreSQL: each connection adds to its own shard (backend pid % SHARDS) so concurrent
transactions never wait on one hot row; a shard may go negative, only the sum per status is
meaningful. Inserts and deletes are counted once per statement (transition tables: one upsert per
status however many rows), so a bulk load (seed-demo's COPY of 5,000 orders) writes a handful of
counter row versions, not one per order: every version is a dead tuple until VACUUM, and a
5-row table bloated to a million versions made every unfiltered count scan thousands of pages.
Updates too: a statement trigger (transition tables cannot be limited to the status column, so it
fires on every UPDATE of orders) upserts once per status that lost or gained orders. A row trigger
upserted the same counter row once per changed order: a bulk change of 10,000 orders piled 10,000
versions of that row into one transaction, each upsert walking the ones before (4 s instead of 1).
The statement trigger sums -1 per updated row's old status and +1 per new one: an order whose
status did not change nets 0, and a status whose net is 0 is not written. (Joining the old rows to
the new ones by id, as it first did, took 0.7 s of an 88,000-order bulk change; this takes 0.06.)
SQLite updates rows in place and has one writer at a time: row triggers, one shard.

Anything that empties `orders` without row triggers (TRUNCATE) must empty this table too.
"""

from sqlalchemy import DDL, Integer, String, event, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.orders import Order

SHARDS = 32


class OrderStatusCount(Base):
    __tablename__ = "order_status_counts"

    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)


def _sqlite_upsert(status: str, delta: int) -> str:
    return (
        f"INSERT INTO order_status_counts (status, shard, orders) VALUES ({status}, 0, {delta}) "
        f"ON CONFLICT (status, shard) DO UPDATE SET orders = orders + {delta};"
    )


SQLITE_TRIGGERS = [
    "CREATE TRIGGER orders_count_insert AFTER INSERT ON orders BEGIN "
    + _sqlite_upsert("NEW.status", 1)
    + " END",
    "CREATE TRIGGER orders_count_delete AFTER DELETE ON orders BEGIN "
    + _sqlite_upsert("OLD.status", -1)
    + " END",
    "CREATE TRIGGER orders_count_update AFTER UPDATE OF status ON orders "
    "WHEN OLD.status IS NOT NEW.status BEGIN "
    + _sqlite_upsert("OLD.status", -1)
    + " "
    + _sqlite_upsert("NEW.status", 1)
    + " END",
]

POSTGRESQL_CHANGES_FUNCTION = f"""CREATE OR REPLACE FUNCTION orders_count_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    my_shard integer := mod(pg_backend_pid(), {SHARDS});
BEGIN
    INSERT INTO order_status_counts (status, shard, orders)
    SELECT status, my_shard, sum(delta) FROM (
        SELECT status, -1 AS delta FROM old_orders
        UNION ALL
        SELECT status, 1 FROM new_orders
    ) AS moves GROUP BY status HAVING sum(delta) <> 0
    ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders + EXCLUDED.orders;
    RETURN NULL;
END $$"""
POSTGRESQL_UPDATE_TRIGGER = (
    "CREATE TRIGGER orders_count_update AFTER UPDATE ON orders "
    "REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders "
    "FOR EACH STATEMENT EXECUTE FUNCTION orders_count_changes()"
)

POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION orders_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard integer := mod(pg_backend_pid(), {SHARDS});
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO order_status_counts (status, shard, orders)
        SELECT status, my_shard, count(*) FROM inserted_orders GROUP BY status
        ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders + EXCLUDED.orders;
    ELSE
        INSERT INTO order_status_counts (status, shard, orders)
        SELECT status, my_shard, -count(*) FROM deleted_orders GROUP BY status
        ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders + EXCLUDED.orders;
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER orders_count_insert AFTER INSERT ON orders REFERENCING NEW TABLE AS inserted_orders "
    "FOR EACH STATEMENT EXECUTE FUNCTION orders_count_statement()",
    "CREATE TRIGGER orders_count_delete AFTER DELETE ON orders REFERENCING OLD TABLE AS deleted_orders "
    "FOR EACH STATEMENT EXECUTE FUNCTION orders_count_statement()",
    POSTGRESQL_CHANGES_FUNCTION,
    POSTGRESQL_UPDATE_TRIGGER,
]

# The counts of the orders already there (a migration onto an existing database).
BACKFILL = (
    "INSERT INTO order_status_counts (status, shard, orders) "
    "SELECT status, 0, count(*) FROM orders GROUP BY status"
)

for _statement in SQLITE_TRIGGERS:
    event.listen(Order.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_TRIGGERS:
    event.listen(Order.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _function in ("orders_count_changes", "orders_count_statement"):
    event.listen(
        Order.__table__,
        "after_drop",
        DDL(f"DROP FUNCTION IF EXISTS {_function}()").execute_if(dialect="postgresql"),
    )


def count_orders(session: Session, status: str | None = None) -> int:
    """Exactly how many orders there are (with this status): a sum over at most SHARDS rows."""
    query = select(func.coalesce(func.sum(OrderStatusCount.orders), 0))
    if status is not None:
        query = query.where(OrderStatusCount.status == status)
    return int(session.scalar(query))


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OrderStatusCount.status, func.sum(OrderStatusCount.orders)).group_by(OrderStatusCount.status)
    )
    return {status: int(total) for status, total in rows}
