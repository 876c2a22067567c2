"""Order counters per statement on PostgreSQL: inserts and deletes of orders upsert each status's
counter once per statement (transition tables), not once per row; the counters are recounted into
a fresh table, so one bloated by a bulk load (a million dead row versions) is compact again

Revision ID: 0e8d88a3e838
Revises: 33e17410b633
Create Date: 2026-12-01 15:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0e8d88a3e838'
down_revision = '33e17410b633'
branch_labels = None
depends_on = None

SHARDS = 32
STATEMENT_FUNCTION = f"""CREATE OR REPLACE FUNCTION orders_count_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
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
END $$"""
# TRUNCATE gives the table a new, compact file (a DELETE would leave the dead versions behind).
RECOUNT = (
    "LOCK TABLE orders IN SHARE MODE",
    "TRUNCATE order_status_counts",
    "INSERT INTO order_status_counts (status, shard, orders) "
    "SELECT status, 0, count(*) FROM orders GROUP BY status",
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite updates in place: its row triggers stay
    op.execute("DROP TRIGGER IF EXISTS orders_count_insert ON orders")
    op.execute("DROP TRIGGER IF EXISTS orders_count_delete ON orders")
    op.execute(STATEMENT_FUNCTION)
    op.execute("CREATE TRIGGER orders_count_insert AFTER INSERT ON orders "
               "REFERENCING NEW TABLE AS inserted_orders "
               "FOR EACH STATEMENT EXECUTE FUNCTION orders_count_statement()")
    op.execute("CREATE TRIGGER orders_count_delete AFTER DELETE ON orders "
               "REFERENCING OLD TABLE AS deleted_orders "
               "FOR EACH STATEMENT EXECUTE FUNCTION orders_count_statement()")
    for statement in RECOUNT:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS orders_count_insert ON orders")
    op.execute("DROP TRIGGER IF EXISTS orders_count_delete ON orders")
    op.execute("DROP FUNCTION IF EXISTS orders_count_statement()")
    op.execute("CREATE TRIGGER orders_count_insert AFTER INSERT ON orders "
               "FOR EACH ROW EXECUTE FUNCTION orders_count_status()")
    op.execute("CREATE TRIGGER orders_count_delete AFTER DELETE ON orders "
               "FOR EACH ROW EXECUTE FUNCTION orders_count_status()")
