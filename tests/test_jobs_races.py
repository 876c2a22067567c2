"""Cancel and Set as Fraud racing a real RQ worker, at controlled points of the create's job.

Each iteration accepts an order (Run Module Create, the production payload), lets a real RQ
worker (SimpleWorker on the test Redis, in this process so the test can hold it at a point) run
the create against a local receiver that counts live accounts per service, and runs the order
action at one point of the job:

- before_claim: the action has read the create as queued (under the order's lock) when the
  worker claims it, and only then writes. PostgreSQL: the claim commits in between, so the action
  must not overwrite the claimed row. SQLite: the claim waits for the action's write lock.
- after_claim: the row is claimed and committed, the module not called yet.
- after_answer: the receiver answered, the outcome transaction has not started.
- in_outcome: the outcome transaction holds the order's lock and has written the service Active,
  not committed; the action runs then, and must wait for that lock (it is released once the
  action is seen waiting: PostgreSQL's pg_stat_activity, or on SQLite its first write - SQLite's
  single write lock is held by the worker, so that write can only wait).

Iterations alternate Cancel and Set as Fraud. The points are reached deterministically (events,
never sleeps). After each iteration: the order
has the action's status, the service too and never Active, nothing is left queued or running, the
receiver holds no live account for the service, and the create ended as that point implies.
ORDERDESK_RACE_ITERATIONS sets the iterations per test (default 100; bench/mutation_check.py uses
fewer).
"""

import os
import threading

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

import jobs.run
from actions.accept import accept_order
from actions.actor import Actor
from actions.cancel import cancel_order
from actions.fraud import set_order_fraud
from extensions import db
from models import Order, Service, ServiceStatus, SideEffect, SideEffectKind, SideEffectStatus
from tests import factories
from tests.jobs_support import TEST_REDIS_URL, WEBHOOK_SECRET, app_context_for, connect_redis, webhook_product
from tests.modules_support.http_stub import StubServer
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState

ITERATIONS = int(os.environ.get("ORDERDESK_RACE_ITERATIONS", "100"))
ADMIN = Actor("admin", 1, "Race Test")
ACTIONS = {"cancel": (cancel_order, "Cancelled"), "fraud": (set_order_fraud, "Fraud")}
DEADLINE = 30  # seconds: a bound on waiting for the other side, never a timing relied on
WRITES = ("UPDATE", "INSERT", "DELETE")


class Race:
    """One iteration: the worker (main thread) meets the order action (its own thread) at `point`."""

    def __init__(self, app, point: str, action: str, order_id: int, create_id: int, watcher):
        self.app, self.point, self.order_id, self.create_id = app, point, order_id, create_id
        self.act = ACTIONS[action][0]
        self.postgres = db.engine.dialect.name == "postgresql"
        self.watcher = watcher
        self.thread: threading.Thread | None = None
        self.action_pid = None
        self.action_read = threading.Event()  # before_claim: the action has read the create
        self.claimed = threading.Event()  # before_claim: the action may write now
        self.action_writing = threading.Event()  # the action's first write statement is starting
        self.error: BaseException | None = None

    # --- the order action, in its own thread and session ---

    def start_action(self) -> None:
        self.thread = threading.Thread(target=self._action)
        self.thread.start()

    def _action(self) -> None:
        try:
            with self.app.app_context(), Session(db.engine) as session:
                if self.postgres:
                    self.action_pid = session.scalar(text("SELECT pg_backend_pid()"))
                self.act(session, self.order_id, ADMIN)
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.action_read.set()

    def finish(self) -> None:
        if self.thread is not None:
            self.thread.join(DEADLINE)
            assert not self.thread.is_alive(), "the order action never finished"
        if self.error is not None:
            raise self.error

    def is_action_thread(self) -> bool:
        return self.thread is not None and threading.current_thread() is self.thread

    def action_waits(self) -> bool:
        """The action is blocked behind the worker's lock (or already done)."""
        if not self.thread.is_alive() or self.action_writing.is_set():
            return True
        if not self.postgres or self.action_pid is None:
            return False
        self.watcher.rollback()
        state = self.watcher.execute(
            text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": self.action_pid}
        ).scalar()
        return state == "Lock"

    def wait_until_action_waits(self) -> None:
        blocked = threading.Event()
        for _ in range(DEADLINE * 500):
            if self.action_waits():
                return
            blocked.wait(0.002)  # polling the condition above; its timing does not matter
        raise AssertionError("the order action never reached the worker's lock")

    # --- hooks on the worker's side (main thread) ---

    def mine(self, effect_id: int) -> bool:
        return effect_id == self.create_id and not self.is_action_thread()

    def before_claim(self, effect_id: int) -> None:
        if self.point == "before_claim" and self.mine(effect_id) and self.thread is None:
            self.start_action()
            assert self.action_read.wait(DEADLINE)

    def after_claim(self, effect_id: int) -> None:
        if self.mine(effect_id) and self.point == "before_claim" and self.postgres:
            self.claimed.set()  # the claim is committed: let the action write, and wait for it
            self.finish()
        if self.mine(effect_id) and self.point == "after_claim":
            self.start_action()
            self.finish()

    def after_answer(self, effect_id: int) -> None:
        if self.mine(effect_id) and self.point == "after_answer":
            self.start_action()
            self.finish()

    def in_outcome(self, effect_id: int) -> None:
        if self.mine(effect_id) and self.point == "in_outcome" and self.thread is None:
            self.start_action()
            self.wait_until_action_waits()

    def statement(self, statement: str, done: bool) -> None:
        if self.is_action_thread():
            if not done and statement.lstrip().upper().startswith(WRITES):
                self.action_writing.set()
            if done and self.point == "before_claim" and "FROM side_effects" in statement:
                self.action_read.set()
                assert self.claimed.wait(DEADLINE), "the worker never claimed the create"
        elif (
            not done
            and self.point == "before_claim"
            and not self.postgres
            and statement.lstrip().upper().startswith("UPDATE SIDE_EFFECTS")
            and self.thread is not None
        ):
            self.claimed.set()  # SQLite: the claim now waits for the action's write lock

    def expected_create(self) -> str:
        """Where the create ends: cancelled unclaimed, or claimed and so run to success."""
        if self.point == "before_claim" and not self.postgres:
            return SideEffectStatus.CANCELLED
        return SideEffectStatus.SUCCEEDED


@pytest.fixture
def hooks(monkeypatch):
    """Route the worker's steps to the current Race (monkeypatched names inside jobs.run)."""
    current: dict = {}
    local = threading.local()
    start, attempt, outcome = jobs.run.start_side_effect, jobs.run.attempt_call, jobs.run.record_outcome

    def start_side_effect(session, effect_id, attempt_number=None):
        current["race"].before_claim(effect_id)
        return start(session, effect_id, attempt_number)

    def attempt_call(session, effect):
        effect_id = effect.id
        current["race"].after_claim(effect_id)
        result = attempt(session, effect)
        current["race"].after_answer(effect_id)
        return result

    def record_outcome(session, effect_id, attempt_number, result):
        local.outcome_of = effect_id
        try:
            return outcome(session, effect_id, attempt_number, result)
        finally:
            local.outcome_of = None

    def before_commit(session):
        effect_id = getattr(local, "outcome_of", None)
        if effect_id is not None and "race" in current:
            current["race"].in_outcome(effect_id)

    def before_cursor(conn, cursor, statement, parameters, context, executemany):
        if "race" in current:
            current["race"].statement(statement, done=False)

    def after_cursor(conn, cursor, statement, parameters, context, executemany):
        if "race" in current:
            current["race"].statement(statement, done=True)

    monkeypatch.setattr(jobs.run, "start_side_effect", start_side_effect)
    monkeypatch.setattr(jobs.run, "attempt_call", attempt_call)
    monkeypatch.setattr(jobs.run, "record_outcome", record_outcome)
    event.listen(Session, "before_commit", before_commit)
    installed = []

    def install(engine):
        event.listen(engine, "before_cursor_execute", before_cursor)
        event.listen(engine, "after_cursor_execute", after_cursor)
        installed.append(engine)

    yield current, install
    event.remove(Session, "before_commit", before_commit)
    for engine in installed:
        event.remove(engine, "before_cursor_execute", before_cursor)
        event.remove(engine, "after_cursor_execute", after_cursor)


def inconsistencies(race: Race, service_id: int, expected: str, receiver: ReceiverState) -> list[str]:
    with Session(db.engine) as session:
        order = session.get(Order, race.order_id)
        service = session.get(Service, service_id)
        effects = session.scalars(select(SideEffect).where(SideEffect.order_id == race.order_id)).all()
        found = []
        if order.status != expected:
            found.append(f"order {order.status}, not {expected}")
        if service.status == ServiceStatus.ACTIVE:
            found.append(f"an Active service on a {order.status} order")
        elif service.status != expected:
            found.append(f"service {service.status}, not {expected}")
        live = (SideEffectStatus.QUEUED, SideEffectStatus.RUNNING)
        unfinished = [e.kind for e in effects if e.status in live]
        if unfinished:
            found.append(f"left unfinished: {unfinished}")
        if receiver.accounts[service_id] != 0:
            found.append(f"{receiver.accounts[service_id]} live account(s) at the receiver")
        [create] = [e for e in effects if e.kind == SideEffectKind.MODULE_CREATE]
        if create.status != race.expected_create():
            found.append(f"create {create.status}, not {race.expected_create()} ({create.last_error})")
        return found


@pytest.mark.parametrize("point", ["before_claim", "after_claim", "after_answer", "in_outcome"])
def test_cancel_and_fraud_racing_the_worker_leave_every_order_consistent(app_ctx, database_url, hooks, point):
    current, install = hooks
    connection = connect_redis()
    connection.flushdb()
    receiver = ReceiverState(WEBHOOK_SECRET)
    with (
        StubServer(ReceiverHandler, receiver) as server,
        app_context_for(database_url, TEST_REDIS_URL) as app,
    ):
        install(db.engine)
        product = webhook_product(server.url)
        db.session.commit()
        queue = Queue(app.config["RQ_QUEUE"], connection=connection)
        worker = SimpleWorker([queue], connection=connection)
        problems = []
        with db.engine.connect() as watcher:
            for iteration in range(ITERATIONS):
                action = ("cancel", "fraud")[iteration % 2]  # Cancel, then Set as Fraud, in turn
                expected = ACTIONS[action][1]
                order = factories.make_order(product=product)
                accept_order(db.session, order, None, ADMIN)
                [create] = db.session.scalars(select(SideEffect).where(SideEffect.order_id == order.id)).all()
                order_id, service_id, create_id = order.id, order.services[0].id, create.id
                db.session.commit()  # the dispatcher enqueues the create
                race = current["race"] = Race(app, point, action, order_id, create_id, watcher)
                worker.work(burst=True)  # the create (meeting the action), then what it recorded
                race.finish()
                if queue.count:  # what the action recorded after the worker's queue ran dry
                    worker.work(burst=True)
                del current["race"]
                found = inconsistencies(race, service_id, expected, receiver)
                problems += [f"#{iteration}: {problem}" for problem in found]
        assert problems == [], f"{len(problems)} inconsistencies in {ITERATIONS} iterations: {problems}"
        assert receiver.bad_signatures == 0
    connection.flushdb()
