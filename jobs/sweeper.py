"""The sweeper: finds side effects nobody will run and hands them to a worker again.

One pass:
- a running attempt that will never report is given up: it ran longer than the running timeout
  (RQ stops a job at that age, so the worker died), or - with Redis - the RQ job that claimed it
  has ended (its work horse was killed, the worker marked the job failed). The lost attempt counts:
  the row goes back to queued, due now, or is failed after the last attempt (with the Automatic
  Setup Failed email for a create). The module's idempotency key makes the repeat harmless;
- queued rows that are due are enqueued with their attempt's job id unless a job that will run
  them exists: a job that is only *scheduled* (RQ's scheduler is down or lost its place), ended,
  lost with Redis's data, or started by a worker that died is replaced. Embedded: run here.
Safe to run from several places at once: each row changes through a conditional update, and every
enqueue uses the attempt's job id (jobs.queueing).
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from redis import Redis
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from actions.side_effect_outcomes import fail_side_effect
from jobs.dispatcher import run_embedded
from jobs.queueing import attempt_ended, enqueue, get_queue, running_timeout
from jobs.run import SETUP_KINDS, max_attempts, notify_setup_failed
from models import SideEffect, SideEffectStatus, utcnow

log = logging.getLogger(__name__)

TIMED_OUT = "No result after {minutes:g} min: the worker running it must have stopped"
JOB_ENDED = "The worker's process running it stopped before it could report"


@dataclass
class SweepReport:
    lost: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    ran_in_process: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.lost)} lost attempt(s) given up, "
            f"{len(self.enqueued)} enqueued, {len(self.ran_in_process)} run in-process"
        )


def sweep(
    session: Session, redis: Redis | None, timeout: timedelta | None = None, batch: int = 500
) -> SweepReport:
    """One pass. `redis` None means embedded mode: due rows run in this process."""
    report = SweepReport()
    timeout = running_timeout() if timeout is None else timeout
    running = session.execute(
        select(SideEffect.id, SideEffect.attempts, SideEffect.started_at)
        .where(SideEffect.status == SideEffectStatus.RUNNING)
        .order_by(SideEffect.id)
        .limit(batch)
    ).all()
    session.rollback()
    for effect_id, attempts, started_at in running:
        if started_at is None or started_at <= utcnow() - timeout:
            reason = TIMED_OUT.format(minutes=timeout.total_seconds() / 60)
        elif redis is not None and attempt_ended(redis, effect_id, attempts):
            reason = JOB_ENDED
        else:
            continue
        if give_up(session, effect_id, attempts, reason):
            report.lost.append(effect_id)
    if report.lost:
        log.warning("Side effects %s: lost attempts given up", report.lost)
    now = utcnow()
    due = session.execute(
        select(SideEffect.id, SideEffect.attempts)
        .where(
            SideEffect.status == SideEffectStatus.QUEUED,
            or_(SideEffect.next_attempt_at.is_(None), SideEffect.next_attempt_at <= now),
        )
        .order_by(SideEffect.id)
        .limit(batch)
    ).all()
    session.rollback()
    if redis is None:
        run_embedded([(row.id, row.attempts) for row in due])
        report.ran_in_process = [row.id for row in due]
        return report
    queue = get_queue(redis)
    for effect_id, attempts in due:
        if enqueue(queue, effect_id, attempts):
            report.enqueued.append(effect_id)
    return report


def give_up(session: Session, effect_id: int, attempts: int, reason: str) -> bool:
    """The lost attempt as a failure: queued again now, or failed after the last attempt. False if
    the attempt reported meanwhile (or another sweeper was first)."""
    effect = session.get(SideEffect, effect_id)
    final = attempts >= max_attempts()
    if not fail_side_effect(session, effect, reason, retry_at=None if final else utcnow(), attempt=attempts):
        session.rollback()
        return False
    if final and effect.kind in SETUP_KINDS:
        notify_setup_failed(session, effect)
    session.commit()
    return True
