"""activity log (events without an order, indexes for its filters), the dashboard's daily figures,
saved views

Revision ID: d783a1514a23
Revises: 606c5651ba07
Create Date: 2026-12-01 09:26:24.959471

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd783a1514a23'
down_revision = '606c5651ba07'
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
    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=50), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['admin_users.id'], name=op.f('fk_saved_views_admin_id_admin_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
    sa.UniqueConstraint('admin_id', 'endpoint', 'name', name='uq_saved_views_admin_endpoint_name')
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_admin_id'), ['admin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_views_endpoint'), ['endpoint'], unique=False)
    # The figures of the orders and payments already there (the app keeps them current from now on).
    day = "date({})" if op.get_bind().dialect.name == "sqlite" else "CAST({} AS DATE)"
    op.execute(f"INSERT INTO daily_order_counts (day, status, orders) "
               f"SELECT {day.format('date')}, status, count(*) FROM orders GROUP BY 1, 2")
    op.execute(f"INSERT INTO daily_revenue (day, paid_in, refunded) "
               f"SELECT {day.format('date')}, coalesce(sum(amount_in), 0), coalesce(sum(amount_out), 0) "
               f"FROM transactions GROUP BY 1")


def downgrade():
    op.drop_table('saved_views')
    op.drop_table('daily_revenue')
    op.drop_table('daily_order_counts')
    # Rows without an order cannot stay once order_id is required again: they go.
    op.execute("DELETE FROM order_events WHERE order_id IS NULL")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index('ix_order_events_verb_id')
        batch_op.drop_index('ix_order_events_created_at_id')
        batch_op.drop_index('ix_order_events_actor_type_actor_id_id')
        batch_op.alter_column('order_id', existing_type=sa.INTEGER(), nullable=False)
