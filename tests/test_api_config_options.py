"""AddOrder's configoptions[k] (base64 PHP-serialized option id => choice id / quantity) placed
through place_order, and refused with the parameter named and nothing written."""

import base64
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import BillingCycle, ConfigOptionType, Order, ServiceConfigOption
from tests import factories
from tests.api_support import Api, ensure_gateway, make_credential
from tests.test_config_options_pricing import OPTIONS


def php_serialized(values: dict) -> str:
    """base64(serialize(array(...))) as a PHP storefront sends it (ints and strings)."""
    def one(v):
        return f"i:{v};" if isinstance(v, int) else f's:{len(str(v).encode())}:"{v}";'
    body = "".join(one(k) + one(v) for k, v in values.items())
    return base64.b64encode(f"a:{len(values)}:{{{body}}}".encode()).decode()


@pytest.fixture
def api(app_ctx):
    credential, secret = make_credential()
    db.session.commit()
    return Api(app_ctx.test_client(), credential.identifier, secret)


@pytest.fixture
def shop(app_ctx):
    ensure_gateway()
    client = factories.make_client()
    vps, plain = factories.make_product(), factories.make_product()
    group = factories.make_option_group([vps], OPTIONS)
    factories.make_option_group([plain], [("Disk", ConfigOptionType.DROPDOWN, {"50 GB": {}}, 0, 0)])
    db.session.commit()
    return client, vps, plain, {o.name: o for o in group.options}


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_configoptions_per_product_line_go_to_each_of_its_services(api, shop):
    client, vps, plain, options = shop
    windows = options["OS"].choices[1].id
    blob = php_serialized({options["OS"].id: windows, options["IPs"].id: 3, options["Backups"].id: "1"})
    body = api.ok("AddOrder", [("pid[0]", str(vps.id)), ("qty[0]", "2"), ("configoptions[0]", blob),
                               ("pid[1]", str(plain.id))],
                  clientid=client.id, paymentmethod="mailin")
    order = db.session.get(Order, body["orderid"])
    first, second, third = order.services
    for service in (first, second):
        assert {r.option.name: r.value for r in service.config_options} == {
            "RAM": "2 GB", "OS": "Windows", "Backups": 1, "IPs": 3}
    assert [r.value for r in third.config_options] == ["50 GB"]  # the default choice
    # 15.00 + Windows 25.00 + backups 3.50 + 3 IPs 5.25, twice; the plain product 15.00.
    assert order.amount == 2 * (Decimal("15.00") + Decimal("25.00") + Decimal("3.50") + Decimal("5.25")) + \
        Decimal("15.00")
    assert order.services[0].billing_cycle == BillingCycle.MONTHLY


@pytest.mark.parametrize(("values", "message"), [
    ({"IPs": 9}, "configoptions[0][IPs]: IPs must be between 1 and 8."),
    ({"IPs": "many"}, "configoptions[0][IPs]: IPs must be a whole number."),
    ({"OS": 999999}, "configoptions[0][OS]: '999999' is not a choice of OS."),
    ({"Disk": 1}, "configoptions[0]: Disk is not an option of"),
    ({999999: 1}, "configoptions[0]: Unknown configurable option '999999'."),
])
def test_bad_configoptions_are_refused_naming_the_parameter_and_write_nothing(api, shop, values, message):
    client, vps, plain, options = shop
    ids = {name: o.id for name, o in options.items()}
    ids["Disk"] = plain.config_option_groups[0].options[0].id
    blob = php_serialized({ids.get(k, k): v for k, v in values.items()})
    message = message.replace("[IPs]", f"[{ids['IPs']}]").replace("[OS]", f"[{ids['OS']}]")
    error = api.error("AddOrder", [("pid[0]", str(vps.id)), ("configoptions[0]", blob)],
                      clientid=client.id, paymentmethod="mailin")
    assert message in error
    assert _count(Order) == 0 and _count(ServiceConfigOption) == 0


@pytest.mark.parametrize(("blob", "message"), [
    ("%%%", "configoptions[0] is not a base64-encoded PHP serialized array"),
    (base64.b64encode(b"i:5;").decode(), "configoptions[0] must be a serialized array"),
    (base64.b64encode(b'a:1:{i:1;a:1:{i:1;i:1;}}').decode(), "configoptions[0]: each option's value must"),
])
def test_malformed_configoptions_are_refused(api, shop, blob, message):
    client, vps, _, _ = shop
    error = api.error("AddOrder", [("pid[0]", str(vps.id)), ("configoptions[0]", blob)],
                      clientid=client.id, paymentmethod="mailin")
    assert message in error
    assert _count(Order) == 0


def test_configoptions_without_a_product_line_are_refused(api, shop):
    client, vps, _, options = shop
    error = api.error("AddOrder", [("pid[0]", str(vps.id)),
                                   ("configoptions[2]", php_serialized({options["IPs"].id: 2}))],
                      clientid=client.id, paymentmethod="mailin")
    assert "configoptions[2] has no matching pid[2]." in error


def test_getproducts_lists_the_products_options_with_their_choices(api, shop):
    _, vps, plain, options = shop
    body = api.ok("GetProducts", [], pid=str(vps.id))
    (product,) = body["products"]["product"]
    listed = product["configoptions"]["configoption"]
    assert [(o["id"], o["name"], o["type"], o["minqty"], o["maxqty"]) for o in listed] == [
        (options["RAM"].id, "RAM", 1, 0, 0), (options["OS"].id, "OS", 2, 0, 0),
        (options["Backups"].id, "Backups", 3, 0, 0), (options["IPs"].id, "IPs", 4, 1, 8)]
    windows = listed[1]["options"]["option"][1]
    assert windows["id"] == options["OS"].choices[1].id and windows["name"] == "Windows"
    (prices,) = windows["pricing"].values()
    assert (prices["monthly"], prices["msetupfee"], prices["annually"], prices["asetupfee"]) == (
        "15.00", "10.00", "150.00", "25.00")
    assert prices["quarterly"] == "0.00"  # no price row: nothing to pay on that cycle
    (other,) = api.ok("GetProducts", [], pid=str(plain.id))["products"]["product"]
    assert [o["name"] for o in other["configoptions"]["configoption"]] == ["Disk"]
