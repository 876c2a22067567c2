"""Order counters per statement on PostgreSQL for updates too: a status change of many orders in one
UPDATE (a bulk change) upserts each status's counter once, not once per order (one row version per
order of the same counter row, in one transaction, each upsert walking the ones before)

Revision ID: 5c2e7d9a41b3
Revises: ee96828bc7f4
Create Date: 2026-12-01 19:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c2e7d9a41b3'
down_revision = 'ee96828bc7f4'
branch_labels = None
depends_on = None

SHARDS = 32
# What this migration replaces (models/order_counts.py before it), for the downgrade.
ROW_FUNCTION = f"""CREATE OR REPLACE FUNCTION orders_count_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard integer := mod(pg_backend_pid(), {SHARDS});
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO order_status_counts (status, shard, orders) VALUES (OLD.status, my_shard, -1)
        ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders - 1;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO order_status_counts (status, shard, orders) VALUES (NEW.status, my_shard, 1)
        ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders + 1;
    END IF;
    RETURN NULL;
END $$"""
CHANGES_FUNCTION = f"""CREATE OR REPLACE FUNCTION orders_count_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    my_shard integer := mod(pg_backend_pid(), {SHARDS});
BEGIN
    INSERT INTO order_status_counts (status, shard, orders)
    SELECT status, my_shard, sum(delta) FROM (
        SELECT old_row.status, -1 AS delta, new_row.status AS other FROM old_orders AS old_row
        JOIN new_orders AS new_row ON new_row.id = old_row.id
        UNION ALL
        SELECT new_row.status, 1, old_row.status FROM old_orders AS old_row
        JOIN new_orders AS new_row ON new_row.id = old_row.id
    ) AS moves WHERE status IS DISTINCT FROM other GROUP BY status
    ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders + EXCLUDED.orders;
    RETURN NULL;
END $$"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite updates in place: its row triggers stay
    op.execute("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")  # no status change between the two
    op.execute(CHANGES_FUNCTION)
    op.execute("DROP TRIGGER IF EXISTS orders_count_update ON orders")
    op.execute("CREATE TRIGGER orders_count_update AFTER UPDATE ON orders "
               "REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders "
               "FOR EACH STATEMENT EXECUTE FUNCTION orders_count_changes()")
    op.execute("DROP FUNCTION IF EXISTS orders_count_status()")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")
    op.execute("DROP TRIGGER IF EXISTS orders_count_update ON orders")
    op.execute("DROP FUNCTION IF EXISTS orders_count_changes()")
    op.execute(ROW_FUNCTION)
    op.execute("CREATE TRIGGER orders_count_update AFTER UPDATE OF status ON orders FOR EACH ROW "
               "WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION orders_count_status()")
