"""After commit: hand every side effect recorded in the transaction to RQ, or run it in-process.

Actions call actions.side_effects.record_side_effect(), which appends the row id to
session.info[PENDING_KEY]. Only after the database commit do we enqueue (a worker must never see
a row before it is committed). A failed enqueue (Redis down) is logged and the row stays queued
for the sweeper: the commit has already happened and must not be reported as failed.

A commit that recorded many (a bulk change announced to a hook: one delivery per order) enqueues
the first ENQUEUED_IN_REQUEST itself and hands the rest, FAN_OUT_BATCH at a time, to fan-out jobs
that the workers run: each enqueue is a Redis round trip or more (about 0.7 ms here:
bench/dispatch_bench.py), so 100,000 would hold the request over a minute. A lost or failed
fan-out job loses nothing: its rows stay queued, and the sweeper enqueues them.
"""

import logging
import threading
from collections import deque

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from actions.side_effects import PENDING_KEY
from jobs.queueing import FAILURE_TTL, enqueue, get_queue, running_timeout
from jobs.run import run_side_effect

log = logging.getLogger(__name__)

_embedded = threading.local()

ENQUEUED_IN_REQUEST = 100
FAN_OUT_BATCH = 1000
FAN_OUT_FUNCTION = "jobs.dispatcher.enqueue_first_attempts"
# A fan-out that fails (Redis away a moment) tries again soon: the sweeper would take its rows
# too, but at most a batch of them per interval.
FAN_OUT_RETRY = Retry(max=3, interval=[5, 30, 120])


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
    """Enqueue each row's first attempt (REDIS_URL), else run it in-process now. Rows are recorded
    (and retried) with no attempts yet, so the job is the first attempt's."""
    if current_app.config.get("REDIS_URL"):
        try:
            queue = get_queue()
            enqueue_first_attempts(effect_ids[:ENQUEUED_IN_REQUEST], queue)
            rest = effect_ids[ENQUEUED_IN_REQUEST:]
            for start in range(0, len(rest), FAN_OUT_BATCH):
                queue.enqueue(FAN_OUT_FUNCTION, list(rest[start:start + FAN_OUT_BATCH]),
                              failure_ttl=FAILURE_TTL, job_timeout=int(running_timeout().total_seconds()),
                              retry=FAN_OUT_RETRY)
        except RedisError as exc:
            log.warning("Redis unavailable, %d side effect(s) (ids %d to %d) stay queued for the sweeper: %s",
                        len(effect_ids), min(effect_ids), max(effect_ids), exc)
        return
    run_embedded([(effect_id, 0) for effect_id in effect_ids])


def enqueue_first_attempts(effect_ids: list[int], queue=None) -> int:
    """Enqueue the first attempt of each side effect (dispatch's own part, and its fan-out jobs);
    returns how many were enqueued. One whose job will run it already (the sweeper's, or this
    job's first try) is skipped; a job of that id that will not run it is replaced
    (jobs.queueing.enqueue), and the row's claim keeps its attempt from running twice."""
    queue = queue or get_queue()
    return sum(enqueue(queue, effect_id, 0) for effect_id in effect_ids)


def run_embedded(attempts: list[tuple[int, int]]) -> None:
    """Run (side effect id, attempts so far) jobs in this process, one after another, even those
    recorded by a job (welcome email after a create): those join the running drain instead of
    nesting."""
    pending = getattr(_embedded, "pending", None)
    if pending is not None:
        pending.extend(attempts)
        return
    _embedded.pending = deque(attempts)
    try:
        while _embedded.pending:
            run_side_effect(*_embedded.pending.popleft())
    finally:
        _embedded.pending = None
