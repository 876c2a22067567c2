"""Indexes for the orders list's rare and combined filters: status with a date range, status sorted
by total, payment status (invoices by status, and the unpaid ones alone)

Revision ID: 5e7a91c3d2b4
Revises: 51d8691161e8
Create Date: 2026-12-01 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e7a91c3d2b4'
down_revision = '51d8691161e8'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch mode): orders has triggers on SQLite and is never recreated.
    op.create_index('ix_orders_status_date_id', 'orders', ['status', 'date', 'id'], unique=False)
    op.create_index('ix_orders_status_amount_id', 'orders', ['status', 'amount', 'id'], unique=False)
    op.create_index('ix_invoices_status_id', 'invoices', ['status', 'id'], unique=False)
    unpaid = sa.text("status <> 'Paid'")
    op.create_index('ix_invoices_unpaid_id', 'invoices', ['id'], unique=False,
                    sqlite_where=unpaid, postgresql_where=unpaid)


def downgrade():
    op.drop_index('ix_invoices_unpaid_id', table_name='invoices')
    op.drop_index('ix_invoices_status_id', table_name='invoices')
    op.drop_index('ix_orders_status_amount_id', table_name='orders')
    op.drop_index('ix_orders_status_date_id', table_name='orders')
