"""Time-driven work without RQ's scheduler and without what Redis stored: a Redis server that is
stopped and started empty under two real `flask worker` processes, and a cron `flask sweep`."""

import os
import subprocess
import sys
import time

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from app import create_app
from extensions import db
from jobs.queueing import job_id_for
from jobs.worker import sweep_lock_key
from models import SideEffect, SideEffectStatus, utcnow
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.jobs_support import (
    ROOT,
    TEST_REDIS_URL,
    WEBHOOK_SECRET,
    app_context_for,
    connect_redis,
    fresh,
    record_create,
    registered_worker,
    start_worker,
    webhook_product,
)
from tests.modules_support.http_stub import StubServer
from tests.modules_support.smtp_server import free_port
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState

DEADLINE = 60  # seconds: a bound on waiting, never a timing relied on
INTERVAL = 3  # the workers' sweep interval in these tests (seconds)


def wait_until(condition, what: str, deadline: float = DEADLINE) -> float:
    """Poll until `condition()`; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < deadline, what
        time.sleep(0.05)  # polling a condition; nothing depends on how long it takes
    return time.monotonic() - started


class RedisServer:
    """A redis-server of the test's own, on a free port, without persistence: a restart loses
    everything (queued and scheduled jobs, locks, worker registrations)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            if REQUIRE_SERVICES:
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed")
        wait_until(self.answers, "redis-server did not start", 10)

    def answers(self) -> bool:
        try:
            return Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def test_retries_and_sweeps_resume_after_redis_comes_back_empty_or_a_worker_dies(app_ctx, database_url):
    redis = RedisServer()
    redis.start()
    settings = dict(SIDE_EFFECT_SWEEP_INTERVAL_SECONDS=INTERVAL, SIDE_EFFECT_RETRY_BASE_SECONDS=1,
                    SIDE_EFFECT_MAX_ATTEMPTS=5, MODULE_TIMEOUT_SECONDS=5)
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan("500")  # the first create's first attempt fails: its retry is scheduled in RQ
    workers = []
    try:
        with (
            StubServer(ReceiverHandler, state) as receiver,
            app_context_for(database_url, redis.url, **settings) as app,
        ):
            connection = Redis.from_url(redis.url)
            queue_name = app.config["RQ_QUEUE"]
            workers = [start_worker(app, database_url, redis.url, **settings) for _ in range(2)]
            wait_until(lambda: all(registered_worker(connection, queue_name, w.pid) for w in workers),
                       "the workers never registered")
            product = webhook_product(receiver.url)
            retried = record_create(factories.make_order(product=product))
            db.session.commit()
            wait_until(lambda: fresh(SideEffect, retried.id).attempts == 1
                       and fresh(SideEffect, retried.id).status == SideEffectStatus.QUEUED,
                       "the first attempt did not fail into a retry")
            wait_until(lambda: connection.exists(sweep_lock_key(queue_name)), "no worker swept")

            redis.stop()  # the scheduled retry, the sweep lock and RQ's scheduler go with it
            queued = record_create(factories.make_order(product=product))
            db.session.commit()  # Redis is down: committed, not enqueued
            assert fresh(SideEffect, queued.id).status == SideEffectStatus.QUEUED
            redis.start()

            swept_after = wait_until(lambda: connection.exists(sweep_lock_key(queue_name)),
                                     "the sweep never resumed")
            assert swept_after <= INTERVAL + 1, f"first sweep {swept_after:.1f} s after Redis came back"
            wait_until(lambda: all(fresh(SideEffect, e.id).status == SideEffectStatus.SUCCEEDED
                                   for e in (retried, queued)), "the side effects never ran")
            assert all(worker.poll() is None for worker in workers)  # the same two processes
            assert state.requests_per_key[retried.idempotency_key] == 2  # the 500, then the retry
            assert state.requests_per_key[queued.idempotency_key] == 1
            assert sorted(state.performed) == sorted([retried.idempotency_key, queued.idempotency_key])
            # One worker dies: the other takes the next turn, one interval after the last sweep.
            workers[0].kill()
            workers[0].wait(timeout=10)
            last = connection.get(sweep_lock_key(queue_name))
            taken_over = wait_until(lambda: connection.get(sweep_lock_key(queue_name)) not in (None, last),
                                    "the surviving worker never swept", INTERVAL * 3)
            assert taken_over <= INTERVAL + 1, f"next sweep {taken_over:.1f} s after a worker died"
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=10)
        redis.stop()


def test_a_cron_flask_sweep_alone_moves_a_due_retry(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan("500")
    with (
        StubServer(ReceiverHandler, state) as receiver,
        app_context_for(database_url, TEST_REDIS_URL, SIDE_EFFECT_RETRY_BASE_SECONDS=0.3) as app,
    ):
        effect = record_create(factories.make_order(product=webhook_product(receiver.url)))
        db.session.commit()
        queue = Queue(app.config["RQ_QUEUE"], connection=connection)

        def burst_without_scheduler():
            SimpleWorker([queue], connection=connection).work(burst=True, with_scheduler=False)

        burst_without_scheduler()  # attempt 1 fails; attempt 2 is scheduled in RQ
        retry = fresh(SideEffect, effect.id)
        assert (retry.status, retry.attempts) == (SideEffectStatus.QUEUED, 1)
        job_id = job_id_for(effect.id, 1)
        assert Job.fetch(job_id, connection=connection).get_status() == JobStatus.SCHEDULED
        wait_until(lambda: utcnow() >= retry.next_attempt_at, "the retry never became due")
        burst_without_scheduler()  # nothing moves it: no scheduler runs
        assert fresh(SideEffect, effect.id).attempts == 1

        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=TEST_REDIS_URL,
                   SECRET_KEY="test-secret-key", RQ_QUEUE=app.config["RQ_QUEUE"])
        swept = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "sweep"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=DEADLINE)
        assert swept.returncode == 0, swept.stderr
        assert "1 enqueued" in swept.stdout
        assert Job.fetch(job_id, connection=connection).get_status() == JobStatus.QUEUED
        burst_without_scheduler()
        done = fresh(SideEffect, effect.id)
        assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 2), done.last_error
        assert list(state.performed) == [effect.idempotency_key]
    connection.flushdb()


def test_a_running_timeout_not_above_the_module_timeout_is_refused_at_start(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'refused.db'}", "SECRET_KEY": "x",
              "SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS": 10, "MODULE_TIMEOUT_SECONDS": 10}
    with pytest.raises(RuntimeError, match="must exceed MODULE_TIMEOUT_SECONDS"):
        create_app(config)
    config["SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS"] = 11
    assert create_app(config).config["SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS"] == 11
