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


# The tables that grow with the orders: a page reading one of them in full grows with the data.
BIG_TABLES = ("orders", "services", "domains", "invoices", "invoice_items", "side_effects", "order_events",
              "transactions")


def full_reads(connection, statement: str, parameters, tables=BIG_TABLES) -> list[str]:
    """The steps of the statement's plan that read one of `tables` in full, not by an index range:
    SQLite's SCAN of the table (through an index or not); PostgreSQL's Seq Scan, or an index walked
    without an Index Cond. On PostgreSQL price sequential and plain index scans out first (a small
    test table is cheapest read in full): what is asked is whether an index could answer."""
    if connection.dialect.name == "sqlite":
        return [step for step in query_plan(connection, statement, parameters)
                if re.match(rf"SCAN ({'|'.join(tables)})\b", step)]
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    found, nodes = [], [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        kind, table = node["Node Type"], node.get("Relation Name")
        walked = kind.startswith("Index") and "Index Cond" not in node
        if table in tables and (kind == "Seq Scan" or walked):
            found.append(f"{kind} on {table} {node.get('Index Name', '')}".strip())
    return found
