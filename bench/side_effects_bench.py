"""Side effects per second through one RQ worker and through two, measured in one run; with
--creates, module creates per second through 1, 2 and 4 workers against a local webhook receiver
and the time a create killed with its work horse takes to be recovered with the default settings.

    .venv/bin/python bench/side_effects_bench.py [--effects 300] [--database-url URL] [--redis-url URL]
    .venv/bin/python bench/side_effects_bench.py --creates 200 --database-url URL

Each phase records N email side effects (rendered from the Order Confirmation template, kept in
the email log: no SMTP) in committed batches, so the dispatcher enqueues them, then starts the
worker processes (`flask --app app worker --burst`, the fork-per-job production worker) and waits
for them to drain the queue. Throughput counts from the first job's start to the last job's end
(from the rows' own timestamps), so process start-up is not measured. Database: a fresh SQLite
file, or with --database-url postgresql://... a fresh database created (and dropped) on that
server. Redis: redis://127.0.0.1:6379/6 by default, a scratch database that is emptied first
(side-effect job ids restart with every fresh benchmark database).

--creates N: N orders with one service each (a product on the signed-webhook server module, whose
server is a receiver in this process that counts accounts), one module_create each as accepting
records it (actions.side_effects.record_module_create, no welcome email), drained by 1, 2 and 4
`flask worker --burst` processes in turn; creates/s from the rows' own timestamps. Then recovery:
two `flask worker` processes with the shipped defaults (running timeout, sweep interval); a create
whose request the receiver holds; its work horse - found from its worker's registration in Redis -
killed alone, then (a second create) killed together with its worker; the seconds from the kill to
the row's success, and the receiver's account count (1 per service: nothing created twice).
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from redis import Redis
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.reference_data import ensure_reference_data  # noqa: E402
from actions.side_effects import record_email, record_module_create  # noqa: E402
from app import create_app  # noqa: E402
from bench.seed_bench import fresh_postgres_database  # noqa: E402
from extensions import db  # noqa: E402
from jobs.worker import HORSE_PID_FIELD  # noqa: E402
from models import SideEffect, SideEffectStatus  # noqa: E402
from tests import factories  # noqa: E402
from tests.jobs_support import WEBHOOK_SECRET, webhook_product  # noqa: E402
from tests.modules_support.http_stub import StubServer  # noqa: E402
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState  # noqa: E402

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


def record_creates(product, n: int, batch: int = 50) -> list[int]:
    ids = []
    for start in range(0, n, batch):
        for _ in range(min(batch, n - start)):
            order = factories.make_order(product=product)
            ids.append(record_module_create(db.session, order.services[0], server_id=None,
                                            send_welcome_email=False).id)
        db.session.commit()
    return ids


WORKER = [sys.executable, "-m", "flask", "--app", "app", "worker"]


def drain(workers: int, env: dict) -> None:
    command = [*WORKER, "--burst", "--sweep-interval", "0"]
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


def status_of(effect_id: int) -> str:
    db.session.rollback()
    return db.session.get(SideEffect, effect_id, populate_existing=True).status


def wait_for(condition, limit: float = 900) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise SystemExit("gave up waiting")
        time.sleep(0.1)
    return time.monotonic() - started


def recovery(product, state: ReceiverState, env: dict, redis: Redis, kill_worker: bool) -> float:
    """Seconds from killing the work horse running a create (and its worker) to the create's success."""
    state.hanging.clear()
    state.release.clear()
    state.plan("hold")
    [effect_id] = record_creates(product, 1)
    wait_for(state.hanging.is_set, 60)
    running = [key for key in redis.keys("rq:worker:*") if redis.hget(key, HORSE_PID_FIELD)]
    [worker_key] = running
    horse, worker_pid = int(redis.hget(worker_key, HORSE_PID_FIELD)), int(redis.hget(worker_key, "pid"))
    if kill_worker:
        os.kill(worker_pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    killed = time.monotonic()
    state.release.set()  # the held request ends unanswered; the retry is answered
    wait_for(lambda: status_of(effect_id) == SideEffectStatus.SUCCEEDED)
    return time.monotonic() - killed


def run_creates(args, database_url: str) -> None:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    config = {"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": args.redis_url,
              "RQ_QUEUE": queue, "MAIL_SERVER": None}
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=args.redis_url, RQ_QUEUE=queue,
               SECRET_KEY=SECRET_KEY, MAIL_SERVER="")
    redis = Redis.from_url(args.redis_url)
    redis.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    app = create_app(config)
    with StubServer(ReceiverHandler, state) as receiver, app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        product = webhook_product(receiver.url)
        db.session.commit()
        for workers in (1, 2, 4):
            ids = record_creates(product, args.creates)
            db.engine.dispose()
            drain(workers, env)
            print(f"{workers} worker(s): {rate(ids):8.1f} creates/s ({args.creates} creates, "
                  f"{len(state.performed)} accounts at the receiver so far)")
        defaults = {name: app.config[name] for name in
                    ("SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS", "SIDE_EFFECT_SWEEP_INTERVAL_SECONDS")}
        workers = [subprocess.Popen(WORKER, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(2)]
        try:
            wait_for(lambda: len(redis.keys("rq:worker:*")) >= 2, 60)
            for kill_worker in (False, True):
                seconds = recovery(product, state, env, redis, kill_worker)
                what = "horse and its worker" if kill_worker else "horse alone"
                print(f"recovery after a killed {what}: {seconds:6.1f} s (defaults: {defaults})")
        finally:
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        accounts = sorted(set(state.accounts.values()))
        print(f"accounts per service at the receiver: {accounts} (database: {db.engine.dialect.name})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effects", type=int, default=300)
    parser.add_argument("--creates", type=int, default=0, help="measure module creates instead (N per run)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL server URL: the benchmark creates and drops its own database there",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"))
    args = parser.parse_args()
    with scratch_database(args.database_url) as database_url:
        (run_creates if args.creates else run)(args, database_url)


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
