"""Ordered addons through the outbox: accept runs the addon's module create on a real RQ worker,
the signed webhook receives the addon in its parameters, cancel runs its terminate."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.accept import AcceptOptions, accept_order
from actions.actor import Actor
from actions.addon_transitions import AddonAcceptOptions
from actions.cancel import cancel_order
from actions.cart import Cart, CartProduct
from actions.place import place_order
from extensions import db
from models import (
    AutoSetup,
    BillingCycle,
    EmailLog,
    ServiceAddon,
    ServiceStatus,
    SideEffect,
    SideEffectStatus,
)
from modules.base import AddonInfo
from modules.registry import get_server_module
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
from tests.test_modules_webhook import SECRET, service_params

ADMIN = Actor("admin", 1, "Addon Test")


@pytest.fixture
def receiver():
    state = ReceiverState(WEBHOOK_SECRET)
    with StubServer(ReceiverHandler, state) as server:
        yield server, state


def place_with_addon(product, addon):
    client = factories.make_client()
    cart = Cart(client_id=client.id, payment_method="banktransfer",
                products=[CartProduct(product.id, BillingCycle.MONTHLY, addon_ids=[addon.id])])
    return place_order(db.session, cart, ADMIN)


def test_accept_runs_the_addon_create_on_a_worker_and_the_module_gets_the_addon(app_ctx, database_url,
                                                                                 receiver):
    server, state = receiver
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        product = webhook_product(server.url)
        addon = factories.make_addon([product], {BillingCycle.MONTHLY: ("4.00", "2.00")}, module="webhook",
                                     name="Nightly Backups")
        order = place_with_addon(product, addon)
        item = order.addons[0]
        item_id, service_id = item.id, item.service_id
        db.session.commit()
        accept_order(db.session, order, AcceptOptions(), ADMIN)
        db.session.commit()
        run_burst(app, connection)

        assert fresh(ServiceAddon, item_id).status == ServiceStatus.ACTIVE
        create = fresh(SideEffect, db.session.scalar(
            select(SideEffect.id).where(SideEffect.kind == "addon_create", SideEffect.target_id == item_id)))
        assert create.status == SideEffectStatus.SUCCEEDED and create.target_type == "addon"
        body = next(b for b in state.bodies if b["action"] == "addon_create")
        assert body["addon"] == {"id": item_id, "addon_id": addon.id, "name": "Nightly Backups",
                                 "billing_cycle": "Monthly", "recurring_amount": "4.00"}
        assert body["service"]["id"] == service_id and body["service"]["server"]["hostname"] == "web1.example"
        assert body["idempotency_key"] == create.idempotency_key

        db.session.expire_all()
        cancel_order(db.session, order.id, ADMIN)
        db.session.commit()
        run_burst(app, connection)
        assert fresh(ServiceAddon, item_id).status == ServiceStatus.CANCELLED
        terminate = next(b for b in state.bodies if b["action"] == "addon_terminate")
        assert terminate["addon"]["id"] == item_id
        assert state.bad_signatures == 0
    connection.flushdb()


def test_an_addon_without_a_module_is_active_on_accept_with_its_welcome_email(session):
    product = factories.make_product()
    addon = factories.make_addon([product], welcome_email="Addon Welcome")
    order = place_with_addon(product, addon)
    session.commit()
    accept_order(session, order, AcceptOptions(), ADMIN)
    session.commit()
    item = session.get(ServiceAddon, order.addons[0].id)
    assert item.status == ServiceStatus.ACTIVE and item.registration_date is not None
    assert session.scalar(select(SideEffect).where(SideEffect.target_type == "addon")) is None
    mail = session.scalar(select(EmailLog).where(EmailLog.template == "Addon Welcome"))
    assert mail is not None and mail.to == order.client.email


def test_accept_options_can_skip_the_addon_create(session):
    product = factories.make_product()
    addon = factories.make_addon([product], module="manual", auto_setup=AutoSetup.ON_ACCEPT)
    order = place_with_addon(product, addon)
    item_id = order.addons[0].id
    session.commit()
    options = AcceptOptions(addons={item_id: AddonAcceptOptions(run_module_create=False,
                                                                send_welcome_email=False)})
    accept_order(session, order, options, ADMIN)
    session.commit()
    assert session.get(ServiceAddon, item_id).status == ServiceStatus.ACTIVE
    assert session.scalar(select(SideEffect).where(SideEffect.target_type == "addon")) is None


def test_an_on_order_addon_is_created_right_after_placement(session):
    product = factories.make_product(auto_setup=AutoSetup.NEVER)
    addon = factories.make_addon([product], module="manual", auto_setup=AutoSetup.ON_ORDER)
    order = place_with_addon(product, addon)
    item_id = order.addons[0].id
    session.commit()  # the embedded dispatcher runs the create now
    assert session.get(ServiceAddon, item_id).status == ServiceStatus.ACTIVE
    effect = session.scalar(select(SideEffect).where(SideEffect.kind == "addon_create"))
    assert effect.status == SideEffectStatus.SUCCEEDED


def test_webhook_addon_commands_send_their_action_and_the_addon():
    state = ReceiverState(SECRET)
    with StubServer(ReceiverHandler, state) as server:
        params = service_params(server.url, key="addon-5-create")
        params.addon = AddonInfo(id=5, addon_id=2, name="Extra IP", billing_cycle="Annually",
                                 recurring_amount=Decimal("12.00"))
        module = get_server_module("webhook")
        assert module.addon_create(params).success
        params.idempotency_key = "addon-5-terminate"
        assert module.addon_terminate(params).success
    create, terminate = state.bodies
    assert (create["action"], terminate["action"]) == ("addon_create", "addon_terminate")
    assert create["addon"] == {"id": 5, "addon_id": 2, "name": "Extra IP", "billing_cycle": "Annually",
                               "recurring_amount": "12.00"}
    assert create["service"]["id"] == 7 and SECRET not in repr(create)
    # The manual module has no addon automation: nothing to run, success.
    assert get_server_module("manual").addon_create(params).success


def test_a_failed_addon_create_leaves_it_pending_and_tells_the_admins(app_ctx, session, monkeypatch):
    from models import Server
    from tests.test_accept_failure import _closed_port_url

    monkeypatch.setitem(app_ctx.config, "SIDE_EFFECT_MAX_ATTEMPTS", 1)
    factories.make_admin()
    server = Server(name="hook-down", module="webhook", url=_closed_port_url(), secret=WEBHOOK_SECRET)
    session.add(server)
    session.flush()
    product = factories.make_product(default_server_id=server.id)
    addon = factories.make_addon([product], module="webhook")
    order = place_with_addon(product, addon)
    item_id = order.addons[0].id
    session.commit()
    accept_order(session, order, AcceptOptions(), ADMIN)
    session.commit()
    session.expire_all()
    assert session.get(ServiceAddon, item_id).status == ServiceStatus.PENDING
    effect = session.scalar(select(SideEffect).where(SideEffect.kind == "addon_create"))
    assert effect.status == SideEffectStatus.FAILED and effect.last_error
    mail = session.scalar(select(EmailLog).where(EmailLog.template == "Automatic Setup Failed"))
    assert mail is not None and mail.client_id == order.client_id
