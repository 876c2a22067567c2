"""The daily automation over N active services (default 100,000), SQLite and PostgreSQL.

    .venv/bin/python bench/daily_bench.py                              # 100,000 services, both databases
    .venv/bin/python bench/daily_bench.py --services 10000 --db sqlite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/daily_bench.py

The database is as the CLI leaves it: `flask db upgrade` (the migrations, not create_all), the
reference data, `seed-demo --orders 1000`, then N active monthly services, one order per five,
every one due within "Invoice Generation Days" (the worst day: each needs a renewal invoice). No
ANALYZE beyond what those steps run.

Then, in a process of its own (so the peak RSS printed is the run's alone), jobs.daily.run_daily
twice on the same day: the first invoices every service, the second finds nothing to do. Prints
for each run the seconds, the SQL statements sent, services/s and the peak RSS. Set-based: the
statement count grows with the number of batches (500 clients each), not with the services.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import db_name, fresh_postgres_database  # noqa: E402

TODAY = date(2026, 12, 1)
BATCH = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--phase", choices=["build", "run"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        (build if args.phase == "build" else run)(args.url, args.services)
        return
    for name in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        if name == "sqlite":
            with tempfile.TemporaryDirectory(prefix="orderdesk-daily-bench-") as folder:
                phases(f"sqlite:///{folder}/bench.db", args.services)
        else:
            with fresh_postgres_database() as url:
                phases(url, args.services)


def phases(url: str, services: int) -> None:
    for phase in ("build", "run"):
        command = [sys.executable, __file__, "--phase", phase, "--url", url, "--services", str(services)]
        subprocess.run(command, check=True, env={**os.environ, "DATABASE_URL": url})


def _app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})


def build(url: str, services: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from actions.reference_data import ensure_reference_data
    from demo import seed_demo
    from extensions import db
    from models import BillingCycle, Client, Order, OrderStatus, Product, Service, ServiceStatus

    started = time.perf_counter()
    app = _app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        ensure_reference_data(db.session)
        db.session.commit()
        seed_demo(db.session, orders=1000)
        product_id = db.session.scalar(select(Product.id).order_by(Product.id).limit(1))
        first_client = (db.session.scalar(select(func.max(Client.id))) or 0) + 1
        first_order = (db.session.scalar(select(func.max(Order.id))) or 0) + 1
        clients = services // 5
        for start in range(0, clients, BATCH):
            ids = range(start, min(start + BATCH, clients))
            db.session.execute(insert(Client), [
                dict(id=first_client + n, first_name="Bench", last_name=f"Client {n}",
                     email=f"daily-bench-{n}@example.com", country="GB") for n in ids])
            db.session.execute(insert(Order), [
                dict(id=first_order + n, order_number=8_000_000_000 + n, client_id=first_client + n,
                     status=OrderStatus.ACTIVE, payment_method="banktransfer", amount=Decimal("0.00"))
                for n in ids])
            db.session.commit()
        for start in range(0, services, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, services)):
                due = TODAY + timedelta(days=n % 14)
                rows.append(dict(order_id=first_order + n // 5, client_id=first_client + n // 5,
                                 product_id=product_id, billing_cycle=BillingCycle.MONTHLY,
                                 recurring_amount=Decimal("9.99"), status=ServiceStatus.ACTIVE,
                                 next_due_date=due, next_invoice_date=due, domain=f"bench{n}.example"))
            db.session.execute(insert(Service), rows)
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    print(f"{db_name(url)}: built (upgrade + seed-demo 1000 + {services:,} active services) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def run(url: str, services: int) -> None:
    from sqlalchemy import event

    from extensions import db
    from jobs.daily import run_daily

    app = _app(url)
    with app.app_context():
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
        for label in ("first run", "second run (same day)"):
            statements.clear()
            started = time.perf_counter()
            report = run_daily(db.session, TODAY)
            seconds = time.perf_counter() - started
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            rate = f"{report.renewed_services / seconds:,.0f} services/s" if report.renewed_services else "-"
            print(f"{db_name(url)} {label}: {report.renewal_invoices:,} invoices for "
                  f"{report.renewed_services:,} of {services:,} services, {seconds:.2f} s, "
                  f"{len(statements):,} statements, {rate}, peak RSS {peak_mb:.0f} MB", flush=True)
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
