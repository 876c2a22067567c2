"""RQ plumbing shared by the dispatcher, the job, the sweeper and the worker: the Redis connection,
the queue, one job per attempt, and enqueueing an attempt at most once.

Attempt n + 1 of side effect <id> (the row has n attempts so far) is the RQ job `side-effect-<id>`
(n = 0) or `side-effect-<id>-try<n+1>`, calling jobs.run.run_side_effect(<id>, n). The job claims
the row only while it still has n attempts, so a job runs at most one attempt and each attempt has
exactly one job id - which is how the sweeper knows which job an attempt belongs to.
"""

from datetime import UTC, datetime, timedelta

from flask import current_app
from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

JOB_FUNCTION = "jobs.run.run_side_effect"
# Keep failed RQ jobs a day for the dashboard; the outbox row is the record that matters.
FAILURE_TTL = 24 * 3600
# A job in one of these states has ended: whatever attempt it claimed will never report.
ENDED_JOB_STATES = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def redis_connection() -> Redis:
    connection = current_app.extensions.get("orderdesk_redis")
    if connection is None:
        url = current_app.config["REDIS_URL"]
        connection = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        current_app.extensions["orderdesk_redis"] = connection
    return connection


def get_queue(connection: Redis | None = None) -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=connection or redis_connection())


def running_timeout() -> timedelta:
    """How long an attempt may run: RQ stops its job after this, and the sweeper then takes the
    attempt as lost (SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS)."""
    return timedelta(seconds=float(current_app.config["SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS"]))


def job_id_for(effect_id: int, attempts: int) -> str:
    """The RQ job id of the attempt that follows `attempts` attempts."""
    base = f"side-effect-{effect_id}"
    return base if attempts == 0 else f"{base}-try{attempts + 1}"


def enqueue(queue: Queue, effect_id: int, attempts: int, delay: timedelta | None = None) -> bool:
    """Enqueue the job of the attempt after `attempts` (now, or after `delay`); False when a job
    that will run that attempt exists already (a no-op).

    A job of the same id that will not run it is removed first: one that ended (RQ keeps a
    finished or failed job's id reserved for a while), one scheduled for later while the attempt is
    due now (RQ's scheduler is down or lost its place), one started so long ago that its worker
    must have died before claiming the row."""
    job_id = job_id_for(effect_id, attempts)
    for _ in range(2):
        try:
            _enqueue_unique(queue, effect_id, attempts, job_id, delay)
            return True
        except DuplicateJobError:
            if will_run(queue.connection, job_id, due_now=not delay or delay <= timedelta(0)):
                return False
            delete_job(queue.connection, job_id)
    return False


def _enqueue_unique(
    queue: Queue, effect_id: int, attempts: int, job_id: str, delay: timedelta | None
) -> None:
    options = dict(
        job_id=job_id,
        unique=True,
        failure_ttl=FAILURE_TTL,
        job_timeout=int(running_timeout().total_seconds()),
    )
    if delay and delay > timedelta(0):
        queue.enqueue_in(delay, JOB_FUNCTION, effect_id, attempts, **options)
    else:
        queue.enqueue(JOB_FUNCTION, effect_id, attempts, **options)


def _fetch(connection: Redis, job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return None


def will_run(connection: Redis, job_id: str, due_now: bool) -> bool:
    job = _fetch(connection, job_id)
    if job is None:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.SCHEDULED:
        return not due_now
    if status == JobStatus.STARTED:
        return not _older_than(job.started_at, running_timeout())
    return status in (JobStatus.QUEUED, JobStatus.DEFERRED)


def attempt_ended(connection: Redis, effect_id: int, attempts: int) -> bool:
    """True when the job that claimed a running row's attempt (its `attempts`-th) has ended - its
    work horse died or was killed, the worker marked it failed - so that attempt will never
    record its outcome."""
    job = _fetch(connection, job_id_for(effect_id, attempts - 1))
    return job is not None and job.get_status(refresh=False) in ENDED_JOB_STATES


def delete_job(connection: Redis, job_id: str) -> None:
    """A job that will not run the attempt holds its id; drop it so the attempt can be enqueued."""
    job = _fetch(connection, job_id)
    if job is not None:
        job.delete()


def _older_than(moment: datetime | None, age: timedelta) -> bool:
    if moment is None:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment <= datetime.now(UTC) - age
