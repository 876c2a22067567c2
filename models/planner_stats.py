"""The statistics the query planners choose plans by: gathered by the product, not assumed.

A plan that is right at 10,000 orders can walk a million rows when the planner knows nothing about
the tables (SQLite without `sqlite_stat1` takes every index as equally selective; PostgreSQL right
after a bulk load, or with autovacuum off, guesses from the table's size alone). So:

    gather_statistics(connection)   ANALYZE every table: after `flask db upgrade` (migrations/env.py)
                                    and after seed-demo (demo/seed.py)
    optimize_sqlite(dbapi)          SQLite's `PRAGMA optimize`: re-analyzes the tables this
                                    connection used whose statistics are missing or 25x out of date;
                                    run when a pooled connection closes, when one goes back to the
                                    pool and its last run is OPTIMIZE_EVERY ago (optimize_due), and
                                    by the daily job
    statistics_warnings(session)    what the Jobs > Daily automation page warns about on PostgreSQL:
                                    autovacuum off, or a big table never analyzed

SQLite's own advice (sqlite.org/lang_analyze.html#periodically_run_pragma_optimize_): run
`PRAGMA optimize` before closing a connection and periodically on long-lived ones, with
`analysis_limit` so one call stays short on a large database.
"""

import sqlite3
import time

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

# Rows per index `PRAGMA optimize` reads (an approximate ANALYZE): milliseconds even at millions of
# rows. A full ANALYZE (db upgrade, seed-demo) reads every row.
OPTIMIZE_ANALYSIS_LIMIT = 1000
# How often a long-lived pooled SQLite connection runs PRAGMA optimize (SQLite suggests every few
# hours; cheap with the limit above).
OPTIMIZE_EVERY = 3600.0
# The tables whose statistics the list plans depend on.
BIG_TABLES = ("orders", "clients", "services", "invoices")


def gather_statistics(connection) -> None:
    """ANALYZE the whole database (a SQLAlchemy Connection, inside its transaction)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=0")  # every row: exact figures
    connection.exec_driver_sql("ANALYZE")


def optimize_sqlite(dbapi_connection) -> None:
    """SQLite only: `PRAGMA optimize` with a bounded analysis (a no-op elsewhere)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA analysis_limit={OPTIMIZE_ANALYSIS_LIMIT}")
        cursor.execute("PRAGMA optimize")
    finally:
        cursor.close()


def optimize_due(info: dict, now: float | None = None) -> bool:
    """True once per OPTIMIZE_EVERY for a pooled connection (`info`: its record's dict); the first
    call only starts the clock (a new connection has just been opened)."""
    now = time.monotonic() if now is None else now
    last = info.setdefault("orderdesk_optimized_at", now)
    if now - last < OPTIMIZE_EVERY:
        return False
    info["orderdesk_optimized_at"] = now
    return True


def statistics_warnings(session: Session) -> list[str]:
    """PostgreSQL: why plans may go wrong here (empty when autovacuum runs and the big tables have
    statistics). SQLite gathers its own (optimize_sqlite), so nothing to check there."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    warnings = []
    off = session.scalar(text("SELECT current_setting('autovacuum')")) != "on"
    if off:
        warnings.append("PostgreSQL's autovacuum is off: table statistics are never refreshed, so "
                        "list pages may choose slow plans as orders grow. Turn it on, or run ANALYZE "
                        "after every large change.")
    held_off = session.scalars(text(
        "SELECT relname FROM pg_class WHERE relname IN :tables"
        " AND relnamespace = current_schema()::regnamespace"
        " AND 'autovacuum_enabled=false' = ANY(reloptions) ORDER BY relname"
    ).bindparams(bindparam("tables", expanding=True)), {"tables": list(BIG_TABLES)}).all()
    if held_off and not off:
        warnings.append(f"Autovacuum is off for {', '.join(held_off)} (autovacuum_enabled=false): their "
                        "statistics are never refreshed. Turn it back on (ALTER TABLE ... RESET).")
    never = [table for table in BIG_TABLES if _rows_without_statistics(session, table)]
    if never:
        warnings.append(f"Never analyzed: {', '.join(never)}. Run ANALYZE (flask --app app db upgrade "
                        "does) so the planner knows their sizes.")
    return warnings


def _rows_without_statistics(session: Session, table: str) -> bool:
    """The table holds rows but pg_stats has none of its columns: never analyzed since it filled
    (ANALYZE of an empty table records nothing, so one run at `db upgrade` is not enough)."""
    has_rows = session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {table})"))
    analyzed = session.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema() AND tablename = :t)"),
        {"t": table})
    return bool(has_rows and not analyzed)
