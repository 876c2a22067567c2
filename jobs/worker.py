"""The `flask --app app worker` process: an RQ worker on the configured queue, with RQ's scheduler
(which moves retries and the periodic sweep onto the queue when they are due).

The app is created and its context pushed once by the flask CLI, before the worker forks a work
horse per job; every horse inherits the context and opens its own database connections.
"""

import logging
import time
from datetime import UTC, datetime
from importlib import import_module

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import DuplicateJobError
from sqlalchemy.orm import Session

from extensions import db
from jobs.dispatcher import get_queue, redis_connection
from jobs.sweeper import sweep

log = logging.getLogger(__name__)

SWEEP_FUNCTION = "jobs.worker.periodic_sweep"


def run_worker(burst: bool = False, sweep_interval: int | None = None) -> None:
    connection = redis_connection()
    queue = get_queue(connection)
    interval = sweep_interval if sweep_interval is not None else sweep_interval_seconds()
    if interval > 0:
        schedule_sweep(queue, interval, now=time.time())
    preload_job_code()
    # The parent must not hand pooled connections to forked children.
    db.engine.dispose()
    Worker([queue], connection=connection).work(with_scheduler=True, burst=burst)


def preload_job_code() -> None:
    """Import the job and every module (SDKs included) once in the parent, so each forked work
    horse starts warm instead of importing them again for every job."""
    import jobs.run  # noqa: F401
    from modules import registry

    for table in (registry.SERVERS, registry.REGISTRARS, registry.GATEWAYS, registry.MAIL):
        for path in table.values():
            import_module(path.partition(":")[0])


def sweep_interval_seconds() -> int:
    return int(current_app.config.get("SIDE_EFFECT_SWEEP_INTERVAL_SECONDS", 60))


def schedule_sweep(queue: Queue, interval: int, now: float) -> None:
    """Schedule the sweep of the next time slot. The job id names the slot, so any number of
    workers (each scheduling on start and after every sweep) produce one sweep per slot."""
    slot = int(now // interval) + 1
    when = datetime.fromtimestamp(slot * interval, UTC)
    try:
        queue.enqueue_at(
            when,
            SWEEP_FUNCTION,
            interval,
            job_id=f"orderdesk-sweep-{slot}",
            unique=True,
            result_ttl=interval * 2,
            failure_ttl=24 * 3600,
        )
    except DuplicateJobError:
        pass


def periodic_sweep(interval: int) -> str:
    """RQ job: schedule the next sweep first (a failing sweep must not end the chain), then sweep."""
    connection = redis_connection()
    schedule_sweep(get_queue(connection), interval, now=time.time())
    with Session(db.engine) as session:
        return str(sweep(session, connection))


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
