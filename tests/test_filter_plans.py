"""Plans that hold on a fresh install (models/planner_stats.py, admin/filters.py).

- `flask db upgrade` and `flask seed-demo` leave the planner statistics (sqlite_stat1 rows, pg_stats
  rows) for the orders table; SQLite's PRAGMA optimize at connection close analyzes a table it used.
- Every case of bench/filters_bench.py (rare statuses, a two-status group, Unpaid among paid, a
  product of 10 services, combinations, "select all matching"), on a database built by the CLI with
  the bench's rare rows, reads orders through an index: no statement scans orders. On PostgreSQL,
  a few hundred orders fit in a few pages and a sequential scan is honestly cheapest, so plans are
  read with sequential scans priced out: what is checked there is that an index answers each
  statement (the plans at 1,000,000 orders are the bench's, BENCHMARKS.md).
- Each case sends as many statements at twice the orders (no statement per row or per match).
Not timing: the speed is bench/filters_bench.py's.
"""

import re

import pytest
from sqlalchemy import text

from bench.filters_bench import list_cases, rare_rows
from bench.list_bench import LIST_URL
from extensions import db
from models.planner_stats import statistics_warnings
from tests import factories
from tests.conftest import fresh_postgres_database, make_test_app
from tests.sql_support import query_plan, recorded_statements

ORDERS = 400


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cli_database(request, tmp_path_factory):
    """An empty database's URL (SQLite file or PostgreSQL database of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('plans') / 'cli.db'}"
        return
    with fresh_postgres_database("orderdesk_plans") as url:
        yield url


def orders_statistics(connection) -> int:
    """Rows of planner statistics on the orders table (its indexes on SQLite, its columns on PG)."""
    if connection.dialect.name == "sqlite":
        if not connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")):
            return 0
        return connection.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'orders'"))
    return connection.scalar(text(
        "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'orders'"))


def forget_statistics(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.execute(text("DELETE FROM sqlite_stat1"))
    else:  # the test server's superuser: the statistics ANALYZE wrote, gone
        connection.execute(text("DELETE FROM pg_statistic WHERE starelid = 'orders'::regclass"))


@pytest.fixture(scope="module")
def cli_app(cli_database):
    """The database exactly as the CLI leaves it: db upgrade, seed-demo, the bench's rare rows, db
    upgrade again (the bench's --prepare sequence; nothing to migrate, the ANALYZE runs).
    Checks on the way that each CLI step left statistics."""
    app = make_test_app(cli_database)
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            assert orders_statistics(conn) == 0  # an empty table: ANALYZE records nothing yet
        result = runner.invoke(args=["seed-demo", "--orders", str(ORDERS)])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            app.config["seed_demo_statistics"] = orders_statistics(conn)
        app.config["facts"] = rare_rows(db.session, write=True)
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        app.config["admin"] = admin = factories.make_admin("Full Administrator")
        db.session.commit()
        assert admin.id  # loaded now: the test client signs it in after the session closes
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_seed_demo_leaves_statistics(cli_app):
    assert cli_app.config["seed_demo_statistics"] > 0


def test_db_upgrade_gathers_statistics(cli_app):
    runner = cli_app.test_cli_runner()
    with cli_app.app_context():
        with db.engine.begin() as conn:
            forget_statistics(conn)
        with db.engine.connect() as conn:
            assert orders_statistics(conn) == 0
        assert runner.invoke(args=["db", "downgrade"]).exit_code == 0  # then up again: one migration runs
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            assert orders_statistics(conn) > 0


def test_sqlite_optimize_at_close_analyzes_a_used_table(tmp_path):
    from sqlalchemy import create_engine

    import app  # noqa: F401 - registers the engine listeners (connect, close)

    engine = create_engine(f"sqlite:///{tmp_path / 'optimize.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT)"))
        conn.execute(text("CREATE INDEX ix_items_kind ON items (kind)"))
        conn.execute(text("INSERT INTO items (kind) VALUES ('a'), ('b'), ('c')"))
    with engine.connect() as conn:
        conn.execute(text("SELECT id FROM items WHERE kind = 'b'")).all()  # the planner wants stats
        assert conn.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) == 0
    engine.dispose()  # closes the pooled connection: PRAGMA optimize
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'items'")) > 0
    engine.dispose()


def scanned_orders(connection, statement: str, parameters) -> list[str]:
    """The plan lines of a statement that read orders or clients (the client filter's lookup by
    name or email) without an index (empty: none)."""
    plan = query_plan(connection, statement, parameters)
    if connection.dialect.name == "postgresql":
        return [line for line in plan if re.search(r"Seq Scan on (orders|clients)\b", line)]
    return [line for line in plan if re.match(r"SCAN (orders|clients)\b", line) and "USING" not in line]


def case_statements(app, client, query) -> list:
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as captured:
        response = client.get(LIST_URL, query_string=query)
    assert response.status_code == 200
    assert "could not be applied" not in response.get_data(as_text=True)
    return captured


def test_every_rare_and_combined_filter_reads_orders_through_an_index(cli_app):
    client = cli_app.test_client(user=cli_app.config["admin"])
    with cli_app.app_context():
        engine = db.engine
    scans = {}
    for name, query in list_cases(cli_app.config["facts"]):
        captured = case_statements(cli_app, client, query)
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET enable_seqscan = off"))
            for statement, parameters in captured:
                if re.search(r"\bFROM orders\b|\bFROM clients WHERE clients\.(last_name|email)\b", statement):
                    scans.setdefault(name, []).extend(scanned_orders(conn, statement, parameters))
    assert {name: lines for name, lines in scans.items() if lines} == {}
    assert len(scans) == len(list_cases(cli_app.config["facts"]))  # every case read orders


def test_the_plan_check_sees_a_scan(cli_app):
    """The check above can fail: an unindexed condition on orders is reported."""
    with cli_app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))
        assert scanned_orders(conn, "SELECT id FROM orders WHERE admin_notes = 'x'", {})


def test_statement_counts_do_not_grow_with_the_orders(cli_app):
    client = cli_app.test_client(user=cli_app.config["admin"])
    cases = list_cases(cli_app.config["facts"])
    before = {name: len(case_statements(cli_app, client, query)) for name, query in cases}
    with cli_app.app_context():
        from demo import seed_demo

        seed_demo(db.session, orders=2 * ORDERS)
        db.session.remove()
    after = {name: len(case_statements(cli_app, client, query)) for name, query in cases}
    assert after == before


def test_postgresql_warns_about_a_big_table_never_analyzed(cli_app):
    with cli_app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert statistics_warnings(db.session) == []  # SQLite keeps its own (PRAGMA optimize)
            return
        autovacuum = db.session.scalar(text("SHOW autovacuum"))
        db.session.execute(text("ANALYZE"))
        warnings = statistics_warnings(db.session)
        assert any("autovacuum is off" in w for w in warnings) == (autovacuum != "on")
        assert not any("Never analyzed" in w for w in warnings)
        db.session.execute(text("DELETE FROM pg_statistic WHERE starelid = 'orders'::regclass"))
        assert any("Never analyzed: orders." in w for w in statistics_warnings(db.session))
        db.session.rollback()


def test_a_pooled_connection_optimizes_once_an_hour():
    from models.planner_stats import OPTIMIZE_EVERY, optimize_due

    info = {}
    assert not optimize_due(info, now=100.0)  # just opened
    assert not optimize_due(info, now=100.0 + OPTIMIZE_EVERY - 1)
    assert optimize_due(info, now=100.0 + OPTIMIZE_EVERY)
    assert not optimize_due(info, now=100.0 + OPTIMIZE_EVERY + 1)  # the clock starts again
