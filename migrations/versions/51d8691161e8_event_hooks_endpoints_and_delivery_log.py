"""Event hooks: the endpoints an admin configures (secret encrypted) and the delivery log

Revision ID: 51d8691161e8
Revises: b6e1082a0a6f
Create Date: 2026-12-01 15:23:11.268199

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '51d8691161e8'
down_revision = 'b6e1082a0a6f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('side_effect_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hook_deliveries'))
    )
    op.create_index('ix_hook_deliveries_endpoint_id_id', 'hook_deliveries', ['endpoint_id', 'id'], unique=False)

    op.create_table('hook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hook_endpoints'))
    )


def downgrade():
    op.drop_table('hook_endpoints')
    op.drop_index('ix_hook_deliveries_endpoint_id_id', table_name='hook_deliveries')
    op.drop_table('hook_deliveries')
