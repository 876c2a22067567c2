"""next invoice date on services and domains (the daily renewal run's place in each item's billing)

Existing items have had every period up to their next due date invoiced: they start there.

Revision ID: 96911c48af33
Revises: 1894b54faa51
Create Date: 2026-12-01 11:53:07.558688

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '96911c48af33'
down_revision = '1894b54faa51'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (batch mode would recreate the tables on SQLite and lose the lower() indexes).
    for table in ("services", "domains"):
        op.add_column(table, sa.Column("next_invoice_date", sa.Date(), nullable=True))
        op.create_index(f"ix_{table}_next_invoice_date", table, ["next_invoice_date"], unique=False)
        op.execute(f"UPDATE {table} SET next_invoice_date = next_due_date")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in ("domains", "services"):
        op.drop_index(f"ix_{table}_next_invoice_date", table_name=table)
        if dialect == "sqlite":  # a plain DROP COLUMN (3.35+), as for the index above
            op.execute(f"ALTER TABLE {table} DROP COLUMN next_invoice_date")
        else:
            op.drop_column(table, "next_invoice_date")
