"""Event hook deliveries with the worker killed mid-delivery (real `flask worker` processes, a real
receiver on 127.0.0.1): no event is lost, and the one delivery a receiver can see twice is the one
whose worker died after the receiver had it and before the outcome was recorded - the outbox
promises at-least-once delivery, the repeat carries the same event id and the same signed body,
and the receiver drops it by that id (docs/hooks.md)."""

import os
import signal
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from actions.actor import SYSTEM
from actions.hook_events import create_endpoint
from actions.transitions import run_order_action
from extensions import db
from models import AutoSetup, SideEffect, SideEffectKind, SideEffectStatus
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    app_context_for,
    connect_redis,
    horse_pid,
    registered_worker,
    start_worker,
)
from tests.modules_support.hook_receiver import HookReceiverHandler, ReceiverState
from tests.modules_support.http_stub import StubServer
from tests.test_jobs_faults import gone, wait_until

ORDERS = 20
DRAIN_DEADLINE = 300  # seconds; a bound on the whole drain on a busy machine, not a timing
# The killed attempts wait out the running timeout before a sweep gives them up.
JOBS = dict(MODULE_TIMEOUT_SECONDS=10, SIDE_EFFECT_RUNNING_TIMEOUT_SECONDS=15, SIDE_EFFECT_MAX_ATTEMPTS=5)


def kill_when_held(app, connection, worker, state: ReceiverState) -> None:
    """SIGKILL the worker and its work horse (RQ puts the horse in a process group of its own)
    while the receiver holds a delivery, then let the receiver go on."""
    assert state.holding.wait(timeout=DRAIN_DEADLINE), f"no delivery was held ({state.requests} requests)"
    registration = registered_worker(connection, app.config["RQ_QUEUE"], worker.pid)
    horse = horse_pid(connection, registration)
    assert horse, "no work horse registered while a delivery is on its way"
    os.killpg(worker.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    wait_until(lambda: gone(horse), "the work horse survived SIGKILL")
    worker.wait(timeout=30)
    state.holding.clear()
    state.release.set()


def hook_deliveries():
    return select(SideEffect).where(SideEffect.kind == SideEffectKind.HOOK_DELIVERY)


@pytest.mark.timeout(900)
def test_no_event_lost_and_a_repeat_only_where_the_worker_died_after_sending(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    # Request 6 is held before the receiver reads any of it (the receiver never sees it: like a
    # connection lost on the way); request 14 is read and kept, and its 200 held.
    state = ReceiverState(hold_unread_at=6, hold_answer_at=14)
    workers = []
    try:
        with StubServer(HookReceiverHandler, state) as receiver, \
                app_context_for(database_url, TEST_REDIS_URL, **JOBS) as app:
            endpoint, state.secret = create_endpoint(db.session, receiver.url + "/hooks", ["order.accepted"])
            product = factories.make_product(auto_setup=AutoSetup.NEVER)
            orders = [factories.make_order(product=product) for _ in range(ORDERS)]
            db.session.commit()
            for order in orders:  # each accept commits its delivery with it, and enqueues it
                run_order_action(db.session, "accept", order.id, SYSTEM, options=None)
                db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(hook_deliveries().subquery())) == ORDERS

            def worker(*args):
                workers.append(start_worker(app, database_url, TEST_REDIS_URL, *args, **JOBS))
                return workers[-1]

            kill_when_held(app, connection, worker("--sweep-interval", "0"), state)
            state.release = threading.Event()
            kill_when_held(app, connection, worker("--sweep-interval", "0"), state)
            worker("--sweep-interval", "1")  # the survivor sweeps: the two lost attempts are retried

            deadline = time.monotonic() + DRAIN_DEADLINE
            while db.session.scalar(select(func.count()).select_from(
                    hook_deliveries().where(SideEffect.status != SideEffectStatus.SUCCEEDED).subquery())):
                assert time.monotonic() < deadline, "the deliveries did not drain"
                db.session.rollback()  # a fresh snapshot each look
                time.sleep(0.5)  # polling a condition; nothing depends on how long it takes

            rows = db.session.scalars(hook_deliveries()).all()
            assert Counter(row.attempts for row in rows) == {1: ORDERS - 2, 2: 2}
            sent_ids = {row.payload["id"] for row in rows}
            retried = {row.payload["id"] for row in rows if row.attempts == 2}
    finally:
        for process in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        connection.flushdb()

    seen = Counter(state.event_ids())
    assert set(seen) == sent_ids and len(sent_ids) == ORDERS  # no event lost
    assert all(r.verified for r in state.received)
    [held_answer] = state.held_ids
    unread = (retried - {held_answer}).pop()
    assert held_answer in retried
    assert seen[unread] == 1  # killed before the receiver had it: delivered once, by the retry
    assert seen[held_answer] == 2  # killed after: sent again, the same id and the same body
    copies = [r.body for r in state.received if r.event_id == held_answer]
    assert copies[0] == copies[1]
    assert sum(seen.values()) == ORDERS + 1 and all(seen[i] == 1 for i in sent_ids - {held_answer})
