"""Helpers for the side-effect pipeline tests: a real Redis (db 5), an app pointed at it, RQ runs."""

import os
import uuid
from contextlib import contextmanager

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from actions.side_effects import record_email, record_side_effect
from extensions import db
from models import Server, SideEffect, SideEffectKind
from tests import factories
from tests.conftest import make_test_app, service_missing

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


def record_create(order) -> SideEffect:
    """What accepting an order with Run Module Create records (one create per pending service)."""
    service = order.services[0]
    return record_side_effect(
        db.session,
        kind=SideEffectKind.MODULE_CREATE,
        order_id=order.id,
        target_type="service",
        target_id=service.id,
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
