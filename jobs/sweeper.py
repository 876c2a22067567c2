"""The sweeper: finds side effects nobody is running and hands them to a worker again.

- queued rows whose next_attempt_at is due and that have no live RQ job (Redis was down at commit,
  a scheduled retry was lost, RQ dropped the job) are enqueued again - or, embedded, run here;
- rows stuck in running longer than the timeout (the worker died mid-job) become queued again,
  with the lost attempt counted; the module's idempotency key makes the repeat harmless remotely.
Safe to run from several places at once: every enqueue uses the attempt's deterministic job id.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from redis import Redis
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from jobs.dispatcher import enqueue, get_queue, job_id_for, run_embedded
from models import SideEffect, SideEffectStatus, utcnow

log = logging.getLogger(__name__)

LOST_ATTEMPT = "The worker stopped while running this side effect (no result after {minutes:g} min); retrying"


@dataclass
class SweepReport:
    requeued_stuck: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    ran_in_process: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.requeued_stuck)} stuck running row(s) made retryable, "
            f"{len(self.enqueued)} enqueued, {len(self.ran_in_process)} run in-process"
        )


def sweep(
    session: Session, redis: Redis | None, running_timeout: timedelta | None = None, batch: int = 500
) -> SweepReport:
    """One pass. `redis` None means embedded mode: due rows run in this process."""
    report = SweepReport()
    now = utcnow()
    timeout = (
        running_timeout
        if running_timeout is not None
        else timedelta(seconds=float(current_app.config.get("SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS", 900)))
    )
    stuck = session.scalars(
        update(SideEffect)
        .where(SideEffect.status == SideEffectStatus.RUNNING, SideEffect.started_at <= now - timeout)
        .values(
            status=SideEffectStatus.QUEUED,
            next_attempt_at=now,
            last_error=LOST_ATTEMPT.format(minutes=timeout.total_seconds() / 60),
        )
        .returning(SideEffect.id)
        .execution_options(synchronize_session=False)
    ).all()
    report.requeued_stuck = list(stuck)
    due = session.execute(
        select(SideEffect.id, SideEffect.attempts)
        .where(
            SideEffect.status == SideEffectStatus.QUEUED,
            or_(SideEffect.next_attempt_at.is_(None), SideEffect.next_attempt_at <= now),
        )
        .order_by(SideEffect.id)
        .limit(batch)
    ).all()
    session.commit()
    if stuck:
        log.warning("Side effects %s were stuck in running; queued again", report.requeued_stuck)
    if redis is None:
        run_embedded([row.id for row in due])
        report.ran_in_process = [row.id for row in due]
        return report
    queue = get_queue(redis)
    for effect_id, attempts in due:
        if enqueue(queue, effect_id, job_id_for(effect_id, attempts)):
            report.enqueued.append(effect_id)
    return report
