"""Paid in full -> automation, through Add Payment and a real RQ worker (the side effects run on a
SimpleWorker against Redis; creates go to a local webhook receiver through the webhook module)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import Actor
from actions.add_payment import add_payment
from extensions import db
from jobs.daily import run_daily
from models import (
    AutoSetup,
    Domain,
    DomainStatus,
    EmailLog,
    Invoice,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
    Service,
    ServiceStatus,
    Setting,
    SideEffect,
    SideEffectKind,
    utcnow,
)
from models.billing_dates import add_months
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


@pytest.fixture
def worker_app(app_ctx, database_url):
    connection = connect_redis()
    connection.flushdb()
    state = ReceiverState(WEBHOOK_SECRET)
    with StubServer(ReceiverHandler, state) as stub, app_context_for(database_url, TEST_REDIS_URL) as app:
        yield app, connection, stub.url, state
    connection.flushdb()


def admin_actor():
    return Actor.admin(factories.make_admin())


def setting(key: str, value: str) -> None:
    db.session.merge(Setting(key=key, value=value))


def paid_order(url: str, services=1, client=None, with_domain=False):
    """A pending order of `services` on_payment services (webhook module), its invoice unpaid,
    each service's next due date a month after placement (as place_order leaves it)."""
    product = webhook_product(url)
    product.auto_setup = AutoSetup.ON_PAYMENT
    order = factories.make_order(services=(ServiceStatus.PENDING,) * services, product=product, client=client,
                                 domains=(DomainStatus.PENDING,) if with_domain else ())
    placed = utcnow().date() - timedelta(days=10)
    for service in order.services:
        service.next_due_date = service.next_invoice_date = add_months(placed, 1)
    return order


def pay_in_full(order) -> None:
    add_payment(db.session, order.invoice, admin_actor(), amount=order.invoice.balance,
                gateway="banktransfer", transaction_id=f"bank-{order.id}")
    db.session.commit()


def verbs(order_id):
    return [e.verb for e in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                                .order_by(OrderEvent.id))]


def test_paid_in_full_sets_up_on_payment_services_and_the_order_stays_pending(worker_app):
    app, connection, url, state = worker_app
    factories.make_tld(".com", auto_registrar="manual")
    order = paid_order(url, services=2, with_domain=True)
    accept_only = factories.make_order(client=order.client)  # an on_accept product's order: untouched
    db.session.commit()
    service_ids = [s.id for s in order.services]

    pay_in_full(order)
    run_burst(app, connection)

    assert [fresh(Service, i).status for i in service_ids] == [ServiceStatus.ACTIVE] * 2
    assert sorted(state.accounts) == sorted(service_ids)  # each account created once, on the receiver
    assert fresh(Domain, order.domains[0].id).status == DomainStatus.ACTIVE
    assert fresh(Order, order.id).status == OrderStatus.PENDING  # the seed's rule: left for review
    assert fresh(Invoice, order.invoice_id).status == InvoiceStatus.PAID
    today = utcnow().date()
    assert [fresh(Service, i).next_due_date for i in service_ids] == [add_months(today, 1)] * 2
    assert "paid_setup" in verbs(order.id) and "order_accepted" not in verbs(order.id)
    receipt = db.session.scalars(
        select(EmailLog).where(EmailLog.template == "Invoice Payment Confirmation")).one()
    assert receipt.to == order.client.email and receipt.order_id == order.id
    assert f"Invoice {order.invoice_id}" in receipt.body and "Remaining Balance: " in receipt.body
    assert fresh(Service, accept_only.services[0].id).status == ServiceStatus.PENDING


def test_with_auto_accept_on_the_order_becomes_active_once_setup_succeeded(worker_app):
    app, connection, url, state = worker_app
    setting("auto_accept_paid_orders", "1")
    order = paid_order(url, services=2)
    db.session.commit()

    pay_in_full(order)
    assert fresh(Order, order.id).status == OrderStatus.PENDING  # the creates have not run yet
    run_burst(app, connection)

    assert fresh(Order, order.id).status == OrderStatus.ACTIVE
    accepted = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                           OrderEvent.verb == "order_accepted")).one()
    assert (accepted.actor_type, accepted.actor_name) == ("system", "Auto-accept")


def test_auto_accept_waits_for_every_item_and_a_failed_create_leaves_the_order_pending(worker_app):
    app, connection, url, state = worker_app
    setting("auto_accept_paid_orders", "1")
    order = paid_order(url, services=1)
    db.session.commit()
    state.plan(*["refuse"] * 5)  # the receiver refuses the create on every attempt

    pay_in_full(order)
    run_burst(app, connection)

    assert fresh(Service, order.services[0].id).status == ServiceStatus.PENDING
    assert fresh(Order, order.id).status == OrderStatus.PENDING


def test_only_existing_clients_new_clients_are_left_for_review(worker_app):
    app, connection, url, state = worker_app
    setting("auto_provision_existing_only", "1")
    new = paid_order(url)
    regular = factories.make_client()
    factories.make_order(client=regular, status=OrderStatus.ACTIVE, invoice_status=InvoiceStatus.PAID,
                         paid=True)
    existing = paid_order(url, client=regular)
    db.session.commit()

    pay_in_full(new)
    pay_in_full(existing)
    run_burst(app, connection)

    assert fresh(Service, new.services[0].id).status == ServiceStatus.PENDING
    creates = db.session.scalars(select(SideEffect.target_id).where(
        SideEffect.kind == SideEffectKind.MODULE_CREATE)).all()
    assert creates == [existing.services[0].id]
    assert fresh(Service, existing.services[0].id).status == ServiceStatus.ACTIVE
    review = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == new.id,
                                                         OrderEvent.verb == "paid_setup")).one()
    assert "existing clients" in review.details["left_for_review"]
    assert fresh(Order, new.id).status == fresh(Order, existing.id).status == OrderStatus.PENDING


def test_a_renewal_invoice_paid_moves_the_next_due_date_on(worker_app):
    app, connection, url, state = worker_app
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), status=OrderStatus.ACTIVE,
                                 invoice_status=InvoiceStatus.PAID, paid=True)
    service = order.services[0]
    due = utcnow().date() + timedelta(days=3)
    service.next_due_date = service.next_invoice_date = due
    db.session.commit()
    run_daily(db.session)
    renewal = db.session.scalars(select(Invoice).where(Invoice.id != order.invoice_id)).one()
    assert fresh(Service, service.id).next_due_date == due

    add_payment(db.session, renewal, admin_actor(), amount=renewal.balance, gateway="banktransfer")
    db.session.commit()
    run_burst(app, connection)

    assert fresh(Service, service.id).next_due_date == add_months(due, 1)
    assert fresh(Order, order.id).status == OrderStatus.ACTIVE
    sent = db.session.scalars(select(EmailLog.template).where(EmailLog.client_id == order.client_id)).all()
    assert sent == ["Invoice Payment Confirmation"]


def test_the_daily_run_auto_accepts_paid_set_up_orders_when_the_setting_is_on(session):
    ready = factories.make_order(services=(ServiceStatus.ACTIVE,), invoice_status=InvoiceStatus.PAID,
                                 paid=True)
    unpaid = factories.make_order(services=(ServiceStatus.ACTIVE,))
    not_set_up = factories.make_order(services=(ServiceStatus.ACTIVE, ServiceStatus.PENDING),
                                      invoice_status=InvoiceStatus.PAID, paid=True)
    session.commit()
    assert run_daily(session).auto_accepted == []  # off by default
    setting("auto_accept_paid_orders", "1")
    session.commit()

    report = run_daily(session)

    assert report.auto_accepted == [ready.id]
    session.expire_all()
    assert [session.get(Order, o.id).status for o in (ready, unpaid, not_set_up)] == [
        OrderStatus.ACTIVE, OrderStatus.PENDING, OrderStatus.PENDING]
    assert Decimal(report.renewal_total) == 0


def test_paid_in_full_sets_up_on_payment_addons_with_their_service(worker_app):
    from models import ServiceAddon

    app, connection, url, state = worker_app
    order = paid_order(url)
    addon = factories.make_addon([order.services[0].product], module="webhook",
                                 auto_setup=AutoSetup.ON_PAYMENT, name="Nightly Backups")
    on_accept = factories.make_addon([order.services[0].product], module="webhook",
                                     auto_setup=AutoSetup.ON_ACCEPT)
    paid_item = factories.add_ordered_addon(order, order.services[0], addon)
    later_item = factories.add_ordered_addon(order, order.services[0], on_accept)
    order.invoice.total = sum((i.amount for i in order.invoice.items), Decimal("0.00"))
    db.session.commit()
    paid_id, later_id = paid_item.id, later_item.id

    pay_in_full(order)
    run_burst(app, connection)

    assert fresh(ServiceAddon, paid_id).status == ServiceStatus.ACTIVE
    assert fresh(ServiceAddon, later_id).status == ServiceStatus.PENDING  # on_accept waits for Accept
    creates = [b for b in state.bodies if b["action"] == "addon_create"]
    assert [b["addon"]["id"] for b in creates] == [paid_id]
    setup = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                        OrderEvent.verb == "paid_setup")).one()
    assert [a["id"] for a in setup.details["addons"]] == [paid_id]
    assert fresh(Order, order.id).status == OrderStatus.PENDING
