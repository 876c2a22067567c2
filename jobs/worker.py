"""The `flask --app app worker` process: an RQ worker on the configured queue that also keeps the
sweep going, and the `flask --app app sweep` pass for cron.

Time-driven work does not hang on RQ's scheduler (which dies with a Redis restart and comes back
only with RQ's maintenance) nor on anything stored in Redis (which may lose everything): every
worker, between jobs, at least every tenth of the sweep interval, tries to take the sweep lock -
a Redis key set with NX that expires one interval after it was taken - and the one that gets it
sweeps, right there in the worker process. So with any number of workers the sweep runs once per
interval; when a worker dies, the others take over at the next expiry; when Redis comes back
empty, the first worker to reconnect sweeps at once. The sweep enqueues due retries whatever
happened to their scheduled RQ job, so retries never wait more than one interval past due.
RQ's scheduler still runs (with_scheduler): while it is up, it moves retries at their exact time.

The app is created and its context pushed once by the flask CLI, before the worker forks a work
horse per job; every horse inherits the context and opens its own database connections. A sweep
in the worker process closes its connections afterwards, so no horse inherits one.
"""

import logging
import time
from importlib import import_module

from flask import current_app
from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested
from sqlalchemy.orm import Session

from extensions import db
from jobs.daily import enqueue_daily_if_due
from jobs.queueing import get_queue, redis_connection
from jobs.sweeper import sweep

log = logging.getLogger(__name__)

HORSE_PID_FIELD = "horse_pid"  # in the worker's registration hash, while a job runs


def sweep_lock_key(queue_name: str) -> str:
    return f"orderdesk:sweep-lock:{queue_name}"


class SweepingWorker(Worker):
    """RQ's forking worker, plus the sweep lock check between jobs, and its work horse's pid in
    its registration (operators - and the fault tests - find the process running a job there)."""

    def __init__(self, *args, sweep_interval: float = 0, **kwargs):
        self.sweep_interval = float(sweep_interval)
        self.stop_asked = False
        self._next_sweep_check = 0.0  # time.monotonic() at which to try the lock again
        if self.sweep_interval > 0:
            # RQ's default backs off to 60 s between reconnects while Redis is away.
            self.max_connection_wait_time = max(1.0, self.sweep_interval / 10)
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        """Wake from the blocking pop often enough to notice the sweep is due (RQ waits 405 s)."""
        default = super().dequeue_timeout
        if self.sweep_interval <= 0:
            return default
        return max(1, min(default, int(self.sweep_interval / 10)))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return super().should_run_maintenance_tasks or self._sweep_due()

    def run_maintenance_tasks(self) -> None:
        if super().should_run_maintenance_tasks:
            super().run_maintenance_tasks()
        if self._sweep_due():
            self.sweep_if_due()

    def _sweep_due(self) -> bool:
        return self.sweep_interval > 0 and time.monotonic() >= self._next_sweep_check

    def sweep_if_due(self) -> None:
        """Take the sweep lock if it is free and sweep; otherwise look again when it expires."""
        interval_ms = int(self.sweep_interval * 1000)
        key = sweep_lock_key(self.queues[0].name)
        started = time.monotonic()
        try:
            if not self.connection.set(key, f"{self.name} {time.time():.3f}", nx=True, px=interval_ms):
                left_ms = self.connection.pttl(key)
                self._next_sweep_check = started + (left_ms if left_ms > 0 else 100) / 1000
                return
        except RedisError as exc:  # Redis is away: RQ's loop waits for it; try again after that
            log.warning("Sweep lock unavailable: %s", exc)
            self._next_sweep_check = started + self.max_connection_wait_time
            return
        self._next_sweep_check = started + self.sweep_interval
        try:
            with Session(db.engine) as session:
                log.info("Sweep: %s", sweep(session, self.connection))
        except Exception:  # a failing sweep (database down) must not stop the worker
            log.exception("Sweep failed; the next worker to take the lock tries again")
        try:
            if enqueue_daily_if_due(self.connection, self.queues[0]):
                log.info("Daily automation enqueued")
        except RedisError as exc:
            log.warning("Daily automation slot unavailable: %s", exc)
        finally:
            db.engine.dispose()  # no pooled connection for the next forked horse

    def request_stop(self, signum, frame):
        self.stop_asked = True  # a warm shutdown (SIGINT/SIGTERM), as opposed to giving up on Redis
        super().request_stop(signum, frame)

    def fork_work_horse(self, job, queue):
        super().fork_work_horse(job, queue)  # returns in this (parent) process only
        self.connection.hset(self.key, HORSE_PID_FIELD, self.horse_pid)

    def execute_job(self, job, queue):
        try:
            super().execute_job(job, queue)
        finally:
            self.connection.hdel(self.key, HORSE_PID_FIELD)


def run_worker(burst: bool = False, sweep_interval: float | None = None) -> None:
    """Work until stopped. RQ's loop gives up (and returns) when Redis goes away at some moments -
    between jobs, while reporting one - rather than only while it waits for a job; then this waits
    for Redis and starts a fresh worker in the same process, so no restart is needed."""
    connection = redis_connection()
    interval = sweep_interval_seconds() if sweep_interval is None else sweep_interval
    preload_job_code()
    while True:
        # The parent must not hand pooled connections to forked children.
        db.engine.dispose()
        worker = SweepingWorker(
            [get_queue(connection)],
            connection=connection,
            sweep_interval=interval,
            # RQ's maintenance also restarts its scheduler when it died: as often as we sweep.
            maintenance_interval=max(1, int(interval)) if interval > 0 else 600,
        )
        try:
            worker.work(with_scheduler=True, burst=burst)
        except RedisError as exc:  # raised by RQ's own clean-up after it gave up
            log.warning("Worker %s stopped on a Redis error: %s", worker.name, exc)
        if burst or worker.stop_asked:
            return
        try:
            wait_for_redis(connection, max(1.0, interval / 10) if interval > 0 else 5.0)
        except StopRequested:  # SIGTERM / SIGINT while Redis is away
            return


def wait_for_redis(connection, pause: float) -> None:
    while True:
        try:
            connection.ping()
            return
        except RedisError:
            time.sleep(pause)


def preload_job_code() -> None:
    """Import the job and every module (SDKs included) once in the parent, and build the SMTP TLS
    context, so each forked work horse starts warm instead of doing that again for every job."""
    import jobs.daily  # noqa: F401
    import jobs.run
    from modules import registry
    from modules.mail.smtp import tls_context

    for table in (registry.SERVERS, registry.REGISTRARS, registry.GATEWAYS, registry.MAIL):
        for path in table.values():
            import_module(path.partition(":")[0])
    settings = jobs.run.smtp_settings()
    if settings is not None and settings.security != "none":
        tls_context(settings.ca_file)


def sweep_interval_seconds() -> float:
    return float(current_app.config["SIDE_EFFECT_SWEEP_INTERVAL_SECONDS"])


def sweep_once() -> str:
    """`flask --app app sweep`: one pass, for cron / a systemd timer / by hand."""
    connection = None
    if current_app.config.get("REDIS_URL"):
        connection = redis_connection()
        try:
            connection.ping()
        except RedisError as exc:
            raise RuntimeError(f"Redis at REDIS_URL is not reachable: {exc}") from None
    with Session(db.engine) as session:
        return str(sweep(session, connection))
