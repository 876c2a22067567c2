"""Bulk Send Message to 1,000 clients through real `flask worker` processes and a real SMTP server:
one email each, every one in the email log, none sent twice although the worker is killed twice
mid-way (the outbox's guarantee; docs/side-effects.md)."""

import asyncio
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from actions.order_number import new_order_number
from extensions import db
from models import Client, EmailLog, EmailStatus, Order, SideEffect, SideEffectStatus
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    app_context_for,
    connect_redis,
    horse_pid,
    registered_worker,
    start_worker,
)
from tests.modules_support.smtp_server import free_port
from tests.test_jobs_faults import gone, wait_until

# 1,000 on PostgreSQL (the production database) and 100 on SQLite, where the same kill points
# need no thousand fork-per-job emails more to show the same thing (a suite under 15 minutes);
# MASS_MAIL_FAULT_CLIENTS=N sets both (60 for a quick run).
FAULT_CLIENTS = os.environ.get("MASS_MAIL_FAULT_CLIENTS")


def clients_for(database_url: str) -> int:
    if FAULT_CLIENTS:
        return int(FAULT_CLIENTS)
    return 1000 if database_url.startswith("postgresql") else 100
DRAIN_DEADLINE = 900  # seconds; a bound on the whole drain on a busy machine, not a timing


class HoldingMailbox:
    """aiosmtpd handler keeping every message it receives; it holds one RCPT and one DATA answer
    until the test lets them go (the client is dead by then). Like a real MTA it has queued the held
    DATA's message before answering, so that message is kept although the client never saw the 250."""

    def __init__(self, clients: int) -> None:
        self.hold_at_rcpt = clients * 3 // 10  # the worker dies while this RCPT waits for its answer
        self.hold_at_data = clients * 7 // 10  # ... and while this DATA (fully received) waits
        self.messages: list[tuple[str, str]] = []  # (To, Message-ID)
        self.rcpts = self.datas = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held: list[str] = []

    async def _hold(self, address: str) -> None:
        self.held.append(address)
        self.holding.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        self.rcpts += 1
        if self.rcpts == self.hold_at_rcpt:
            await self._hold(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.datas += 1
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((message["To"], message["Message-ID"]))  # queued first, then answered
        if self.datas == self.hold_at_data:
            await self._hold(envelope.rcpt_tos[0])
        return "250 Message accepted for delivery"


def seed_clients(clients: int) -> None:
    for i in range(clients):
        client = factories.make_client(first_name=f"Client{i}", email=f"mass{i}@example.com")
        db.session.add(Order(order_number=new_order_number(db.session), client=client,
                             status="Pending", payment_method="banktransfer", amount=Decimal("0.00"),
                             ip_address="203.0.113.7"))
    db.session.commit()


def kill_when_held(app, connection, worker, mailbox) -> None:
    """SIGKILL the worker and its work horse (its own process group) while the SMTP server holds
    a message, then let the server go on; the dead client's connection is closed."""
    assert mailbox.holding.wait(timeout=DRAIN_DEADLINE), \
        f"the worker never reached the held message: {mailbox.rcpts} RCPT, {mailbox.datas} DATA"
    registration = registered_worker(connection, app.config["RQ_QUEUE"], worker.pid)
    horse = horse_pid(connection, registration)
    assert horse, "no work horse registered while a message is on its way"
    os.killpg(worker.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    wait_until(lambda: gone(horse), "the work horse survived SIGKILL")
    worker.wait(timeout=30)
    mailbox.holding.clear()
    mailbox.release.set()


@pytest.mark.timeout(2400)  # 1,000 fork-per-job emails on a shared 2-core machine
def test_a_thousand_clients_one_email_each_with_the_worker_killed_twice(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    clients = clients_for(database_url)
    mailbox = HoldingMailbox(clients)
    port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="smtp.test", ready_timeout=5)
    smtp.start()
    # Timeouts roomy enough for a machine at load 25; the two killed attempts wait out the running one.
    jobs = dict(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MODULE_TIMEOUT_SECONDS=20,
                SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS=25, SIDE_EFFECT_MAX_ATTEMPTS=5)
    workers = []
    try:
        with app_context_for(database_url, TEST_REDIS_URL, **jobs) as app:
            seed_clients(clients)
            admin = factories.make_admin()
            db.session.commit()
            response = app.test_client(user=admin).post("/admin/orders/action/", data={
                "action": "mass_mail", "all_matching": "1", "step": "send",
                "subject": "Hello {{ client_first_name }}", "body": "Your order {{ order_number }}."})
            assert response.status_code == 302
            assert db.session.scalar(select(func.count()).select_from(EmailLog)) == clients

            def worker(*args):
                workers.append(start_worker(app, database_url, TEST_REDIS_URL, *args, **jobs))
                return workers[-1]

            for _ in range(2):  # killed at the held RCPT, then at the held DATA
                kill_when_held(app, connection, worker("--sweep-interval", "0"), mailbox)
                mailbox.release = threading.Event()
            worker("--sweep-interval", "1")  # the survivor: sweeps, so the two lost attempts are retried

            def all_done():
                return db.session.scalar(select(func.count()).select_from(SideEffect).where(
                    SideEffect.status != SideEffectStatus.SUCCEEDED)) == 0

            deadline = time.monotonic() + DRAIN_DEADLINE
            while not all_done():
                assert time.monotonic() < deadline, "the queue did not drain"
                db.session.rollback()  # a fresh snapshot each look
                time.sleep(0.5)  # polling a condition; nothing depends on how long it takes

            attempts = Counter(db.session.scalars(select(SideEffect.attempts)))
            assert attempts == {1: clients - 2, 2: 2}  # the two killed attempts, retried once each
            logs = db.session.execute(select(EmailLog.client_id, EmailLog.to, EmailLog.status,
                                             EmailLog.subject)).all()
            assert len({row.client_id for row in logs}) == clients
            assert {row.status for row in logs} == {EmailStatus.SENT}
            emails = dict(db.session.execute(select(Client.id, Client.email)).all())
            assert all(row.to == emails[row.client_id] for row in logs)
            assert all(row.subject.startswith("Hello Client") for row in logs)
    finally:
        for process in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        smtp.stop()
        connection.flushdb()

    per_client = defaultdict(list)
    for to, message_id in mailbox.messages:
        per_client[to].append(message_id)
    assert len(per_client) == clients
    assert all(len(set(ids)) == 1 for ids in per_client.values())  # one message per client
    held_rcpt, held_data = mailbox.held
    assert len(per_client[held_rcpt]) == 1  # killed before the message was sent: sent once, later
    # Killed after the server had it but before the worker heard so: SMTP sends it again, with the
    # same Message-ID, which the receiving side drops as a copy. No other message arrived twice.
    assert len(per_client[held_data]) == 2
    assert sum(len(ids) for ids in per_client.values()) == clients + 1
