"""Fault tests for the side-effect pipeline: each asserts nothing is lost and nothing runs twice."""

import os
import signal
import socket
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.side_effects import retry_side_effect
from extensions import db
from jobs.run import run_side_effect
from jobs.sweeper import sweep
from models import (
    EmailLog,
    EmailStatus,
    OrderEvent,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    WEBHOOK_SECRET,
    app_context_for,
    connect_redis,
    fresh,
    horse_pid,
    record_confirmation,
    record_create,
    registered_worker,
    run_burst,
    start_worker,
    webhook_product,
)
from tests.modules_support.http_stub import StubServer
from tests.modules_support.smtp_server import Mailbox, free_port
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState

DEADLINE = 30  # seconds; a bound on waiting for a process, never a timing the test relies on


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed on exit: connections are refused


def sweep_now(app, connection, **kw):
    """One sweeper pass, as `flask sweep` or a worker runs it."""
    with Session(db.engine) as session:
        return sweep(session, connection, **kw)


def test_redis_down_at_commit_then_the_sweeper_runs_it_once(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    down = f"redis://127.0.0.1:{closed_port()}/5"
    with app_context_for(database_url, down) as app_down:
        order = factories.make_order()
        effect = record_create(order)
        effect_id, service_id, queue = effect.id, order.services[0].id, app_down.config["RQ_QUEUE"]
        db.session.commit()  # must not raise although Redis is unreachable
        assert fresh(SideEffect, effect_id).status == SideEffectStatus.QUEUED
        assert fresh(Service, service_id).status == ServiceStatus.PENDING

    with app_context_for(database_url, TEST_REDIS_URL, RQ_QUEUE=queue) as app:
        report = sweep_now(app, connection)
        assert report.enqueued == [effect_id]
        assert sweep_now(app, connection).enqueued == []  # its job is live: not enqueued twice
        run_burst(app, connection)
        done = fresh(SideEffect, effect_id)
        assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 1)
        assert fresh(Service, service_id).status == ServiceStatus.ACTIVE
        assert sweep_now(app, connection).enqueued == []
    connection.flushdb()


def test_webhook_times_out_then_500_then_succeeds(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan("timeout", "500", "ok")
    with StubServer(ReceiverHandler, state) as receiver, app_context_for(database_url, TEST_REDIS_URL) as app:
        order = factories.make_order(product=webhook_product(receiver.url))
        effect = record_create(order)
        effect_id, key, order_id = effect.id, effect.idempotency_key, order.id
        db.session.commit()
        run_burst(app, connection)  # retries are due at once (base 0), so one burst runs all three

        done = fresh(SideEffect, effect_id)
        assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 3), done.last_error
        assert state.requests_per_key[key] == 3
        assert list(state.performed) == [key]  # one account at the far side
        events = db.session.execute(
            select(OrderEvent.verb, OrderEvent.details)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        ).all()
        failures = [details for verb, details in events if verb == "side_effect_failed"]
        assert len(failures) == 2 and not any(d.get("final") for d in failures)
        assert "timed out" in failures[0]["error"] and failures[1]["error"] == "Internal error"  # the 500
        succeeded = [d["kind"] for verb, d in events if verb == "side_effect_succeeded"]
        assert succeeded == ["module_create", "email"]  # then the welcome email the payload asked for
    connection.flushdb()


def test_last_failed_create_fails_the_row_and_emails_admins(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan("500", "500", "500")
    with StubServer(ReceiverHandler, state) as receiver, app_context_for(database_url, TEST_REDIS_URL) as app:
        admin = factories.make_admin()
        order = factories.make_order(product=webhook_product(receiver.url))
        effect_id = record_create(order).id
        db.session.commit()
        run_burst(app, connection)

        failed = fresh(SideEffect, effect_id)
        assert (failed.status, failed.attempts) == (SideEffectStatus.FAILED, 3)
        assert fresh(Service, order.services[0].id).status == ServiceStatus.PENDING
        [mail] = db.session.scalars(
            select(EmailLog).where(EmailLog.template == "Automatic Setup Failed")
        ).all()
        assert mail.to == admin.email and "Internal error" in mail.body and mail.status == EmailStatus.STORED

        # The admin's Retry: the row runs again although RQ still holds the finished job's id.
        retry_side_effect(db.session, db.session.get(SideEffect, effect_id), Actor.admin(admin))
        db.session.commit()
        run_burst(app, connection)
        retried = fresh(SideEffect, effect_id)
        assert (retried.status, retried.attempts) == (SideEffectStatus.SUCCEEDED, 1), retried.last_error
        assert fresh(Service, order.services[0].id).status == ServiceStatus.ACTIVE
        assert len(state.performed) == 1
    connection.flushdb()


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped yet counts: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)  # polling a condition; nothing depends on how long it takes


@pytest.mark.parametrize("killed", ["worker and horse", "horse only"])
def test_killed_mid_job_is_retried_and_the_far_side_sees_one_account(app_ctx, database_url, killed):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan("timeout")  # the first request hangs until we let it go
    with StubServer(ReceiverHandler, state) as receiver, app_context_for(database_url, TEST_REDIS_URL) as app:
        order = factories.make_order(product=webhook_product(receiver.url))
        effect = record_create(order)
        effect_id, key, service_id = effect.id, effect.idempotency_key, order.services[0].id
        db.session.commit()

        worker = start_worker(app, database_url, TEST_REDIS_URL, "--burst", "--sweep-interval", "0",
                              MODULE_TIMEOUT_SECONDS=30)
        try:
            assert state.hanging.wait(timeout=DEADLINE), "the worker never called the webhook"
            registration = registered_worker(connection, app.config["RQ_QUEUE"], worker.pid)
            horse = horse_pid(connection, registration)
            # RQ's work horse runs in a process group of its own: killing the worker's group
            # alone would leave it running (and finishing) the job.
            assert horse and os.getpgid(horse) != os.getpgid(worker.pid)
            if killed == "worker and horse":
                os.killpg(worker.pid, signal.SIGKILL)
            os.kill(horse, signal.SIGKILL)
            wait_until(lambda: gone(horse), "the work horse survived SIGKILL")
            if killed == "horse only":  # its worker sees it die, marks the job failed, stops (burst)
                assert worker.wait(timeout=DEADLINE) == 0
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=DEADLINE)
        state.release.set()
        assert fresh(SideEffect, effect_id).status == SideEffectStatus.RUNNING
        assert state.requests_per_key[key] == 1 and state.performed == {}

        report = sweep_now(app, connection)
        if killed == "worker and horse":
            # Nothing says the attempt is lost before the running timeout: the job looks started.
            assert report.lost == []
            report = sweep_now(app, connection, timeout=timedelta(0))
        # Horse only: its worker marked the job failed, so the attempt is lost now, not later.
        assert report.lost == [effect_id] and report.enqueued == [effect_id]
        run_burst(app, connection)

        done = fresh(SideEffect, effect_id)
        assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 2), done.last_error
        assert fresh(Service, service_id).status == ServiceStatus.ACTIVE
        assert state.requests_per_key[key] == 2
        assert list(state.performed) == [key]  # the retry reused the key: one account
        assert state.accounts[service_id] == 1
    connection.flushdb()


def count_events(order_id: int, verb: str, kind: str = SideEffectKind.MODULE_CREATE) -> int:
    found = select(OrderEvent.details).where(OrderEvent.order_id == order_id, OrderEvent.verb == verb)
    return sum(details.get("kind") == kind for details in db.session.scalars(found))


@pytest.mark.parametrize("late_answer", ["hold", "hold-500"])
def test_a_slow_attempt_the_sweeper_gave_up_does_not_record_its_outcome(app_ctx, database_url, late_answer):
    """Attempt 1 waits at the receiver; the sweeper gives it up, attempt 2 runs and succeeds; then
    attempt 1's answer (success, or a 500) arrives: it must change nothing."""
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    state.plan(late_answer)
    with StubServer(ReceiverHandler, state) as receiver, app_context_for(
        database_url, TEST_REDIS_URL, MODULE_TIMEOUT_SECONDS=30
    ) as app:
        order = factories.make_order(product=webhook_product(receiver.url))
        effect = record_create(order)
        effect_id, key, order_id = effect.id, effect.idempotency_key, order.id
        db.session.commit()
        second: dict = {}

        def sweep_and_run_attempt_two():
            assert state.hanging.wait(timeout=DEADLINE)
            with app.app_context():
                second["sweep"] = sweep_now(app, connection, timeout=timedelta(0))
                second["result"] = run_side_effect(effect_id, 1)  # what the job enqueued runs
            state.release.set()  # only now does attempt 1 get its answer

        helper = threading.Thread(target=sweep_and_run_attempt_two)
        helper.start()
        run_burst(app, connection)  # attempt 1; the sweeper's job for attempt 2 finds it done
        helper.join(timeout=DEADLINE)

        assert second["sweep"].lost == [effect_id] and second["result"].startswith("succeeded")
        done = fresh(SideEffect, effect_id)
        assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 2), done.last_error
        assert count_events(order_id, "side_effect_succeeded") == 1
        assert count_events(order_id, "side_effect_failed") == 1  # the sweeper giving attempt 1 up
        welcome = select(func.count()).select_from(SideEffect).where(
            SideEffect.order_id == order_id, SideEffect.kind == SideEffectKind.EMAIL
        )
        assert db.session.scalar(welcome) == 1
        assert state.requests_per_key[key] == 2 and list(state.performed) == [key]
    connection.flushdb()


def test_smtp_down_the_email_is_retried_and_sent_once_it_is_up(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    port = free_port()
    # Real back-off (0.2 s, 0.4 s, ...): the retry waits in RQ's scheduled registry until due.
    settings = dict(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        SIDE_EFFECT_RETRY_BASE_SECONDS=0.2,
        SIDE_EFFECT_MAX_ATTEMPTS=8,
    )
    with app_context_for(database_url, TEST_REDIS_URL, **settings) as app:
        order = factories.make_order()
        effect = record_confirmation(order)
        effect_id, log_id = effect.id, effect.target_id
        db.session.commit()  # the action succeeds with the SMTP server down
        run_burst(app, connection)
        first = fresh(SideEffect, effect_id)
        assert first.status == SideEffectStatus.QUEUED and "Could not reach SMTP" in first.last_error
        assert fresh(EmailLog, log_id).status == EmailStatus.QUEUED

        mailbox = Mailbox()
        smtp = Controller(
            mailbox, hostname="127.0.0.1", port=port, server_hostname="smtp.test", ready_timeout=5
        )
        smtp.start()
        try:
            deadline = time.monotonic() + 15
            while fresh(SideEffect, effect_id).status != SideEffectStatus.SUCCEEDED:
                assert time.monotonic() < deadline, fresh(SideEffect, effect_id).last_error
                run_burst(app, connection)  # moves the retry once it is due, then runs it
        finally:
            smtp.stop()
        [message] = mailbox.messages()
        assert message["To"] == order.client.email
        assert f"Order Number: {order.order_number}" in message.get_content()
        log = fresh(EmailLog, log_id)
        assert log.status == EmailStatus.SENT and log.subject == "Order Confirmation"
    connection.flushdb()
