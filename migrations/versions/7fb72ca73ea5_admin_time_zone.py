"""Admin time zone: each admin's profile setting for showing times (stored UTC)

Revision ID: 7fb72ca73ea5
Revises: e365a0b05406
Create Date: 2026-12-01 11:53:52.897718

"""
import sqlalchemy as sa
from alembic import op

revision = '7fb72ca73ea5'
down_revision = 'e365a0b05406'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('admin_users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
