"""AddOrder with product addons (addons[k]): placed through place_order like the admin's orders,
refused with the parameter named and nothing written."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import BillingCycle, Order, ServiceAddon
from tests import factories
from tests.api_support import Api, ensure_gateway, make_credential


@pytest.fixture
def api(app_ctx):
    credential, secret = make_credential()
    db.session.commit()
    return Api(app_ctx.test_client(), credential.identifier, secret)


@pytest.fixture
def shop(app_ctx):
    ensure_gateway()
    client = factories.make_client()
    hosting, vps = factories.make_product(), factories.make_product()
    backups = factories.make_addon([hosting], {BillingCycle.MONTHLY: ("3.00", "1.50")})
    licence = factories.make_addon([hosting], {BillingCycle.MONTHLY: ("7.00", "0.00")})
    firewall = factories.make_addon([vps])
    db.session.commit()
    return client, hosting, vps, backups, licence, firewall


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_addons_per_product_line_go_to_each_of_its_services(api, shop):
    client, hosting, vps, backups, licence, _ = shop
    body = api.ok("AddOrder", [("pid[0]", str(hosting.id)), ("qty[0]", "2"),
                               ("addons[0]", f"{backups.id},{licence.id}"), ("pid[1]", str(vps.id))],
                  clientid=client.id, paymentmethod="mailin")
    order = db.session.get(Order, body["orderid"])
    assert [[a.addon_id for a in s.addons] for s in order.services] == [[backups.id, licence.id]] * 2 + [[]]
    assert body["addonids"] == ",".join(str(a.id) for a in order.addons)
    # Two hosting services at 15.00 with 4.50 + 7.00 of addons each, and the VPS at 15.00.
    assert order.amount == 2 * (Decimal("15.00") + Decimal("11.50")) + Decimal("15.00")


@pytest.mark.parametrize(("pairs", "message"), [
    ([("addons[0]", "FIREWALL")], "is not available for"),
    ([("addons[0]", "999999")], "addons[0]: Unknown addon 999999."),
    ([("addons[0]", "x,2")], "addons[0] must be a comma-separated list of addon ids."),
    ([("addons[0]", "BACKUPS"), ("addonsqty[0]", "2")], "addonsqty[0]: each addon is ordered once"),
    ([("addons[3]", "BACKUPS")], "addons[3] has no matching pid[3]."),
])
def test_bad_addons_are_refused_naming_the_parameter_and_write_nothing(api, shop, pairs, message):
    client, hosting, _, backups, _, firewall = shop
    ids = {"FIREWALL": str(firewall.id), "BACKUPS": str(backups.id)}
    pairs = [(name, ids.get(value, value)) for name, value in pairs]
    error = api.error("AddOrder", [("pid[0]", str(hosting.id)), *pairs], clientid=client.id,
                      paymentmethod="mailin")
    assert message in error
    assert _count(Order) == 0 and _count(ServiceAddon) == 0
