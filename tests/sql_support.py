"""Watching the SQL a block of code sends, and reading the database's plan for it (tests and bench/)."""

import re
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def recorded_statements(engine):
    """Yields a list that fills with (statement, parameters) for every statement the engine sends
    inside the block."""
    captured = []

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", record)


def query_plan(connection, statement: str, parameters) -> list[str]:
    """The plan's lines: PostgreSQL's EXPLAIN, or the detail column of SQLite's EXPLAIN QUERY PLAN."""
    if connection.dialect.name == "postgresql":
        return [row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)]
    return [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def sqlite_step_is_indexed(step: str) -> bool:
    """One line of SQLite's EXPLAIN QUERY PLAN reads through an index: a SEARCH (a b-tree range or
    key), the list an IN (subquery) builds, or an FTS5 table read by MATCH (its index string holds
    an "M"; a full read of the virtual table has none). The frame of a UNION ALL of subqueries, and
    the read of a subquery's own rows (SQLAlchemy names it anon_N), touch no table: their own steps
    are checked."""
    return step.startswith(("SEARCH", "LIST SUBQUERY", "CO-ROUTINE", "COMPOUND QUERY", "LEFT-MOST SUBQUERY",
                            "UNION ALL")) or bool(
        re.fullmatch(r"SCAN \w+ VIRTUAL TABLE INDEX \d+:\S*M\S*|SCAN anon_\d+", step))
