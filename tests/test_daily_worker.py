"""The daily automation on the RQ worker: one job per day's slot, whatever the number of workers."""

import time
from datetime import UTC, datetime, timedelta

from rq import Queue
from rq.job import Job
from sqlalchemy import func, select

from extensions import db
from jobs.daily import current_slot, enqueue_daily_if_due, slot_key
from models import InvoiceStatus, OrderEvent, OrderStatus, ServiceStatus, utcnow
from tests import factories
from tests.jobs_support import TEST_REDIS_URL, app_context_for, connect_redis, run_burst, start_worker

DEADLINE = 60  # seconds: a bound on waiting, never a timing relied on


def renewable_order():
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), status=OrderStatus.ACTIVE,
                                 invoice_status=InvoiceStatus.PAID, paid=True)
    order.services[0].next_invoice_date = utcnow().date() + timedelta(days=2)
    db.session.commit()
    return order


def daily_runs() -> list[dict]:
    db.session.rollback()  # see what the worker committed
    return [e.details for e in db.session.scalars(select(OrderEvent).where(OrderEvent.verb == "daily_run"))]


def test_the_days_slot_is_claimed_once_and_its_job_runs_on_a_real_worker(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        renewable_order()
        queue = Queue(app.config["RQ_QUEUE"], connection=connection)
        assert enqueue_daily_if_due(connection, queue) is True
        assert enqueue_daily_if_due(connection, queue) is False  # the slot is taken: no second job
        day = utcnow().date().isoformat()
        assert queue.job_ids == [f"daily-automation-{day}"]
        assert connection.ttl(slot_key(queue.name, utcnow().date())) > 24 * 3600

        run_burst(app, connection)

        job = Job.fetch(f"daily-automation-{day}", connection=connection)
        assert job.is_finished, job.latest_result()
        assert [(r["day"], r["renewal_invoices"]) for r in daily_runs()] == [(day, 1)]
    connection.flushdb()


def test_the_slot_opens_at_the_configured_hour(app_ctx, database_url):
    with app_context_for(database_url, None, DAILY_AUTOMATION_HOUR=6):
        morning = datetime(2026, 12, 1, 5, 59, tzinfo=UTC)
        assert current_slot(morning) is None
        assert current_slot(morning + timedelta(minutes=1)) == morning.date()


def test_two_worker_processes_run_the_day_once(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        renewable_order()
        workers = [start_worker(app, database_url, TEST_REDIS_URL, SIDE_EFFECT_SWEEP_INTERVAL_SECONDS=1)
                   for _ in range(2)]
        try:
            started = time.monotonic()
            while not daily_runs():
                assert time.monotonic() - started < DEADLINE, "no worker ran the daily automation"
                time.sleep(0.2)
            # Both workers have swept (and tried the slot) several times by the time the sweep lock
            # has been taken again; the day's job is still the only one.
            key = f"orderdesk:sweep-lock:{app.config['RQ_QUEUE']}"
            seen = {connection.get(key)}
            while len(seen) < 4:
                assert time.monotonic() - started < DEADLINE, "the workers stopped sweeping"
                seen.add(connection.get(key))
                time.sleep(0.1)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
        runs = daily_runs()
        assert [r["renewal_invoices"] for r in runs] == [1]
        assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.verb == "renewal_invoiced")) == 1
    connection.flushdb()
