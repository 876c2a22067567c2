"""Fraud protection: fraud_checks (every check's result), fraud_module_settings (the module's
configuration, licence key encrypted), orders.fraud_check_failed (the list's filter, indexed)

Revision ID: 2bef196b0b8b
Revises: 7fb72ca73ea5
Create Date: 2026-12-01 11:56:31.019967

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2bef196b0b8b'
down_revision = '7fb72ca73ea5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fraud_module_settings',
    sa.Column('module', sa.String(length=50), nullable=False),
    sa.Column('account_id', sa.String(length=20), nullable=False),
    sa.Column('license_key', sa.Text(), nullable=True),
    sa.Column('service', sa.String(length=20), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('reject_free_email', sa.Boolean(), nullable=False),
    sa.Column('reject_country_mismatch', sa.Boolean(), nullable=False),
    sa.Column('reject_anonymous_proxy', sa.Boolean(), nullable=False),
    sa.Column('reject_high_risk_countries', sa.Boolean(), nullable=False),
    sa.Column('high_risk_countries', sa.JSON(), nullable=False),
    sa.Column('skip_existing_clients', sa.Boolean(), nullable=False),
    sa.Column('skip_gateways', sa.JSON(), nullable=False),
    sa.Column('timeout', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('module', name=op.f('pk_fraud_module_settings'))
    )
    op.create_table('fraud_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=50), nullable=False),
    sa.Column('service', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('threshold', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('actor_name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_fraud_checks_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_checks'))
    )
    op.create_index('ix_fraud_checks_order_id_id', 'fraud_checks', ['order_id', 'id'], unique=False)
    # Plain ADD COLUMN: batch mode would recreate orders on SQLite and lose its triggers and indexes.
    op.add_column('orders', sa.Column('fraud_check_failed', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_index('ix_orders_fraud_check_failed_id', 'orders', ['fraud_check_failed', 'id'], unique=False)



def downgrade():
    op.drop_index('ix_orders_fraud_check_failed_id', table_name='orders')
    # SQLite: a plain DROP COLUMN (3.35+), for the same reason.
    op.drop_column('orders', 'fraud_check_failed')
    op.drop_index('ix_fraud_checks_order_id_id', table_name='fraud_checks')

    op.drop_table('fraud_checks')
    op.drop_table('fraud_module_settings')
