"""Side effects by target: an invoice's captures and refunds, a service's terminate

Revision ID: 9a4d2c71e6b8
Revises: c3a7e1f05d92
Create Date: 2026-12-01 20:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9a4d2c71e6b8'
down_revision = 'c3a7e1f05d92'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch mode: nothing is recreated). On PostgreSQL it blocks writes to
    # side_effects while it builds (docs/deploy.md, "Deploying a new version").
    op.create_index('ix_side_effects_target_type_target_id_id', 'side_effects',
                    ['target_type', 'target_id', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_side_effects_target_type_target_id_id', table_name='side_effects')
