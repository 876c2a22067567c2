"""What the substring indexes cost writers: copy every service and domain of a prepared database
(INSERT ... SELECT, rolled back) with the indexes and without them, interleaved, median of 5.

    .venv/bin/python bench/substring_write_bench.py sqlite:////tmp/s10k.sqlite
    .venv/bin/python bench/substring_write_bench.py postgresql://postgres@127.0.0.1:5432/s10k

Without them means: the FTS5 triggers dropped (SQLite) or the GIN indexes dropped (PostgreSQL),
inside the same transaction, rolled back after each copy; the database is left as it was.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEATS = 5
TABLES = ("services", "domains")


def main(url: str) -> None:
    from sqlalchemy import create_engine, inspect, text

    from models.substring_index import INDEXES

    # Explicit BEGIN/ROLLBACK: pysqlite would otherwise commit the DROP TRIGGER on its own.
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    indexes = [index for index in INDEXES.values() if index.table in TABLES]
    with engine.connect() as connection:
        postgresql = connection.dialect.name == "postgresql"
        inspector = inspect(connection)
        copies = []
        for name in TABLES:
            columns = ", ".join(c["name"] for c in inspector.get_columns(name) if c["name"] != "id")
            copies.append(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {name}")
        rows = sum(connection.scalar(text(f"SELECT count(*) FROM {name}")) for name in TABLES)
        if postgresql:
            drops = [f"DROP INDEX {index.gin}" for index in indexes]
        else:
            drops = [f"DROP TRIGGER {index.fts}_insert" for index in indexes]

        def copy(without: bool) -> float:
            connection.execute(text("BEGIN"))
            for statement in drops if without else ():
                connection.execute(text(statement))
            started = time.perf_counter()
            for statement in copies:
                connection.execute(text(statement))
            elapsed = time.perf_counter() - started
            connection.execute(text("ROLLBACK"))
            return elapsed

        timings = {True: [], False: []}
        for _ in range(REPEATS):
            for without in (False, True):
                timings[without].append(copy(without))
        with_index, without_index = statistics.median(timings[False]), statistics.median(timings[True])
        print(f"{connection.dialect.name}: {rows:,} service and domain rows inserted: "
              f"{with_index:.2f} s with the substring indexes, {without_index:.2f} s without "
              f"(+{(with_index - without_index) / rows * 1e6:.0f} µs per row, ratio "
              f"{with_index / without_index:.2f})")


if __name__ == "__main__":
    main(sys.argv[1])
