"""Invoice actions: the last capture error and a version per invoice; a client's saved card

Revision ID: 1894b54faa51
Revises: 2bef196b0b8b
Create Date: 2026-12-01 11:51:58.092429

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1894b54faa51'
down_revision = '2bef196b0b8b'
branch_labels = None
depends_on = None

COLUMNS = (
    ('clients', sa.Column('gateway_customer_id', sa.String(length=255), server_default=sa.text("''"),
                          nullable=False)),
    ('clients', sa.Column('gateway_payment_method_id', sa.String(length=255), server_default=sa.text("''"),
                          nullable=False)),
    ('invoices', sa.Column('capture_error', sa.Text(), server_default=sa.text("''"), nullable=False)),
    ('invoices', sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False)),
)


def upgrade():
    # Plain ADD COLUMN (batch mode would recreate the tables on SQLite and lose the lower() indexes).
    for table, column in COLUMNS:
        op.add_column(table, column)


def downgrade():
    # SQLite: a plain DROP COLUMN (3.35+); batch mode would recreate tables other tables refer to.
    dialect = op.get_bind().dialect.name
    for table, column in reversed(COLUMNS):
        if dialect == 'sqlite':
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")
        else:
            op.drop_column(table, column.name)
