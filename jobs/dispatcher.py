"""After commit: hand every side effect recorded in the transaction to RQ, or run it in-process.

Actions call actions.side_effects.record_side_effect(), which appends the row id to
session.info[PENDING_KEY]. Only after the database commit do we enqueue (a worker must never see
a row before it is committed). A failed enqueue (Redis down) is logged and the row stays queued
for the sweeper: the commit has already happened and must not be reported as failed.
"""

import logging
import threading
from collections import deque
from datetime import timedelta

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from actions.side_effects import PENDING_KEY

log = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.run.run_side_effect"
# Job states in which a job will still run (or is running): do not enqueue another one.
LIVE_JOB_STATES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
# Keep failed RQ jobs a day for the dashboard; the outbox row is the record that matters.
FAILURE_TTL = 24 * 3600

_embedded = threading.local()


def init_dispatcher(app: Flask) -> None:
    """Listen for commits on every SQLAlchemy session (once per process; the listener reads the
    configuration of whichever app is current when a commit happens)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT was released, not the real transaction
        return
    ids = session.info.pop(PENDING_KEY, None)
    if not ids:
        return
    if not has_app_context():
        log.warning("Side effects %s committed outside an app context; the sweeper will run them", ids)
        return
    dispatch(ids)


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)


def dispatch(effect_ids: list[int]) -> None:
    """Enqueue each row's job (REDIS_URL), else run the job function in-process now."""
    if current_app.config.get("REDIS_URL"):
        try:
            queue = get_queue()
            for effect_id in effect_ids:
                enqueue(queue, effect_id, job_id_for(effect_id, 0))
        except RedisError as exc:
            log.warning("Redis unavailable, side effects %s stay queued for the sweeper: %s", effect_ids, exc)
        return
    run_embedded(effect_ids)


def run_embedded(effect_ids: list[int]) -> None:
    """Run jobs in this process, one after another, even those recorded by a job (welcome email
    after a create): those are appended to the running drain instead of nesting."""
    from jobs.run import run_side_effect

    pending = getattr(_embedded, "pending", None)
    if pending is not None:
        pending.extend(effect_ids)
        return
    _embedded.pending = deque(effect_ids)
    try:
        while _embedded.pending:
            run_side_effect(_embedded.pending.popleft())
    finally:
        _embedded.pending = None


def job_id_for(effect_id: int, attempts: int) -> str:
    """The RQ job id of the next attempt: SideEffect.rq_job_id for the first, then one id per
    attempt, so each attempt is enqueued at most once however many times it is requested."""
    base = f"side-effect-{effect_id}"
    return base if attempts == 0 else f"{base}-try{attempts + 1}"


def redis_connection() -> Redis:
    connection = current_app.extensions.get("orderdesk_redis")
    if connection is None:
        url = current_app.config["REDIS_URL"]
        connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        current_app.extensions["orderdesk_redis"] = connection
    return connection


def get_queue(connection: Redis | None = None) -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=connection or redis_connection())


def enqueue(queue: Queue, effect_id: int, job_id: str, delay: timedelta | None = None) -> bool:
    """Enqueue one attempt; False when a live job for that attempt exists already (a no-op).

    A finished or failed job keeps its id reserved in Redis for a while (RQ's result/failure TTL);
    if one is in the way, the row being queued means it must run again, so the dead job goes."""
    for _ in range(2):
        try:
            _enqueue_unique(queue, effect_id, job_id, delay)
            return True
        except DuplicateJobError:
            if job_is_live(queue.connection, job_id):
                return False
            delete_dead_job(queue.connection, job_id)
    return False


def _enqueue_unique(queue: Queue, effect_id: int, job_id: str, delay: timedelta | None) -> None:
    options = dict(job_id=job_id, unique=True, failure_ttl=FAILURE_TTL)
    if delay and delay > timedelta(0):
        queue.enqueue_in(delay, JOB_FUNCTION, effect_id, **options)
    else:
        queue.enqueue(JOB_FUNCTION, effect_id, **options)


def job_is_live(connection: Redis, job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status in LIVE_JOB_STATES


def delete_dead_job(connection: Redis, job_id: str) -> None:
    """A finished/failed job keeps its id reserved; drop it so the attempt can be enqueued again."""
    try:
        Job.fetch(job_id, connection=connection).delete()
    except NoSuchJobError:
        pass
