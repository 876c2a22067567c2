"""Event hooks through a real RQ worker and a real HTTP receiver on 127.0.0.1 (docs/hooks.md): each
event reaches the receiver once, signed; a tampered body fails verification; a receiver that is
down gets the delivery later; the delivery log and the endpoint's failure badge follow."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from actions.actor import SYSTEM
from actions.bulk import bulk_change_status
from actions.hook_events import EVENT_TYPES, create_endpoint, send_test_event
from actions.invoice_paid import mark_invoice_paid
from actions.refund_payment import refund_payment
from actions.side_effect_outcomes import fail_side_effect, start_side_effect
from actions.side_effects import request_terminate
from actions.transitions import run_order_action
from extensions import db
from models import HookDelivery, HookEndpoint, SideEffect, SideEffectKind, SideEffectStatus, utcnow
from modules.event_hooks import body_bytes, signature_header, verify
from tests import factories
from tests.jobs_support import TEST_REDIS_URL, app_context_for, connect_redis, fresh, record_create, run_burst
from tests.modules_support.hook_receiver import HookReceiverHandler, ReceiverState
from tests.modules_support.http_stub import StubServer
from tests.sql_support import recorded_statements
from tests.test_jobs_faults import closed_port, sweep_now

SERVICE_PASSWORD = "hook-test-Pa55word-1187"


def deliveries(status=None) -> list[SideEffect]:
    query = select(SideEffect).where(SideEffect.kind == SideEffectKind.HOOK_DELIVERY).order_by(SideEffect.id)
    if status is not None:
        query = query.where(SideEffect.status == status)
    return list(db.session.scalars(query))


def endpoint_for(url: str, events=tuple(EVENT_TYPES)) -> tuple[HookEndpoint, str]:
    endpoint, secret = create_endpoint(db.session, url, list(events), "test receiver")
    db.session.commit()
    return endpoint, secret


def the_events_of_an_order_life(order_to_delete, order, paid_order):
    """Accept, a module create (item activated), set pending, set as fraud, cancel, a terminate,
    delete, pay an invoice and refund it by hand: each committed, as the faces do."""
    run_order_action(db.session, "accept", order.id, SYSTEM, options=None)
    db.session.commit()
    record_create(paid_order, send_welcome_email=False)  # its service is set up (Pending -> Active)
    db.session.commit()
    run_order_action(db.session, "set_pending", order.id, SYSTEM)
    db.session.commit()
    run_order_action(db.session, "set_fraud", order.id, SYSTEM)
    db.session.commit()
    run_order_action(db.session, "cancel", order_to_delete.id, SYSTEM)
    db.session.commit()
    run_order_action(db.session, "delete", order_to_delete.id, SYSTEM)
    db.session.commit()
    mark_invoice_paid(db.session, paid_order.invoice, SYSTEM, utcnow())
    db.session.commit()
    payment = paid_order.invoice.transactions[0]
    refund_payment(db.session, paid_order.invoice, SYSTEM, payment_id=payment.id, amount=Decimal("1.00"),
                   manual=True)
    db.session.commit()


def test_a_local_receiver_gets_each_event_once_signed_and_without_secrets(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState()
    with StubServer(HookReceiverHandler, state) as receiver, \
            app_context_for(database_url, TEST_REDIS_URL) as app:
        endpoint, state.secret = endpoint_for(receiver.url + "/hooks")
        quiet, state.secrets["/only-paid"] = endpoint_for(receiver.url + "/only-paid",
                                                          events=["invoice.paid"])
        order = factories.make_order()
        order.services[0].password = SERVICE_PASSWORD
        order_to_delete = factories.make_order()
        paid_order = factories.make_order(paid=True)
        db.session.commit()
        the_events_of_an_order_life(order_to_delete, order, paid_order)
        # The first accept's create ran meanwhile only if a worker did: none has yet.
        assert {e.status for e in deliveries()} == {SideEffectStatus.QUEUED}
        run_burst(app, connection)  # the create (item activated) records its own delivery ...
        run_burst(app, connection)  # ... which the next drain sends
        service = order.services[0]
        request_terminate(db.session, db.session.merge(service), "Cancelled")
        db.session.commit()
        run_burst(app, connection)
        run_burst(app, connection)

        assert {e.status for e in deliveries()} == {SideEffectStatus.SUCCEEDED}
        ids = [(r.path, r.event_id) for r in state.received]
        assert len(ids) == len(set(ids))  # each event once at each endpoint
        assert all(r.verified for r in state.received)  # signed with the endpoint's secret
        by_type = {}
        for r in state.received:
            by_type.setdefault(r.event_type, []).append(r.envelope)
            assert r.envelope["id"] == r.event_id and r.envelope["type"] == r.event_type
        # The "only invoice.paid" endpoint got that one, with the same event id as the other.
        paid = [r for r in state.received if r.event_type == "invoice.paid"]
        assert len(paid) == 2 and paid[0].event_id == paid[1].event_id
        expected = {"order.accepted": 1, "item.activated": 1, "order.pending": 1, "order.fraud": 1,
                    "order.cancelled": 1, "order.deleted": 1, "invoice.paid": 2, "invoice.refunded": 1,
                    "item.terminated": 1}
        assert {name: len(rows) for name, rows in by_type.items()} == expected
        assert by_type["order.deleted"][0]["data"]["order"]["id"] == order_to_delete.id
        assert by_type["invoice.paid"][0]["data"]["invoice"]["status"] == "Paid"
        activated = by_type["item.activated"][0]["data"]["item"]
        assert activated["type"] == "service" and activated["id"] == paid_order.services[0].id
        assert activated["to"] == "Active"
        assert by_type["item.activated"][0]["data"]["order"]["id"] == paid_order.id
        assert by_type["item.terminated"][0]["data"]["item"]["to"] == "Cancelled"
        everything = b"".join(r.body for r in state.received)
        assert SERVICE_PASSWORD.encode() not in everything and b"password" not in everything
        assert state.secret.encode() not in everything

        log = db.session.scalars(select(HookDelivery).order_by(HookDelivery.id)).all()
        assert len(log) == len(state.received)
        assert all(row.succeeded and row.status_code == 200 and row.attempt == 1 for row in log)
        assert fresh(HookEndpoint, endpoint.id).consecutive_failures == 0
        assert fresh(HookEndpoint, quiet.id).last_success_at is not None
        stored = json.dumps([row.payload for row in deliveries()] +
                            [[row.error for row in log]], default=str)
        assert state.secret not in stored and SERVICE_PASSWORD not in stored


def test_a_tampered_body_or_stale_timestamp_fails_verification(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState()
    with StubServer(HookReceiverHandler, state) as receiver, \
            app_context_for(database_url, TEST_REDIS_URL) as app:
        endpoint, state.secret = endpoint_for(receiver.url)
        send_test_event(db.session, endpoint)
        db.session.commit()
        run_burst(app, connection)
    [got] = state.received
    assert got.verified and got.event_type == "test.ping"
    assert verify(got.body, got.signature, state.secret)
    tampered = got.body.replace(b"A test event", b"A fake event")
    assert tampered != got.body and not verify(tampered, got.signature, state.secret)
    assert not verify(got.body, got.signature, "whsec_someone-else")
    timestamp = int(got.signature.split(",")[0].split("=")[1])
    later = got.signature.replace(f"t={timestamp}", f"t={timestamp + 1}")
    assert not verify(got.body, later, state.secret)  # the timestamp is signed too
    assert not verify(got.body, got.signature, state.secret, now=timestamp + 301)  # a replay, too late
    old = int(time.time()) - 3600
    assert not verify(got.body, signature_header(state.secret, old, got.body), state.secret)
    assert verify(got.body, signature_header(state.secret, old, got.body), state.secret, now=old + 1)
    assert body_bytes(got.envelope) == got.body  # the body is the canonical JSON of its envelope


def when_due(app, connection, effect):
    """The retry's time has come: as if the back-off had passed, then the sweep that enqueues it."""
    db.session.execute(update(SideEffect).where(SideEffect.id == effect.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert sweep_now(app, connection).enqueued == [effect.id]


def test_a_down_receiver_gets_the_delivery_later_and_the_badge_follows(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(down=1)
    # Retries an hour apart (then two): the test moves a retry's time to now instead of waiting.
    with StubServer(HookReceiverHandler, state) as receiver, \
            app_context_for(database_url, TEST_REDIS_URL, SIDE_EFFECT_RETRY_BASE_SECONDS=3600) as app:
        endpoint, state.secret = endpoint_for(f"http://127.0.0.1:{closed_port()}/hooks",
                                                  events=["order.accepted"])
        order = factories.make_order()
        db.session.commit()
        run_order_action(db.session, "accept", order.id, SYSTEM, options=None)
        db.session.commit()
        run_burst(app, connection)  # attempt 1: connection refused
        [effect] = deliveries()
        assert (effect.status, effect.attempts) == (SideEffectStatus.QUEUED, 1)
        assert "Could not connect" in effect.last_error and state.received == []
        assert effect.next_attempt_at > utcnow() + timedelta(minutes=59)
        run_burst(app, connection)
        assert fresh(SideEffect, effect.id).attempts == 1  # not due yet: nothing ran
        badge = fresh(HookEndpoint, endpoint.id)
        assert badge.consecutive_failures == 1 and "Could not connect" in badge.last_error

        endpoint.url = receiver.url + "/hooks"  # the receiver is up, but answers 503 once
        db.session.commit()
        when_due(app, connection, effect)
        run_burst(app, connection)  # attempt 2: HTTP 503
        assert fresh(HookEndpoint, endpoint.id).consecutive_failures == 2
        assert fresh(SideEffect, effect.id).last_error.startswith("HTTP 503")
        when_due(app, connection, effect)
        run_burst(app, connection)  # attempt 3: delivered
        effect = fresh(SideEffect, effect.id)
        assert (effect.status, effect.attempts) == (SideEffectStatus.SUCCEEDED, 3)
        assert [r.event_type for r in state.received] == ["order.accepted"] and state.received[0].verified
        log = db.session.scalars(select(HookDelivery).order_by(HookDelivery.id)).all()
        assert [(row.attempt, row.succeeded, row.status_code) for row in log] == [
            (1, False, None), (2, False, 503), (3, True, 200)]
        assert len({row.event_id for row in log}) == 1 == len(state.received)
        assert log[0].error.startswith("Could not connect")
        badge = fresh(HookEndpoint, endpoint.id)
        assert badge.consecutive_failures == 0 and badge.last_success_at is not None


def test_an_inactive_or_unsubscribed_endpoint_gets_nothing(app_ctx, database_url):
    endpoint, _ = create_endpoint(db.session, "http://127.0.0.1:9/x", ["order.cancelled"])
    other, _ = create_endpoint(db.session, "http://127.0.0.1:9/y", ["order.accepted"], active=False)
    order = factories.make_order()
    db.session.commit()
    run_order_action(db.session, "accept", order.id, SYSTEM, options=None)
    db.session.rollback()  # a change rolled back takes its deliveries with it
    assert db.session.scalar(select(func.count()).select_from(SideEffect)) == 0
    run_order_action(db.session, "accept", order.id, SYSTEM, options=None)
    db.session.commit()
    assert deliveries() == []
    with pytest.raises(Exception, match="inactive"):
        send_test_event(db.session, other)


def test_a_bulk_status_change_announces_each_order_it_changed(app_ctx, session):
    create_endpoint(session, "http://127.0.0.1:9/x", ["order.cancelled"])
    orders = [factories.make_order() for _ in range(3)]
    already = factories.make_order(status="Cancelled")
    session.commit()
    result = bulk_change_status(session, [o.id for o in orders] + [already.id], "cancel", SYSTEM)
    assert result.changed == 3
    rows = deliveries()
    assert [row.payload["type"] for row in rows] == ["order.cancelled"] * 3
    assert [row.payload["data"]["order"]["id"] for row in rows] == [o.id for o in orders]
    assert {row.payload["data"]["order"]["status"] for row in rows} == {"Cancelled"}
    assert len({row.payload["id"] for row in rows}) == 3
    session.rollback()  # the change and its deliveries go together
    assert deliveries() == []


def test_side_effect_failed_is_announced_on_the_last_try_only(app_ctx, session):
    create_endpoint(session, "http://127.0.0.1:9/x", ["side_effect.failed"])
    order = factories.make_order()
    session.commit()
    effect = record_create(order)
    session.flush()  # claimed below before any commit could run it in-process (no REDIS_URL)
    for retry_at in (utcnow() + timedelta(minutes=1), None):  # a try that will be retried, then the last
        claimed = start_side_effect(session, effect.id)
        fail_side_effect(session, claimed, "Could not connect", retry_at=retry_at)
        session.commit()
    [row] = deliveries()
    assert row.payload["type"] == "side_effect.failed"
    failed = row.payload["data"]["side_effect"]
    assert (failed["side_effect_id"], failed["kind"], failed["attempts"]) == (effect.id, "module_create", 2)
    assert failed["error"] == "Could not connect" and row.payload["data"]["order"]["id"] == order.id


def test_announcing_a_bulk_change_sends_the_same_statements_for_4_orders_as_for_40(app_ctx, session):
    create_endpoint(session, "http://127.0.0.1:9/x", ["order.cancelled"])
    create_endpoint(session, "http://127.0.0.1:9/y", ["order.cancelled"])
    few = [factories.make_order(domains=["Pending"]).id for _ in range(4)]
    many = [factories.make_order(domains=["Pending"]).id for _ in range(40)]
    session.commit()
    counts = []
    for ids in (few, many):
        with recorded_statements(session.get_bind()) as statements:
            assert bulk_change_status(session, ids, "cancel", SYSTEM).changed == len(ids)
        counts.append(len(statements))
    # Set-based: the orders and each kind of item in one SELECT per batch, the deliveries in
    # batched INSERTs - not a SELECT (and lazy loads) per order.
    assert counts[0] == counts[1]
    rows = deliveries()
    assert len(rows) == 2 * 44 and {row.payload["data"]["order"]["status"] for row in rows} == {"Cancelled"}
    by_order = {row.payload["data"]["order"]["id"]: row.payload["data"]["order"] for row in rows}
    assert [len(by_order[i]["domains"]) for i in many] == [1] * 40
