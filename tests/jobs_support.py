"""Helpers for the side-effect pipeline tests: a real Redis (TEST_REDIS_URL), an app pointed at it,
RQ runs in this process (SimpleWorker) and `flask worker` processes."""

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker

from actions.side_effects import record_email, record_module_create
from extensions import db
from jobs.worker import HORSE_PID_FIELD
from models import Server, SideEffect
from tests import factories
from tests.conftest import make_test_app, service_missing

ROOT = Path(__file__).resolve().parent.parent

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
WEBHOOK_SECRET = "jobs-test-secret"


def connect_redis() -> Redis:
    connection = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        service_missing(f"Redis at {TEST_REDIS_URL} is not reachable: {exc}")
    return connection


def job_config(redis_url: str | None, **overrides) -> dict:
    config = {
        "REDIS_URL": redis_url,
        "RQ_QUEUE": f"test-{uuid.uuid4().hex[:8]}",
        "SIDE_EFFECT_MAX_ATTEMPTS": 3,
        "SIDE_EFFECT_RETRY_BASE_SECONDS": 0,  # retries are due at once; back-off is tested apart
        "MODULE_TIMEOUT_SECONDS": 0.5,
    }
    config.update(overrides)
    return config


@contextmanager
def app_context_for(database_url: str, redis_url: str | None, **overrides):
    """An app on the test database with its own job settings; its context pushed for the block."""
    app = make_test_app(database_url, **job_config(redis_url, **overrides))
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()


def run_burst(app, connection: Redis) -> None:
    """A real RQ SimpleWorker draining the app's queue (scheduled jobs that are due included)."""
    queue = Queue(app.config["RQ_QUEUE"], connection=connection)
    SimpleWorker([queue], connection=connection).work(burst=True, with_scheduler=True)


def webhook_product(url: str):
    server = Server(
        name=f"hook-{uuid.uuid4().hex[:6]}",
        hostname="web1.example",
        module="webhook",
        url=url,
        secret=WEBHOOK_SECRET,
    )
    db.session.add(server)
    db.session.flush()
    return factories.make_product(module="webhook", default_server_id=server.id)


def record_create(order, server_id: int | None = None, send_welcome_email: bool = True) -> SideEffect:
    """What accepting an order with Run Module Create records for its first service, through the
    same action and so with the payload production writes (server, username, welcome email)."""
    return record_module_create(
        db.session, order.services[0], server_id=server_id, send_welcome_email=send_welcome_email
    )


def record_confirmation(order) -> SideEffect:
    """The Order Confirmation email placing an order records, to the order's client."""
    return record_email(
        db.session,
        template="Order Confirmation",
        to=order.client.email,
        client_id=order.client_id,
        order_id=order.id,
    )


def fresh(model, row_id):
    """The row as committed (a new session, not the test's identity map)."""
    from sqlalchemy.orm import Session

    with Session(db.engine) as session:
        row = session.get(model, row_id)
        session.expunge_all()
        return row


def start_worker(app, database_url: str, redis_url: str, *args: str, **settings) -> subprocess.Popen:
    """A real `flask --app app worker` process (fork per job) on the app's queue."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret-key",
        RQ_QUEUE=app.config["RQ_QUEUE"],
        MAIL_SERVER="",
    )
    env.update({name: str(value) for name, value in settings.items()})  # MAIL_SERVER too
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def registered_worker(connection: Redis, queue_name: str, pid: int) -> Worker | None:
    """The worker process `pid` as it registered itself in Redis (None until it has)."""
    for worker in Worker.all(connection=connection, queue=Queue(queue_name, connection=connection)):
        if worker.pid == pid:
            return worker
    return None


def horse_pid(connection: Redis, worker: Worker) -> int | None:
    """The pid of the work horse running the worker's current job, from its registration."""
    value = connection.hget(worker.key, HORSE_PID_FIELD)
    return int(value) if value else None
