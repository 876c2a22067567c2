"""`flask db upgrade` builds the schema from empty on SQLite and PostgreSQL, exactly as the models
describe it (no drift: a column added to a model without a migration fails here), and downgrades."""


import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from extensions import db
from models import OrderStatusDefinition
from models.order_counts import POSTGRESQL_CHANGES_FUNCTION
from models.substring_index import INDEXES as SUBSTRING_INDEXES
from models.substring_index import include_object, is_fts_table
from tests.conftest import fresh_postgres_database, make_test_app

WHMCS_COLOURS = {"Pending": "#cc0000", "Active": "#779500", "Cancelled": "#888888", "Fraud": "#000000"}


@pytest.fixture
def empty_postgres_url():
    """A database of its own: the session's PostgreSQL database already holds create_all's tables."""
    with fresh_postgres_database("orderdesk_migrations") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    return request.getfixturevalue("empty_postgres_url")


def schema_drift(connection) -> list:
    """What autogenerate would write into a new migration; empty when models and migrations agree."""
    context = MigrationContext.configure(connection, opts={
        "compare_type": True,
        "compare_server_default": True,
        "render_as_batch": True,
        "include_object": include_object,  # as migrations/env.py
    })
    return compare_metadata(context, db.metadata)


def missing_indexes(connection) -> set[str]:
    """Indexes the models declare that the database lacks, by name. Alembic's comparison skips
    expression indexes (lower(email)) on SQLite, so the names are checked directly too."""
    declared = {str(index.name) for table in db.metadata.sorted_tables for index in table.indexes
                if index._ddl_if is None or index._ddl_if.dialect in (None, connection.dialect.name)}
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return declared - set(connection.scalars(text(query)))


def function_body(connection, name: str) -> str:
    """A PostgreSQL function's source, its whitespace collapsed (autogenerate compares no functions)."""
    return " ".join(connection.scalar(text("SELECT prosrc FROM pg_proc WHERE proname = :name"),
                                      {"name": name}).split())


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_database_url):
    app = make_test_app(empty_database_url)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        flask_migrate.upgrade()

        tables = set(inspect(db.engine).get_table_names())
        if db.engine.dialect.name == "sqlite":  # the substring search's FTS5 tables, and theirs
            assert {index.fts for index in SUBSTRING_INDEXES.values()} <= tables
            tables = {name for name in tables if not is_fts_table(name)}
        assert tables == {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
        with db.engine.connect() as conn:
            assert schema_drift(conn) == []
            assert missing_indexes(conn) == set()
            if conn.dialect.name == "postgresql":  # the counters' trigger function, as create_all makes it
                assert function_body(conn, "orders_count_changes") == \
                    " ".join(POSTGRESQL_CHANGES_FUNCTION.split("$$")[1].split())

        core = db.session.execute(select(OrderStatusDefinition.title, OrderStatusDefinition.color)
                                  .where(OrderStatusDefinition.is_core)).all()
        assert dict(core) == WHMCS_COLOURS
        db.session.remove()

        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0
        db.engine.dispose()


def test_the_drift_check_sees_a_column_missing_from_the_migrations(empty_database_url):
    """The check above can fail: a column only the database has is reported."""
    app = make_test_app(empty_database_url)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE orders ADD COLUMN forgotten INTEGER"))
        with db.engine.connect() as conn:
            drift = schema_drift(conn)
        assert [(d[2], d[3].name) for d in drift if d[0] == "remove_column"] == [("orders", "forgotten")]
        db.engine.dispose()
