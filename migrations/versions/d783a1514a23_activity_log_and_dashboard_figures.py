"""activity log (events without an order, indexes for its filters) and the dashboard's daily figures

Revision ID: d783a1514a23
Revises: 1f94921cf348
Create Date: 2026-12-01 09:26:24.959471

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd783a1514a23'
down_revision = '1f94921cf348'
branch_labels = None
depends_on = None


def upgrade():
    # Back-office activity (exports, ...) has no order; the activity log filters by admin, verb
    # and date, each newest first.
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.alter_column('order_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index('ix_order_events_actor_type_actor_id_id', ['actor_type', 'actor_id', 'id'],
                              unique=False)
        batch_op.create_index('ix_order_events_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_order_events_verb_id', ['verb', 'id'], unique=False)

    op.create_table('daily_order_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'status', name=op.f('pk_daily_order_counts'))
    )
    op.create_table('daily_revenue',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('paid_in', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('refunded', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_revenue'))
    )
    # The figures of the orders and payments already there (the app keeps them current from now on).
    day = "date({})" if op.get_bind().dialect.name == "sqlite" else "CAST({} AS DATE)"
    op.execute(f"INSERT INTO daily_order_counts (day, status, orders) "
               f"SELECT {day.format('date')}, status, count(*) FROM orders GROUP BY 1, 2")
    op.execute(f"INSERT INTO daily_revenue (day, paid_in, refunded) "
               f"SELECT {day.format('date')}, coalesce(sum(amount_in), 0), coalesce(sum(amount_out), 0) "
               f"FROM transactions GROUP BY 1")


def downgrade():
    op.drop_table('daily_revenue')
    op.drop_table('daily_order_counts')
    # Rows without an order cannot stay once order_id is required again: they go.
    op.execute("DELETE FROM order_events WHERE order_id IS NULL")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index('ix_order_events_verb_id')
        batch_op.drop_index('ix_order_events_created_at_id')
        batch_op.drop_index('ix_order_events_actor_type_actor_id_id')
        batch_op.alter_column('order_id', existing_type=sa.INTEGER(), nullable=False)
