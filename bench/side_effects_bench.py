"""Side effects per second through one RQ worker and through two, measured in one run.

    .venv/bin/python bench/side_effects_bench.py [--effects 300] [--database-url URL] [--redis-url URL]

Each phase records N email side effects (rendered from the Order Confirmation template, kept in
the email log: no SMTP) in committed batches, so the dispatcher enqueues them, then starts the
worker processes (`flask --app app worker --burst`, the fork-per-job production worker) and waits
for them to drain the queue. Throughput counts from the first job's start to the last job's end
(from the rows' own timestamps), so process start-up is not measured. Database: a fresh SQLite
file, or with --database-url postgresql://... a fresh database created (and dropped) on that
server. Redis: redis://127.0.0.1:6379/6 by default, a scratch database that is emptied first
(side-effect job ids restart with every fresh benchmark database).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.reference_data import ensure_reference_data  # noqa: E402
from actions.side_effects import record_email  # noqa: E402
from app import create_app  # noqa: E402
from bench.seed_bench import fresh_postgres_database  # noqa: E402
from extensions import db  # noqa: E402
from models import SideEffect, SideEffectStatus  # noqa: E402

SECRET_KEY = "side-effects-bench"


def record(n: int, batch: int = 100) -> list[int]:
    ids = []
    for start in range(0, n, batch):
        for _ in range(min(batch, n - start)):
            effect = record_email(
                db.session,
                template="Order Confirmation",
                to="bench@example.com",
                client_id=None,
                order_id=None,
            )
            ids.append(effect.id)
        db.session.commit()  # after commit: one RQ job per row
    return ids


def drain(workers: int, env: dict) -> None:
    command = [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst", "--sweep-interval", "0"]
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"worker failed:\n{err.decode()[-2000:]}")


def rate(ids: list[int]) -> float:
    first, last, done = db.session.execute(
        select(func.min(SideEffect.started_at), func.max(SideEffect.finished_at), func.count()).where(
            SideEffect.id.in_(ids), SideEffect.status == SideEffectStatus.SUCCEEDED
        )
    ).one()
    if done != len(ids):
        raise SystemExit(f"only {done} of {len(ids)} side effects succeeded")
    return done / max((last - first).total_seconds(), 1e-6)


@contextmanager
def scratch_database(url: str | None):
    """A fresh SQLite file, or a fresh database on the given PostgreSQL server, dropped at the end."""
    if not url:
        with tempfile.TemporaryDirectory(prefix="orderdesk-side-effects-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    with fresh_postgres_database(url) as database_url:
        yield database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effects", type=int, default=300)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL server URL: the benchmark creates and drops its own database there",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"))
    args = parser.parse_args()
    with scratch_database(args.database_url) as database_url:
        run(args, database_url)


def run(args, database_url: str) -> None:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    config = {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": args.redis_url,
        "RQ_QUEUE": queue,
        "MAIL_SERVER": None,
    }
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=args.redis_url,
        RQ_QUEUE=queue,
        SECRET_KEY=SECRET_KEY,
        MAIL_SERVER="",
    )
    Redis.from_url(args.redis_url).flushdb()
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        db.session.commit()
        results = {}
        for workers in (1, 2):
            ids = record(args.effects)
            db.engine.dispose()  # no pooled connection shared with the workers
            drain(workers, env)
            results[workers] = rate(ids)
            print(f"{workers} worker(s): {results[workers]:8.1f} side effects/s ({args.effects} effects)")
        print(
            f"ratio two/one workers: {results[2] / results[1]:.2f}x  "
            f"(database: {db.engine.dialect.name}, 2-core machine shared with the database and Redis)"
        )


if __name__ == "__main__":
    main()
