"""Seed N demo orders into a fresh database and report rows/second and peak memory.

    .venv/bin/python bench/seed_bench.py                     # 1,000,000 orders, SQLite and PostgreSQL
    .venv/bin/python bench/seed_bench.py --orders 100000 --db sqlite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/seed_bench.py --db postgresql

Each database runs in its own process, so the peak RSS printed is that run's alone. The PostgreSQL
run creates a database named orderdesk_bench_<pid> on the server and drops it afterwards.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=None, help="default: orders / 5")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.db == "both":
        for name in ("sqlite", "postgresql"):
            command = [sys.executable, __file__, "--orders", str(args.orders), "--db", name]
            if args.clients is not None:
                command += ["--clients", str(args.clients)]
            subprocess.run(command, check=True)
        return
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="orderdesk-bench-") as folder:
            run(f"sqlite:///{folder}/bench.db", args)
    else:
        with fresh_postgres_database() as url:
            run(url, args)


def run(url: str, args) -> None:
    from sqlalchemy import func, select

    from app import create_app
    from demo import seed_demo
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        summary = seed_demo(db.session, orders=args.orders, clients=args.clients)
        elapsed = time.perf_counter() - started
        rows = sum(db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables)
        db.session.remove()
        db.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{db_name(url)}: {summary}\n"
          f"  {elapsed:.1f} s, {rows:,} rows, {rows / elapsed:,.0f} rows/s, "
          f"{args.orders / elapsed:,.0f} orders/s, peak RSS {peak_mb:.0f} MB", flush=True)


def db_name(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


@contextmanager
def fresh_postgres_database(server_url: str | None = None):
    """A new database on the given PostgreSQL server (default: BENCH_DATABASE_URL, TEST_DATABASE_URL,
    then the local server), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server_url = server_url or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    server = make_url(server_url or DEFAULT_SERVER).set(drivername="postgresql+psycopg")
    name = f"orderdesk_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
