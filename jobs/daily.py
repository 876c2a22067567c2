"""The daily automation: `flask --app app daily`, and on the RQ worker once per day.

    run_daily(session, today=None) -> DailyReport

Steps, each idempotent (running twice on one day does each thing once):
1. renewal invoices for active services and domains due within "Invoice Generation Days"
   (actions/renewals.py), a batch of clients per transaction, every missed period too;
2. "Cancel unpaid pending orders after N days" when set (actions/auto_cancel.py), one order per
   transaction through Cancel Order;
3. when auto-accept is on, Accept for pending orders paid and set up (actions/paid_setup.py);
then the run's summary as an event (actor: the system), shown on the Daily Automation page.
A crash part-way loses nothing: committed batches stay done and the next run does the rest.

Scheduling: every worker tries, when it takes the sweep lock (jobs/worker.py), to claim today's
slot - a Redis key set with NX, kept two days - and the one that gets it enqueues the day's job
with the slot's job id; so with any number of workers one job per day is queued. It runs from
DAILY_AUTOMATION_HOUR (UTC, default 0) on; a worker started later in the day runs it at once.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from redis import Redis
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.auto_cancel import cancel_stale_order, stale_unpaid_orders
from actions.automation_settings import (
    auto_accept_paid_orders,
    cancel_unpaid_after_days,
    invoice_generation_days,
)
from actions.errors import TransitionError
from actions.paid_setup import AUTO_ACCEPT_ACTOR, accept_if_set_up, paid_set_up_orders
from actions.renewals import due_clients, invoice_renewals
from extensions import db
from models import utcnow
from models.planner_stats import optimize_sqlite

log = logging.getLogger(__name__)

DAILY_ACTOR = Actor.system("Daily automation")
JOB_FUNCTION = "jobs.daily.run_daily_job"
CLIENTS_PER_BATCH = 500
ORDERS_PER_BATCH = 500
MAX_PASSES = 60  # periods caught up in one run at most (five years of a monthly service)
SUMMARY_IDS = 200  # order ids kept in the run's summary event


@dataclass
class DailyReport:
    day: str = ""
    invoice_generation_days: int = 0
    renewal_invoices: int = 0
    renewed_services: int = 0
    renewed_domains: int = 0
    renewal_total: str = "0.00"
    cancel_after_days: int = 0
    cancelled_orders: list[int] = field(default_factory=list)
    auto_accept: bool = False
    auto_accepted: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        cancelled = (f"{len(self.cancelled_orders)} stale unpaid order(s) cancelled"
                     if self.cancel_after_days else "auto-cancel off")
        accepted = (f"{len(self.auto_accepted)} paid order(s) accepted"
                    if self.auto_accept else "auto-accept off")
        return (f"Daily automation {self.day}: {self.renewal_invoices} renewal invoice(s) for "
                f"{self.renewed_services} service(s) and {self.renewed_domains} domain(s), "
                f"total {self.renewal_total}; {cancelled}; {accepted}; {self.seconds:.1f} s")


def run_daily(session: Session, today: date | None = None) -> DailyReport:
    started = utcnow()
    today = today or started.date()
    report = DailyReport(day=today.isoformat())
    _renewals(session, today, report)
    _auto_cancel(session, started, report)
    _auto_accept(session, report)
    # Last: the steps above used the big tables, which is what PRAGMA optimize looks at.
    optimize_sqlite(session.connection().connection.dbapi_connection)
    report.seconds = round((utcnow() - started).total_seconds(), 3)
    summary = asdict(report)
    summary["cancelled_orders"] = report.cancelled_orders[:SUMMARY_IDS]  # the count is kept whole
    summary["cancelled_count"] = len(report.cancelled_orders)
    summary["auto_accepted"] = report.auto_accepted[:SUMMARY_IDS]
    summary["auto_accepted_count"] = len(report.auto_accepted)
    events.daily_run(session, DAILY_ACTOR, summary)
    session.commit()
    log.info("%s", report)
    return report


def _renewals(session: Session, today: date, report: DailyReport) -> None:
    report.invoice_generation_days = invoice_generation_days(session)
    horizon = today + timedelta(days=report.invoice_generation_days)
    total = 0
    # A pass invoices one period per due item; an item behind by several periods (a worker that was
    # down for a while) is still due after it, so passes repeat until one finds nothing.
    for _ in range(MAX_PASSES):
        after, invoiced = 0, 0
        while clients := due_clients(session, horizon, after, CLIENTS_PER_BATCH):
            batch = invoice_renewals(session, clients, horizon, today, DAILY_ACTOR)
            session.commit()
            invoiced += batch.services + batch.domains + batch.moved_without_line
            report.renewal_invoices += len(batch.invoice_ids)
            report.renewed_services += batch.services
            report.renewed_domains += batch.domains
            total += batch.total
            after = clients[-1]
        if not invoiced:
            break
    report.renewal_total = f"{total:.2f}"


def _auto_cancel(session: Session, now: datetime, report: DailyReport) -> None:
    report.cancel_after_days = days = cancel_unpaid_after_days(session)
    session.rollback()  # end the read; each cancellation is its own transaction
    if not days:
        return
    cutoff = now - timedelta(days=days)
    after = 0
    while ids := stale_unpaid_orders(session, cutoff, after, ORDERS_PER_BATCH):
        session.rollback()
        for order_id in ids:
            try:
                cancelled = cancel_stale_order(session, order_id, cutoff, DAILY_ACTOR)
            except TransitionError as exc:  # deleted or changed meanwhile: leave it
                session.rollback()
                log.info("Order %s not auto-cancelled: %s", order_id, exc.message)
                continue
            session.commit()
            if cancelled:
                report.cancelled_orders.append(order_id)
        after = ids[-1]


def _auto_accept(session: Session, report: DailyReport) -> None:
    """Orders paid and set up before the setting was turned on (or whose last item was set up by
    hand) are accepted here; the rest are accepted as their last item is set up."""
    report.auto_accept = auto_accept_paid_orders(session)
    session.rollback()
    if not report.auto_accept:
        return
    after = 0
    while ids := paid_set_up_orders(session, after, ORDERS_PER_BATCH):
        session.rollback()
        for order_id in ids:
            try:
                accepted = accept_if_set_up(session, order_id, AUTO_ACCEPT_ACTOR)
            except TransitionError as exc:
                session.rollback()
                log.info("Order %s not auto-accepted: %s", order_id, exc.message)
                continue
            session.commit()
            if accepted:
                report.auto_accepted.append(order_id)
        after = ids[-1]


def run_daily_job(day: str) -> str:
    """The RQ job of one day's slot (the worker's app context is current)."""
    with Session(db.engine) as session:
        return str(run_daily(session, date.fromisoformat(day)))


# --- scheduling on the worker ------------------------------------------------------------------------


def slot_key(queue_name: str, day: date) -> str:
    return f"orderdesk:daily-slot:{queue_name}:{day.isoformat()}"


def current_slot(now: datetime | None = None) -> date | None:
    """Today's slot once DAILY_AUTOMATION_HOUR (UTC) has come, else None."""
    now = now or datetime.now(UTC)
    hour = int(current_app.config.get("DAILY_AUTOMATION_HOUR", 0))
    return now.date() if now.hour >= hour else None


def enqueue_daily_if_due(connection: Redis, queue) -> bool:
    """Claim today's slot and enqueue its job; False when it was claimed already (or not due)."""
    day = current_slot()
    if day is None or not connection.set(slot_key(queue.name, day), "1", nx=True, ex=2 * 24 * 3600):
        return False
    queue.enqueue(JOB_FUNCTION, day.isoformat(), job_id=f"daily-automation-{day.isoformat()}",
                  job_timeout=6 * 3600, failure_ttl=7 * 24 * 3600)
    return True
