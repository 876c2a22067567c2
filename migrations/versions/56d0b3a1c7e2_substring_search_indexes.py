"""Substring search indexes: pg_trgm GIN indexes on PostgreSQL, FTS5 trigram tables kept by
triggers on SQLite, for clients, services and domains (models/substring_index.py)

Revision ID: 56d0b3a1c7e2
Revises: 0e8d88a3e838
Create Date: 2026-12-01 15:30:00.000000

"""
from alembic import op
from sqlalchemy.schema import CreateIndex

from models.substring_index import INDEXES

# revision identifiers, used by Alembic.
revision = '56d0b3a1c7e2'
down_revision = '0e8d88a3e838'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for model, index in INDEXES.items():
            gin = next(i for i in model.__table__.indexes if i.name == index.gin)
            op.execute(CreateIndex(gin))
            # The planner knows an expression index's values only after ANALYZE: without it, it
            # would guess how many rows a LIKE '%word%' matches and may walk the table instead.
            op.execute(f"ANALYZE {index.table}")
    else:
        for index in INDEXES.values():
            for statement in index.sqlite_ddl():
                op.execute(statement)
            op.execute(index.sqlite_backfill())


def downgrade():
    for index in INDEXES.values():
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f"DROP INDEX IF EXISTS {index.gin}")
        else:
            for statement in index.sqlite_drop():
                op.execute(statement)
    # pg_trgm stays: other objects may use it, and it costs nothing unused.
