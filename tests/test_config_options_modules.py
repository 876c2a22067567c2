"""The server module receives the service's configurable options: accept runs the create on a real
RQ worker, and the signed webhook's payload carries `configoptions` (option name -> value)."""

import pytest

from actions.accept import AcceptOptions, accept_order
from actions.actor import Actor
from actions.cart import Cart, CartProduct
from actions.place import place_order
from extensions import db
from models import BillingCycle, ConfigOptionType, Service, ServiceStatus
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
from tests.test_config_options_pricing import OPTIONS, values

ADMIN = Actor("admin", 1, "Options Test")


@pytest.fixture
def receiver():
    state = ReceiverState(WEBHOOK_SECRET)
    with StubServer(ReceiverHandler, state) as server:
        yield server, state


def test_the_module_create_gets_the_configurable_options(app_ctx, database_url, receiver):
    server, state = receiver
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        product = webhook_product(server.url)
        group = factories.make_option_group([product], OPTIONS)
        options = {o.name: o for o in group.options}
        addon = factories.make_addon([product], module="webhook", name="Nightly Backups")
        client = factories.make_client()
        chosen = values(options, RAM="4 GB", OS="Windows", Backups=1, IPs=3)
        cart = Cart(client_id=client.id, payment_method="banktransfer",
                    products=[CartProduct(product.id, BillingCycle.MONTHLY, addon_ids=[addon.id],
                                          config_options=chosen)])
        order = place_order(db.session, cart, ADMIN)
        service_id = order.services[0].id
        db.session.commit()
        accept_order(db.session, order, AcceptOptions(), ADMIN)
        db.session.commit()
        run_burst(app, connection)

        assert fresh(Service, service_id).status == ServiceStatus.ACTIVE
        expected = {"RAM": "4 GB", "OS": "Windows", "Backups": 1, "IPs": 3}
        create = next(b for b in state.bodies if b["action"] == "create")
        assert create["service"]["id"] == service_id
        assert create["service"]["configoptions"] == expected
        # The addon's commands carry its service, options included.
        addon_create = next(b for b in state.bodies if b["action"] == "addon_create")
        assert addon_create["service"]["configoptions"] == expected
        assert state.bad_signatures == 0
    connection.flushdb()


def test_a_service_without_options_sends_an_empty_map(app_ctx, database_url, receiver):
    server, state = receiver
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        product = webhook_product(server.url)
        factories.make_option_group([factories.make_product()], [
            ("Disk", ConfigOptionType.DROPDOWN, {"50 GB": {}}, 0, 0)])  # another product's group
        order = factories.make_order(product=product)
        db.session.commit()
        accept_order(db.session, order, AcceptOptions(), ADMIN)
        db.session.commit()
        run_burst(app, connection)
        create = next(b for b in state.bodies if b["action"] == "create")
        assert create["service"]["configoptions"] == {}
    connection.flushdb()
