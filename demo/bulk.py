"""Set-based writing: primary keys handed out here, rows filled from the models' column defaults,
one executemany per table and batch.

Ids are chosen here (after the highest id or sequence value ever used, so nothing needs RETURNING);
`Ids.publish` then moves the PostgreSQL sequences past them.
"""

import random
from operator import itemgetter

from sqlalchemy import JSON, Date, DateTime, Table, func, insert, null, select, text
from sqlalchemy.engine import Connection

from actions.order_number import HIGHEST, LOWEST
from models import Order


class Ids:
    """Next free id per table: after the highest id or sequence value ever used (ids are never
    reused). `publish` moves the database's own counters past what was inserted."""

    def __init__(self, conn: Connection, tables: list[Table]):
        self.tables = tables
        self.next = {t.name: _highest_id_used(conn, t) + 1 for t in tables}

    def take(self, table: Table) -> int:
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value

    def publish(self, conn: Connection) -> None:
        # SQLite moves sqlite_sequence past explicit ids by itself; PostgreSQL sequences do not.
        if conn.dialect.name != "postgresql":
            return
        for table in self.tables:
            if self.next[table.name] > 1:
                conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                             {"t": table.name, "v": self.next[table.name] - 1})


def _highest_id_used(conn: Connection, table: Table) -> int:
    highest = conn.scalar(select(func.max(table.c.id))) or 0
    if conn.dialect.name == "postgresql":
        sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
        return max(highest, last if called else 0)
    if table.dialect_options["sqlite"].get("autoincrement"):
        used = conn.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
        return max(highest, used or 0)
    return highest


def column_defaults(table: Table) -> dict:
    """Every column's value when a row does not give one: the model's scalar default, else NULL
    (SQL NULL for JSON too). Columns whose default is computed (now, a new dict) must be given."""
    row = {}
    for column in table.columns:
        default = column.default
        if default is not None and default.is_scalar:
            row[column.key] = default.arg
        elif default is None:
            row[column.key] = null() if isinstance(column.type, JSON) else None
    return row


class Rows:
    """The rows of one table for one batch, each completed from the column defaults."""

    def __init__(self, table: Table):
        self.table = table
        self.defaults = column_defaults(table)
        self.keys = [c.key for c in table.columns]
        self.rows: list[dict] = []

    def add(self, **values) -> dict:
        row = {**self.defaults, **values}
        self.rows.append(row)
        return row

    def write(self, conn: Connection) -> None:
        if self.rows:
            insert_many(conn, self.table, self.keys, self.rows)
            self.rows = []


def insert_many(conn: Connection, table: Table, keys: list[str], rows: list[dict]) -> None:
    """Many rows at once, handed straight to the driver: PostgreSQL's COPY, else one executemany.
    Values still go through each column type's own bind processing (UTC datetimes, encryption,
    JSON), column by column, but without SQLAlchemy's per-row parameter machinery, which costs
    more than the inserts themselves at a million orders."""
    columns = []
    for name in keys:
        values = list(map(itemgetter(name), rows))
        type_ = table.c[name].type
        process = type_.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if process is not None and type_._type_affinity in (Date, DateTime):
            process = _remembered(process)  # the same few days and moments recur row after row
        columns.append(values if process is None else list(map(process, values)))
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        statement = f"COPY {quote(table.name)} ({', '.join(map(quote, keys))}) FROM STDIN"
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for values in zip(*columns, strict=True):
                copy.write_row(values)
        return
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=keys)
    if compiled.positional:
        order = [keys.index(name) for name in compiled.positiontup]
        params = list(zip(*(columns[i] for i in order), strict=True))
    else:
        params = [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
    conn.exec_driver_sql(str(compiled), params)


def _remembered(process):
    seen: dict = {}

    def remembered(value):
        result = seen.get(value)
        if result is None:
            result = seen[value] = process(value)
        return result
    return remembered


def order_numbers(conn: Connection, seed: int, ks: range) -> dict[int, int]:
    """Random 10-digit numbers, one per order, unique in the batch and in the database; a clash
    draws the order's next number, so the outcome is the same on every run."""
    orders = Order.__table__
    chosen: dict[int, int] = {}
    used: set[int] = set()
    todo = list(ks)
    for attempt in range(100):
        if not todo:
            return chosen
        wanted = {k: random.Random(seed + 100 * k + attempt).randint(LOWEST, HIGHEST) for k in todo}
        taken = set(conn.scalars(select(orders.c.order_number)
                                 .where(orders.c.order_number.in_(list(set(wanted.values()))))))
        todo = []
        for k, number in wanted.items():
            if number in taken or number in used:
                todo.append(k)
            else:
                chosen[k] = number
                used.add(number)
    raise RuntimeError("Could not find free order numbers")
