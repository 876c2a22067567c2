"""Watching the SQL a block of code sends, and reading the database's plan for it (tests and bench/)."""

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
