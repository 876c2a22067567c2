"""Paying an upgrade invoice through a real RQ worker (SimpleWorker on Redis, TEST_REDIS_URL): the
change_package goes to the server module (the webhook module, to a local receiver that counts
calls per idempotency key) and the service changes once - even when the job runs again, when the
call fails and is retried, and when an admin retries a failed change."""

from datetime import timedelta
from decimal import Decimal

import pytest
from rq import Queue
from sqlalchemy import select

from actions.actor import Actor
from actions.events import Verb
from actions.mark_paid import mark_invoice_paid_with_payment
from actions.side_effects import retry_side_effect
from actions.upgrade_service import order_upgrade
from extensions import db
from jobs.queueing import JOB_FUNCTION
from models import (
    BillingCycle,
    ConfigOptionType,
    OrderEvent,
    OrderStatus,
    Service,
    ServiceConfigOption,
    ServiceStatus,
    ServiceUpgrade,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    UpgradeStatus,
    utcnow,
)
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    WEBHOOK_SECRET,
    app_context_for,
    connect_redis,
    fresh,
    run_burst,
    webhook_product,
)
from tests.modules_support.http_stub import StubServer
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState

D = Decimal
M = BillingCycle.MONTHLY
ADMIN = Actor.system("Test admin")


@pytest.fixture
def worker_app(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    with StubServer(ReceiverHandler, state) as stub, app_context_for(database_url, TEST_REDIS_URL) as app:
        yield app, connection, stub.url, state
    connection.flushdb()


def upgrade_order(url):
    """A live webhook service on Small (10.00 a month, 1 GB) ordered up to Large with 4 GB, its
    invoice unpaid: 15 days of a 30-day period left."""
    small = webhook_product(url)
    small.name, small.prices[0].price = "Small", D("10.00")
    large = factories.make_product(name="Large", module="webhook", default_server_id=small.default_server_id,
                                   prices={M: ("20.00", "0.00")})
    group = factories.make_option_group([small, large], [
        ("RAM", ConfigOptionType.DROPDOWN,
         {"1 GB": {M: ("0.00", "0.00")}, "4 GB": {M: ("5.00", "0.00")}}, 0, 0)])
    ram = group.options[0]
    order = factories.make_order(status=OrderStatus.ACTIVE, services=(ServiceStatus.ACTIVE,), product=small)
    service = order.services[0]
    today = utcnow().date()
    service.next_due_date = service.next_invoice_date = today + timedelta(days=15)
    db.session.add(ServiceConfigOption(service=service, option_id=ram.id, choice_id=ram.choices[0].id))
    db.session.commit()
    upgrade = order_upgrade(db.session, service.id, large.id, M, {ram.id: ram.choices[1].id}, ADMIN)
    db.session.commit()
    return upgrade, service, large, ram


def pay(order):
    mark_invoice_paid_with_payment(db.session, order.invoice, ADMIN, gateway="banktransfer",
                                   transaction_id=f"bank-{order.id}")
    db.session.commit()


def the_change(order_id) -> SideEffect:
    return fresh(SideEffect, db.session.scalar(select(SideEffect.id).where(
        SideEffect.order_id == order_id, SideEffect.kind == SideEffectKind.MODULE_CHANGE_PACKAGE)))


def assert_changed_once(service, large, ram, order_id):
    after = fresh(Service, service.id)
    assert (after.product_id, after.recurring_amount, after.next_due_date) == (
        large.id, D("25.00"), service.next_due_date)
    rows = db.session.scalars(select(ServiceConfigOption).where(ServiceConfigOption.service_id == service.id))
    assert [(r.option_id, r.choice_id) for r in rows] == [(ram.id, ram.choices[1].id)]
    upgraded = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                           OrderEvent.verb == Verb.SERVICE_UPGRADED)).all()
    assert len(upgraded) == 1
    upgrade = db.session.scalar(select(ServiceUpgrade).where(ServiceUpgrade.order_id == order_id))
    assert upgrade.status == UpgradeStatus.COMPLETED


def test_paying_changes_the_package_once_even_when_the_job_runs_again(worker_app):
    app, connection, url, state = worker_app
    order, service, large, ram = upgrade_order(url)
    # The invoice: (25.00 - 10.00) x 15/30 = 7.50.
    assert order.invoice.total == D("7.50") and fresh(Service, service.id).product_id != large.id
    pay(order)
    run_burst(app, connection)
    effect = the_change(order.id)
    assert effect.status == SideEffectStatus.SUCCEEDED and effect.attempts == 1
    assert state.requests_per_key == {effect.idempotency_key: 1}
    [body] = state.bodies
    assert body["action"] == "change_package"
    assert (body["service"]["id"], body["service"]["product_name"], body["service"]["configoptions"]) == (
        service.id, "Large", {"RAM": "4 GB"})
    assert_changed_once(service, large, ram, order.id)
    # The same job delivered again (RQ runs a job at least once): it finds the attempt done.
    Queue(app.config["RQ_QUEUE"], connection=connection).enqueue(JOB_FUNCTION, effect.id, 0)
    run_burst(app, connection)
    assert state.requests_per_key == {effect.idempotency_key: 1}
    assert_changed_once(service, large, ram, order.id)


def test_a_failed_call_is_retried_and_still_changes_the_service_once(worker_app):
    app, connection, url, state = worker_app
    order, service, large, ram = upgrade_order(url)
    state.plan("500")  # the first call fails as retryable; the retry is due at once (base 0)
    pay(order)
    run_burst(app, connection)  # both attempts: the retry is due at once
    effect = the_change(order.id)
    assert effect.status == SideEffectStatus.SUCCEEDED and effect.attempts == 2
    assert state.requests_per_key == {effect.idempotency_key: 2}  # one key: the far side dedupes
    assert list(state.performed) == [effect.idempotency_key]  # performed once
    assert_changed_once(service, large, ram, order.id)


def test_a_refused_change_leaves_the_service_then_an_admin_retry_applies_it_once(worker_app):
    app, connection, url, state = worker_app
    order, service, large, ram = upgrade_order(url)
    state.plan("refuse")  # a final refusal: failed, visible, retryable by an admin
    pay(order)
    run_burst(app, connection)
    effect = the_change(order.id)
    assert effect.status == SideEffectStatus.FAILED and "Plan not available" in effect.last_error
    before = fresh(Service, service.id)
    assert (before.product_id, before.recurring_amount) == (service.product_id, D("10.00"))
    retry_side_effect(db.session, db.session.get(SideEffect, effect.id), ADMIN)
    db.session.commit()
    run_burst(app, connection)
    assert the_change(order.id).status == SideEffectStatus.SUCCEEDED
    assert list(state.performed) == [effect.idempotency_key]
    assert_changed_once(service, large, ram, order.id)
