"""Raw HTTP against /includes/api.php: every encoding, auth path, IP rule, permission and error
message of reference/whmcs-api.md §3, through the Flask test client, on SQLite and PostgreSQL."""

import hashlib
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from extensions import db
from models import ApiLogEntry, Order, OrderStatus, Permission
from tests import factories
from tests.api_support import API, Api, ensure_gateway, fresh_throttle, make_credential  # noqa: F401


@pytest.fixture
def api(app_ctx):
    credential, secret = make_credential()
    db.session.commit()
    return Api(app_ctx.test_client(), credential.identifier, secret)


@pytest.fixture
def catalog(app_ctx):
    ensure_gateway()
    client = factories.make_client()
    products = [factories.make_product(), factories.make_product()]
    factories.make_tld(".com", years=(1, 2))
    db.session.commit()
    return client, products


def _orders():
    return db.session.scalars(select(Order).order_by(Order.id)).all()


def test_three_array_encodings_and_query_plus_body_place_identical_orders(api, catalog):
    client, (one, two) = catalog
    base = [("clientid", str(client.id)), ("paymentmethod", "mailin")]
    encodings = [
        [
            ("pid[0]", one.id),
            ("pid[1]", two.id),
            ("billingcycle[0]", "monthly"),
            ("billingcycle[1]", "monthly"),
        ],
        [("pid[]", one.id), ("pid[]", two.id), ("billingcycle[]", "monthly"), ("billingcycle[]", "monthly")],
        [("pid", one.id), ("pid", two.id), ("billingcycle", "monthly"), ("billingcycle", "monthly")],
    ]
    for pairs in encodings:
        api.ok("AddOrder", base + [(k, str(v)) for k, v in pairs])
    # whmcs-api-client's dialect: the action only in the query string, username/password as credentials.
    response = api.client.post(
        f"{API}?action=AddOrder",
        data=MultiDict(
            [
                ("username", api.identifier),
                ("password", api.secret),
                *base,
                ("pid[]", str(one.id)),
                ("pid[]", str(two.id)),
            ]
        ),
    )
    assert response.get_json()["result"] == "success"
    orders = _orders()
    assert len(orders) == 4
    shapes = {tuple((s.product_id, s.billing_cycle) for s in o.services) for o in orders}
    assert shapes == {((one.id, "Monthly"), (two.id, "Monthly"))}
    assert {o.source for o in orders} == {"api"}
    assert {o.amount for o in orders} == {orders[0].amount}


def test_a_single_pid_is_a_one_element_array_and_keyed_arrays_keep_their_keys(api, catalog):
    client, (one, _) = catalog
    body = api.ok("AddOrder", clientid=client.id, paymentmethod="mailin", pid=one.id)
    assert body["serviceids"] == body["productids"] and body["serviceids"].isdigit()
    # domainrenewals is keyed by domain: parsed, and refused by name (renewals are never ordered here).
    message = api.error(
        "AddOrder",
        [("domainrenewals[example.com]", "2")],
        clientid=client.id,
        paymentmethod="mailin",
        pid=one.id,
    )
    assert message.startswith("AddOrder: domainrenewals is not supported (renewals are invoiced")


def test_domains_with_types_periods_epp_codes_addons_and_overrides(api, catalog):
    client, (one, _) = catalog
    body = api.ok(
        "AddOrder",
        [
            ("pid[0]", str(one.id)),
            ("domain[0]", "shop.com"),
            ("domaintype[0]", "register"),
            ("regperiod[0]", "2"),
            ("dnsmanagement[0]", "True"),
            ("domain[1]", "moving.com"),
            ("domaintype[1]", "Transfer"),
            ("eppcode[1]", "EPP-123"),
            ("domainpriceoverride[1]", "0"),
            ("domainrenewoverride[1]", "9.50"),
        ],
        clientid=client.id,
        paymentmethod="mailin",
    )
    order = db.session.get(Order, body["orderid"])
    assert body["domainids"] == ",".join(str(d.id) for d in order.domains)
    register, transfer = order.domains
    assert (register.name, register.type, register.period_years, register.dns_management) == (
        "shop.com",
        "Register",
        2,
        True,
    )
    assert (
        transfer.type,
        transfer.epp_code,
        str(transfer.first_payment_amount),
        str(transfer.recurring_amount),
    ) == ("Transfer", "EPP-123", "0.00", "9.50")
    assert order.services[0].domain == "shop.com"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", True),
        ("True", True),
        ("on", True),
        ("yes", True),
        ("0", False),
        ("False", False),
        ("", False),
        ("off", False),
    ],
)
def test_tolerant_booleans(api, catalog, value, expected):
    client, (one, _) = catalog
    body = api.ok("AddOrder", clientid=client.id, paymentmethod="mailin", pid=one.id, noinvoice=value)
    assert (body["invoiceid"] == 0) is expected


def test_a_word_that_is_no_boolean_is_refused(api, catalog):
    client, (one, _) = catalog
    assert (
        api.error("AddOrder", clientid=client.id, paymentmethod="mailin", pid=one.id, noinvoice="maybe")
        == "noinvoice must be true or false (1/0, true/false, on/off, yes/no)."
    )


def test_action_names_are_case_insensitive_and_answers_are_json(api, catalog):
    for name in ("GetOrders", "getorders", "GETORDERS"):
        response = api.call(name, responsetype="xml")
        assert response.headers["Content-Type"] == "application/json"
        assert response.get_json()["totalresults"] == 0


def test_unknown_action_get_and_bad_body(api):
    assert api.error("Frobnicate") == 'Invalid API Action: "frobnicate" is not a valid API action'
    response = api.client.get(f"{API}?action=GetOrders")
    assert response.status_code == 405 and response.get_json() == {
        "result": "error",
        "message": "The API accepts POST requests only.",
    }
    response = api.client.post(
        API, data=b"action=GetOrders&identifier=%ff", content_type="application/x-www-form-urlencoded"
    )
    assert response.get_json()["message"] == "The request body is not valid URL-encoded UTF-8."
    response = api.client.post(API, data={"action": "GetOrders", "x": "y" * 70_000})
    assert response.get_json()["result"] == "error"


def test_multipart_bodies_are_read_too(api):
    response = api.client.post(
        API,
        data={
            "identifier": api.identifier,
            "secret": api.secret,
            "action": "GetOrderStatuses",
            "file": (io.BytesIO(b"x"), "x.txt"),
        },
        content_type="multipart/form-data",
    )
    assert response.get_json()["result"] == "success"


def test_body_wins_over_the_query_string(api):
    response = api.client.post(
        f"{API}?action=Nothing&identifier=wrong",
        data={"action": "GetOrderStatuses", "identifier": api.identifier, "secret": api.secret},
    )
    assert response.get_json()["result"] == "success"


def test_authentication_failures_answer_403_with_whmcs_messages(api, app_ctx):
    client = app_ctx.test_client()
    cases = [
        ({"action": "GetOrders"}, "Authentication Failed"),
        ({"action": "GetOrders", "identifier": api.identifier, "secret": "wrong"}, "Authentication Failed"),
        ({"action": "GetOrders", "identifier": "nobody", "secret": "x"}, "Invalid or missing credentials"),
        ({"action": "GetOrders", "username": api.identifier, "password": "wrong"}, "Authentication Failed"),
        ({"action": "GetOrders", "identifier": "a\x00b", "secret": "x"}, "Authentication Failed"),
    ]
    for data, message in cases:
        response = client.post(API, data=data)
        assert (response.status_code, response.get_json()) == (403, {"result": "error", "message": message})
    assert (
        client.post(
            API, data={"action": "GetOrders", "username": api.identifier, "password": api.secret}
        ).status_code
        == 200
    )


def test_revoked_and_rotated_credentials_stop_working_at_once(api, app_ctx):
    from actions.api_credentials import revoke_api_credential, rotate_api_credential
    from models import ApiCredential

    assert api.call("GetOrderStatuses").status_code == 200  # verified once: remembered by api.auth
    credential = db.session.scalar(select(ApiCredential).where(ApiCredential.identifier == api.identifier))
    new_secret = rotate_api_credential(db.session, credential)
    db.session.commit()
    assert api.error("GetOrderStatuses", status=403) == "Authentication Failed"
    api.secret = new_secret
    assert api.call("GetOrderStatuses").status_code == 200
    revoke_api_credential(db.session, credential)
    db.session.commit()
    assert api.error("GetOrderStatuses", status=403) == "Authentication Failed"


def test_ip_allow_list_cidr_global_default_and_access_key(app_ctx):
    own, own_secret = make_credential(allowlist="10.1.0.0/16\n2001:db8::/32")
    none, none_secret = make_credential(allowlist="")
    db.session.commit()

    def call(identifier, secret, ip, **extra):
        return app_ctx.test_client().post(
            API,
            data={"action": "GetOrderStatuses", "identifier": identifier, "secret": secret, **extra},
            environ_base={"REMOTE_ADDR": ip},
        )

    assert call(own.identifier, own_secret, "10.1.200.3").status_code == 200
    assert call(own.identifier, own_secret, "2001:db8::7").status_code == 200
    refused = call(own.identifier, own_secret, "10.2.0.1")
    assert (refused.status_code, refused.get_json()["message"]) == (403, "Invalid IP 10.2.0.1")
    # No list of its own: API_ALLOWED_IPS (default 127.0.0.1 and ::1).
    assert call(none.identifier, none_secret, "127.0.0.1").status_code == 200
    assert call(none.identifier, none_secret, "192.0.2.9").get_json()["message"] == "Invalid IP 192.0.2.9"
    # accesskey skips the IP check only when it matches API_ACCESS_KEY.
    app_ctx.config["API_ACCESS_KEY"] = "s3cr3t!key"
    try:
        assert call(own.identifier, own_secret, "192.0.2.9", accesskey="s3cr3t!key").status_code == 200
        assert call(own.identifier, own_secret, "192.0.2.9", accesskey="wrong").status_code == 403
    finally:
        app_ctx.config["API_ACCESS_KEY"] = None


def test_permissions_come_from_the_role(app_ctx, catalog):
    client, (one, _) = catalog
    credential, secret = make_credential(
        [Permission.API_ACCESS, Permission.VIEW_ORDERS, Permission.VIEW_ORDER_DETAILS]
    )
    no_api, no_api_secret = make_credential([Permission.VIEW_ORDERS, Permission.VIEW_ORDER_DETAILS])
    order = factories.make_order(client=client, product=one)
    db.session.commit()
    api = Api(app_ctx.test_client(), credential.identifier, secret)
    assert api.call("GetOrders").status_code == 200
    assert api.error("AcceptOrder", status=403, orderid=order.id) == (
        'Invalid Permissions: API action "acceptorder" is not allowed'
    )
    assert db.session.get(Order, order.id).status == OrderStatus.PENDING
    assert Api(app_ctx.test_client(), no_api.identifier, no_api_secret).error("GetOrders", status=403) == (
        'Invalid Permissions: API action "getorders" is not allowed'
    )


def test_legacy_admin_login_with_md5_of_the_legacy_api_password(app_ctx):
    admin = factories.make_admin("Full Administrator", email="legacy@example.com")
    db.session.commit()
    md5 = hashlib.md5(b"legacy api pass 1").hexdigest()
    client = app_ctx.test_client()
    data = {"action": "getorders", "username": "legacy@example.com", "password": md5, "responsetype": "json"}
    # Off until the admin opts in: the login password's md5 is no way in either.
    assert client.post(API, data=data).get_json()["message"] == "Authentication Failed"
    login_md5 = hashlib.md5(factories.PASSWORD.encode()).hexdigest()
    assert client.post(API, data={**data, "password": login_md5}).status_code == 403
    admin.set_legacy_api_password("legacy api pass 1")
    db.session.commit()
    response = client.post(API, data=data)
    assert response.status_code == 200 and response.get_json()["result"] == "success"
    assert client.post(API, data={**data, "password": md5.upper()}).status_code == 200  # hex in any case
    assert client.post(API, data={**data, "username": "LEGACY@example.com"}).status_code == 200


def test_repeated_authentication_failures_are_throttled_per_ip(api, app_ctx):
    app_ctx.config["API_AUTH_FAILURE_LIMIT"] = "3 per minute"
    try:
        client = app_ctx.test_client()
        for _ in range(3):
            assert (
                client.post(
                    API, data={"action": "GetOrders", "identifier": api.identifier, "secret": "wrong"}
                ).status_code
                == 403
            )
        # Now even the right secret waits, from this IP; another IP is not held up.
        blocked = client.post(
            API, data={"action": "GetOrders", "identifier": api.identifier, "secret": api.secret}
        )
        assert blocked.status_code == 429 and blocked.get_json()["result"] == "error"
        elsewhere = app_ctx.test_client().post(
            API,
            data={
                "action": "GetOrderStatuses",
                "identifier": api.identifier,
                "secret": api.secret,
                "accesskey": "",
            },
            environ_base={"REMOTE_ADDR": "::1"},
        )
        assert elsewhere.status_code == 403 and elsewhere.get_json()["message"] == "Invalid IP ::1"
    finally:
        app_ctx.config["API_AUTH_FAILURE_LIMIT"] = "10 per minute"


def test_successful_calls_do_not_count_towards_the_throttle(api, app_ctx):
    app_ctx.config["API_AUTH_FAILURE_LIMIT"] = "2 per minute"
    try:
        for _ in range(5):
            assert api.call("GetOrderStatuses").status_code == 200
    finally:
        app_ctx.config["API_AUTH_FAILURE_LIMIT"] = "10 per minute"


def test_every_call_is_logged_without_secrets(api, catalog):
    client, (one, _) = catalog
    body = api.ok("AddOrder", clientid=client.id, paymentmethod="mailin", pid=one.id)
    api.client.post(API, data={"action": "GetOrders", "identifier": api.identifier, "secret": "wrong"})
    entries = db.session.scalars(select(ApiLogEntry).order_by(ApiLogEntry.id)).all()
    assert [(e.action, e.result, e.http_status) for e in entries] == [
        ("addorder", "success", 200),
        ("getorders", "error", 403),
    ]
    assert entries[0].order_id == body["orderid"] and entries[0].caller == api.identifier
    assert entries[1].message == "Authentication Failed"
    dumped = " ".join(f"{e.caller} {e.message}" for e in entries)
    assert api.secret not in dumped and "wrong" not in dumped
    assert db.session.scalar(select(func.count()).select_from(ApiLogEntry)) == 2
