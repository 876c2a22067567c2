"""The server module gets a service's custom fields as WHMCS's `customfields` (name -> value, a
password in clear for the call only): accept runs the create on a real RQ worker and the signed
webhook receives them; the side effect's stored payload holds none of them."""

import json

from sqlalchemy import select

from actions.accept import AcceptOptions, accept_order
from actions.cart import Cart, CartProduct
from actions.place import place_order
from extensions import db
from models import BillingCycle, CustomFieldType, SideEffect, SideEffectStatus
from tests import factories
from tests.jobs_support import (
    TEST_REDIS_URL,
    app_context_for,
    connect_redis,
    fresh,
    run_burst,
    webhook_product,
)
from tests.test_addons_modules import ADMIN, receiver  # noqa: F401 - the fixture
from tests.test_custom_fields import make_field

ROOT = "Worker-Root-Pa55-4471"


def test_accept_sends_the_custom_fields_to_the_module(app_ctx, database_url, receiver):  # noqa: F811
    server, state = receiver
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        product = webhook_product(server.url)
        hostname = make_field(product, name="Hostname", required=True)
        root = make_field(product, name="Root password", field_type=CustomFieldType.PASSWORD)
        backups = make_field(product, name="Backups", field_type=CustomFieldType.TICKBOX)
        make_field(product, name="Notes")  # not answered: not sent
        client = factories.make_client()
        order = place_order(db.session, Cart(client_id=client.id, payment_method="banktransfer", products=[
            CartProduct(product.id, BillingCycle.MONTHLY,
                        custom_fields={hostname.id: "vps7.example", root.id: ROOT, backups.id: "1"})]), ADMIN)
        db.session.commit()
        accept_order(db.session, order, AcceptOptions(), ADMIN)
        db.session.commit()
        run_burst(app, connection)

        create = next(b for b in state.bodies if b["action"] == "create")
        assert create["service"]["customfields"] == {"Hostname": "vps7.example", "Root password": ROOT,
                                                     "Backups": "on"}
        effect = fresh(SideEffect, db.session.scalar(
            select(SideEffect.id).where(SideEffect.kind == "module_create")))
        assert effect.status == SideEffectStatus.SUCCEEDED
        assert ROOT not in json.dumps(effect.payload) and ROOT not in (effect.last_error or "")
        assert state.bad_signatures == 0
    connection.flushdb()
