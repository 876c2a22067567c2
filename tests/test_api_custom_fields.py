"""The WHMCS API's customfields: AddOrder's per product line, AddClient's, GetClientsDetails'
answers; refusals name the parameter and the field and write nothing (every table counted)."""

import base64

import pytest

from extensions import db
from models import CustomFieldType, Order
from tests import factories
from tests.test_api_addons import api  # noqa: F401 - the fixture
from tests.test_custom_fields import PRICES, make_field, row_counts


def php_array(values: dict) -> str:
    """base64(serialize(array(...))) as PHP writes it (written here, not by the app's decoder)."""
    parts = []
    for key, value in values.items():
        raw = str(value).encode()
        parts.append(f'i:{key};s:{len(raw)}:"{value}";')
    return base64.b64encode(f"a:{len(values)}:{{{''.join(parts)}}}".encode()).decode()


@pytest.fixture
def shop(app_ctx):
    from tests.api_support import ensure_gateway

    ensure_gateway()
    client = factories.make_client()
    vps = factories.make_product(prices=PRICES)
    other = factories.make_product(prices=PRICES)
    hostname = make_field(vps, name="Hostname", required=True, validation=r"[a-z0-9.-]+")
    root = make_field(vps, name="Root password", field_type=CustomFieldType.PASSWORD)
    theirs = make_field(other, name="Licence")
    db.session.commit()
    return client, vps, hostname, root, theirs


def test_add_order_customfields_go_to_each_service_of_the_line(api, shop):  # noqa: F811
    client, vps, hostname, root, _ = shop
    answers = php_array({hostname.id: "vps1.example", root.id: "s3cret-pw"})
    body = api.ok("AddOrder", [("pid[0]", str(vps.id)), ("qty[0]", "2"), ("billingcycle[0]", "monthly"),
                               ("customfields[0]", answers)],
                  clientid=client.id, paymentmethod="mailin")
    order = db.session.get(Order, body["orderid"])
    assert [{v.field.name: v.answer for v in s.custom_field_values} for s in order.services] == [
        {"Hostname": "vps1.example", "Root password": "s3cret-pw"}] * 2


# A field's own error names it inside the line's blob, as configoptions[k][option id] does.
@pytest.mark.parametrize(("blob", "message"), [
    ("HOSTNAME_MISSING", "customfields[0][{hostname}]: Hostname is required."),
    ("BAD_PATTERN", "customfields[0][{hostname}]: Hostname: the value is not in the expected format."),
    ("THEIRS", "customfields[0]: Custom field"),
    ("UNKNOWN", "customfields[0]: Unknown custom field 999999."),
    ("%%%", "customfields[0] is not a base64-encoded PHP serialized array"),
])
def test_add_order_refuses_bad_customfields_and_writes_nothing(api, shop, blob, message):  # noqa: F811
    client, vps, hostname, _, theirs = shop
    blob = {"HOSTNAME_MISSING": php_array({}), "BAD_PATTERN": php_array({hostname.id: "Not Valid!"}),
            "THEIRS": php_array({hostname.id: "ok.example", theirs.id: "x"}),
            "UNKNOWN": php_array({hostname.id: "ok.example", 999999: "x"})}.get(blob, blob)
    before = row_counts(db.session)
    error = api.error("AddOrder", [("pid[0]", str(vps.id)), ("billingcycle[0]", "monthly"),
                                   ("customfields[0]", blob)], clientid=client.id, paymentmethod="mailin")
    assert message.format(hostname=hostname.id) in error
    db.session.expire_all()
    after = row_counts(db.session)
    after.pop("api_log"), before.pop("api_log")  # every call is logged, refused ones too
    assert after == before


def test_add_client_customfields_and_get_clients_details(api, app_ctx):  # noqa: F811
    vat = make_field(None, name="VAT number", required=True, validation=r"[A-Z]{2}\d{8,12}")
    pin = make_field(None, name="Phone PIN", field_type=CustomFieldType.PASSWORD)
    db.session.commit()
    base = dict(firstname="Ada", lastname="Lovelace", address1="1 St", city="London", state="LDN",
                postcode="N1", country="GB", phonenumber="+44.2079460000")
    before = row_counts(db.session)
    assert "customfields: VAT number is required." in api.error(
        "AddClient", email="ada@example.com", **base)
    assert "VAT number: the value is not in the expected format." in api.error(
        "AddClient", email="ada@example.com", customfields=php_array({vat.id: "GB1"}), **base)
    db.session.expire_all()
    after = row_counts(db.session)
    after.pop("api_log"), before.pop("api_log")
    assert after == before
    body = api.ok("AddClient", email="ada@example.com",
                  customfields=php_array({vat.id: "GB12345678", pin.id: "9876-pin"}), **base)
    details = api.ok("GetClientsDetails", clientid=body["clientid"])
    # The password answer is stored but never sent back in clear.
    assert details["client"]["customfields"] == [{"id": vat.id, "value": "GB12345678"}]
    assert "9876-pin" not in str(details)


def test_get_products_lists_each_products_order_form_fields(api, shop):  # noqa: F811
    client, vps, hostname, root, theirs = shop
    make_field(vps, name="Provisioning notes", admin_only=True)  # the admins' own: not listed
    db.session.commit()
    products = {p["pid"]: p for p in api.ok("GetProducts", [])["products"]["product"]}
    listed = products[vps.id]["customfields"]["customfield"]
    assert [(f["id"], f["name"], f["fieldtype"], f["required"], f["regexpr"]) for f in listed] == [
        (hostname.id, "Hostname", "text", 1, r"[a-z0-9.-]+"), (root.id, "Root password", "password", 0, "")]
    assert [f["name"] for f in products[theirs.product_id]["customfields"]["customfield"]] == ["Licence"]
