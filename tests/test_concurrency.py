"""Two admins acting on one order at the same moment: exactly one wins, the other is told to reload.

PostgreSQL only (row locks): each thread has its own connection and session on a test app of its own.
"""

import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from actions.accept import accept_order
from actions.actor import Actor
from actions.cancel import cancel_order
from actions.fraud import set_order_fraud
from actions.reference_data import ensure_reference_data
from actions.transitions import STALE_MESSAGE, TransitionError
from extensions import db
from models import AutoSetup, Order, OrderEvent, SideEffect
from tests.conftest import make_test_app
from tests.factories import make_order, make_product

ALICE = Actor("admin", 1, "Alice")
BOB = Actor("admin", 2, "Bob")
TIMEOUT = 10


@pytest.fixture
def pg_app(postgres_url):
    app = make_test_app(postgres_url)
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


def new_order(**kw) -> int:
    order = make_order(**kw)
    db.session.commit()
    return order.id


def act(app, order_id, action, actor, barrier, outcomes):
    """Load the order (as a page would), wait for the other admin, then act and commit."""
    with app.app_context(), Session(db.engine) as session:
        order = session.get(Order, order_id)
        order.services  # noqa: B018 - the page showed the items too
        barrier.wait(TIMEOUT)
        try:
            action(session, order, actor)
            session.commit()
            outcomes[actor.name] = "applied"
        except TransitionError as exc:
            session.rollback()
            outcomes[actor.name] = exc


def race(app, order_id, first, second):
    barrier = threading.Barrier(2)
    outcomes: dict = {}
    threads = [
        threading.Thread(target=act, args=(app, order_id, action, actor, barrier, outcomes))
        for action, actor in ((first, ALICE), (second, BOB))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    winners = [name for name, outcome in outcomes.items() if outcome == "applied"]
    losers = [outcome for outcome in outcomes.values() if outcome != "applied"]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].code == "stale" and losers[0].message == STALE_MESSAGE
    return winners[0]


def test_cancel_and_fraud_at_once_one_wins(pg_app):
    order_id = new_order(status="Pending", services=["Pending"], domains=["Pending"], invoice_status="Unpaid")
    version = db.session.get(Order, order_id).version
    winner = race(
        pg_app, order_id, lambda s, o, a: cancel_order(s, o, a), lambda s, o, a: set_order_fraud(s, o, a)
    )

    db.session.expire_all()
    order = db.session.get(Order, order_id)
    expected = "Cancelled" if winner == "Alice" else "Fraud"
    assert order.status == expected and order.version == version + 1
    assert [s.status for s in order.services] == [expected] and [d.status for d in order.domains] == [
        expected
    ]
    assert order.invoice.status == "Cancelled"
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)).all()
    assert [(e.verb, e.actor_name) for e in events] == [
        ("order_cancelled" if winner == "Alice" else "order_set_fraud", winner)
    ]


def test_double_accept_records_one_create(pg_app):
    order_id = new_order(services=["Pending"], product=make_product(auto_setup=AutoSetup.NEVER))
    race(
        pg_app,
        order_id,
        lambda s, o, a: accept_order(s, o, None, a),
        lambda s, o, a: accept_order(s, o, None, a),
    )
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "Active"
    verbs = db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order_id)).all()
    assert verbs.count("order_accepted") == 1
    emails = select(func.count()).select_from(SideEffect).where(SideEffect.order_id == order_id)
    assert db.session.scalar(emails) == 1  # one welcome email, not two


def waiting_on_a_lock(session) -> bool:
    return bool(
        session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    )


def test_second_action_waits_for_the_lock_then_is_refused(pg_app):
    """Interleaving forced step by step: Bob's action is seen waiting on Alice's row lock."""
    order_id = new_order(status="Active", services=["Pending"])
    alice_done, bob_started = threading.Event(), threading.Event()
    outcome: dict = {}

    def bob():
        with pg_app.app_context(), Session(db.engine) as session:
            order = session.get(Order, order_id)
            bob_started.set()
            alice_done.wait(TIMEOUT)
            try:
                set_order_fraud(session, order, BOB)
                session.commit()
                outcome["bob"] = "applied"
            except TransitionError as exc:
                session.rollback()
                outcome["bob"] = exc

    with Session(db.engine) as alice, Session(db.engine) as watcher:
        order = alice.get(Order, order_id)
        thread = threading.Thread(target=bob)
        thread.start()
        assert bob_started.wait(TIMEOUT)
        cancel_order(alice, order, ALICE)  # holds the row lock until commit
        alice_done.set()
        deadline = time.monotonic() + TIMEOUT
        while not waiting_on_a_lock(watcher):
            assert time.monotonic() < deadline, "Bob never waited on the row lock"
            watcher.rollback()
        alice.commit()
        thread.join(TIMEOUT)
    assert outcome["bob"].code == "stale"
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.status == "Cancelled" and order.services[0].status == "Cancelled"
    assert db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order_id)).all() == [
        "order_cancelled"
    ]
