"""Fraud protection end to end: orders placed through the API are screened by MaxMind minFraud (the
official client, unchanged) against a local HTTPS stub with a self-signed certificate, on SQLite and
PostgreSQL. The verdict goes through actions/ (the Set as Fraud row), results land in fraud_checks
and on the order page, Run Fraud Check records another, and the licence key is never shown."""

import json
import logging
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from actions.actor import SYSTEM
from actions.fraud_screening import SKIPPED_EXISTING, SKIPPED_GATEWAY, SKIPPED_THRESHOLD
from actions.fraud_settings import save_fraud_settings
from extensions import db
from models import (
    ApiLogEntry,
    AutoSetup,
    EmailLog,
    FraudCheck,
    FraudVerdict,
    Order,
    OrderEvent,
    OrderSource,
    Permission,
    Setting,
    SideEffect,
    SideEffectStatus,
)
from models.email_defaults import FRAUD_ORDER_NOTIFICATION, ORDER_CONFIRMATION
from tests import factories
from tests.api_support import Api, ensure_gateway, fresh_throttle, make_credential  # noqa: F401
from tests.modules_support.http_stub import StubServer
from tests.modules_support.maxmind_stub import ACCOUNT_ID, LICENSE_KEY, MaxMindHandler, MaxMindState
from tests.modules_support.tls import make_certificate, server_context

CLEAN_IP, RISKY_IP = "81.2.69.160", "185.220.101.1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("maxmind-tls"))


@pytest.fixture
def maxmind(certificate, monkeypatch):
    # minfraud.Client always speaks HTTPS; requests trusts the stub's CA through REQUESTS_CA_BUNDLE.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    state = MaxMindState()
    state.scores = {CLEAN_IP: 0.49, RISKY_IP: 87.5}
    with StubServer(MaxMindHandler, state, tls=server_context(*certificate)) as server:
        yield server, state


@pytest.fixture
def shop(app_ctx, full_admin):
    ensure_gateway()
    client = factories.make_client(email="ada@example.com", country="GB")
    product = factories.make_product(auto_setup=AutoSetup.ON_ORDER)
    credential, secret = make_credential()
    db.session.commit()
    return Api(app_ctx.test_client(), credential.identifier, secret), client, product


def configure(host: str, key: str = LICENSE_KEY, active: str = "maxmind", **form):
    values = {"account_id": str(ACCOUNT_ID), "license_key": key, "service": "score", "threshold": "20",
              "host": host, "timeout": "5", "skip_existing_clients": True, **form}
    save_fraud_settings(db.session, SYSTEM, active, "maxmind", values)
    db.session.commit()


def place(api: Api, client, product, ip=CLEAN_IP, gateway="mailin") -> Order:
    body = api.ok("AddOrder", clientid=client.id, paymentmethod=gateway, pid=product.id, clientip=ip)
    db.session.expire_all()
    return db.session.get(Order, body["orderid"])


def checks(order: Order) -> list[FraudCheck]:
    rows = select(FraudCheck).where(FraudCheck.order_id == order.id).order_by(FraudCheck.id)
    return db.session.scalars(rows).all()


def verbs(order: Order) -> list[str]:
    return db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order.id)
                              .order_by(OrderEvent.id)).all()


def test_high_score_skips_pending_order_and_items_fraud_invoice_cancelled(maxmind, shop, full_admin):
    (server, state), (api, client, product) = maxmind, shop
    configure(server.host)
    order = place(api, client, product, ip=RISKY_IP)
    assert order.status == "Fraud"
    assert [s.status for s in order.services] == ["Fraud"]
    assert order.invoice.status == "Cancelled" and order.invoice.date_cancelled is not None
    [check] = checks(order)
    assert (check.verdict, check.score, check.threshold, check.module) == (
        FraudVerdict.FRAUD, Decimal("87.50"), Decimal("20.00"), "maxmind")
    assert check.reasons == ["Risk score 87.5 is above the threshold 20.00"]
    assert check.raw["risk_score"] == 87.5 and check.error == ""
    assert order.fraud_score == Decimal("87.50") and not order.fraud_check_failed
    timeline = [verb for verb in verbs(order) if not verb.startswith("side_effect_")]
    assert timeline == ["order_placed", "fraud_checked", "order_failed_fraud_check"]
    # What was sent: the customer's IP, no order id yet (screened before the order is written).
    [(path, sent)] = state.transactions
    assert path == "/minfraud/v2.0/score" and sent["device"]["ip_address"] == RISKY_IP
    assert "transaction_id" not in sent["event"]
    # The on_order create and the client's emails are cancelled; the admins get the notification.
    effects = {e.kind + ":" + str((e.payload or {}).get("template", "")): e.status
               for e in db.session.scalars(select(SideEffect).where(SideEffect.order_id == order.id))}
    assert effects["module_create:"] == SideEffectStatus.CANCELLED
    assert effects[f"email:{ORDER_CONFIRMATION}"] == SideEffectStatus.CANCELLED
    assert effects[f"email:{FRAUD_ORDER_NOTIFICATION}"] == SideEffectStatus.SUCCEEDED
    notice = db.session.scalar(select(EmailLog).where(EmailLog.template == FRAUD_ORDER_NOTIFICATION))
    assert full_admin.email in notice.to and "87.50 (threshold 20.00)" in notice.body
    assert str(order.order_number) in notice.subject


def test_low_score_stays_pending(maxmind, shop):
    (server, _), (api, client, product) = maxmind, shop
    configure(server.host)
    order = place(api, client, product)
    assert order.status == "Pending" and order.invoice.status == "Unpaid"
    [check] = checks(order)
    assert check.verdict == FraudVerdict.PASSED and check.score == Decimal("0.49") and check.reasons == []
    assert not order.fraud_check_failed
    assert db.session.scalar(select(EmailLog).where(EmailLog.template == FRAUD_ORDER_NOTIFICATION)) is None


def test_service_down_keeps_the_order_pending_and_flags_it(certificate, monkeypatch, shop, admin_client):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    with StubServer(MaxMindHandler, MaxMindState(), tls=server_context(*certificate)) as server:
        host = server.host  # then closed: nothing listens there any more
    api, client, product = shop
    configure(host)
    order = place(api, client, product, ip=RISKY_IP)
    assert order.status == "Pending" and order.invoice.status == "Unpaid"
    assert order.fraud_check_failed
    [check] = checks(order)
    assert check.verdict == FraudVerdict.FAILED and check.score is None and "unreachable" in check.error
    other = factories.make_order()
    db.session.commit()
    listed = admin_client.get("/admin/orders/?flt0_fraud_check_failed_equals=1").get_data(as_text=True)
    assert str(order.order_number) in listed and str(other.order_number) not in listed
    unflagged = admin_client.get("/admin/orders/?flt0_fraud_check_failed_equals=0").get_data(as_text=True)
    assert str(order.order_number) not in unflagged and str(other.order_number) in unflagged
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="fraud-check-failed"' in page and "unreachable" in page


def test_bad_licence_is_a_failed_check_not_a_lost_order(maxmind, shop):
    (server, _), (api, client, product) = maxmind, shop
    configure(server.host, key="wrong-licence-key-1234")
    order = place(api, client, product, ip=RISKY_IP)
    assert order.status == "Pending" and order.fraud_check_failed
    assert "Invalid account ID or license key" in checks(order)[0].error


def _skip_event(order: Order) -> dict:
    return db.session.scalar(select(OrderEvent.details).where(
        OrderEvent.order_id == order.id, OrderEvent.verb == "fraud_check_skipped"))


def test_orders_an_admin_places_are_never_checked(maxmind, shop, admin_client):
    (server, state), (_, client, product) = maxmind, shop
    configure(server.host)
    response = admin_client.post("/admin/add-order/", data={
        "client_id": str(client.id), "payment_method": "mailin", "status": "Pending", "generate_invoice": "1",
        "products-0-product_id": str(product.id), "products-0-billing_cycle": "Monthly",
        "products-0-quantity": "1", "products-0-domain": ""})
    assert response.status_code == 302
    order = db.session.scalar(select(Order).where(Order.client_id == client.id))
    assert order.source == OrderSource.ADMIN and order.status == "Pending"
    assert state.transactions == [] and checks(order) == [] and _skip_event(order) is None


@pytest.mark.parametrize("rule", ["existing_active_order", "gateway_skip_list", "threshold_0"])
def test_skip_rules(maxmind, shop, rule):
    (server, state), (api, client, product) = maxmind, shop
    if rule == "existing_active_order":
        factories.make_order(client=client, status="Active", services=["Active"])
        configure(server.host)
        expected = SKIPPED_EXISTING
    elif rule == "gateway_skip_list":
        configure(server.host, skip_gateways=["mailin"])
        expected = SKIPPED_GATEWAY.format(gateway="mailin")
    else:
        configure(server.host, threshold="0")
        expected = SKIPPED_THRESHOLD
    order = place(api, client, product, ip=RISKY_IP)
    assert order.status == "Pending" and checks(order) == [] and state.transactions == []
    assert _skip_event(order) == {"module": "maxmind", "reason": expected}


def test_an_existing_client_is_checked_when_that_skip_is_off(maxmind, shop):
    (server, state), (api, client, product) = maxmind, shop
    factories.make_order(client=client, status="Active", services=["Active"])
    configure(server.host, skip_existing_clients=False)
    assert place(api, client, product, ip=RISKY_IP).status == "Fraud" and len(state.transactions) == 1


def test_no_active_module_means_no_check(maxmind, shop):
    (server, state), (api, client, product) = maxmind, shop
    configure(server.host, active="none")
    order = place(api, client, product, ip=RISKY_IP)
    assert order.status == "Pending" and state.transactions == [] and _skip_event(order) is None


INSIGHTS = {
    "email": {"is_free": True, "is_disposable": False},
    "billing_address": {"is_in_ip_country": False, "distance_to_ip_location": 1234},
    "ip_address": {"traits": {"isp": "Onion Routing Ltd", "is_anonymous": True, "is_tor_exit_node": True}},
}


def test_results_table_on_the_order_page_and_reject_rules(maxmind, shop, admin_client):
    (server, state), (api, client, product) = maxmind, shop
    state.insights = INSIGHTS
    configure(server.host, service="insights", reject_free_email=True, reject_country_mismatch=True,
              reject_anonymous_proxy=True)
    order = place(api, client, product, ip=CLEAN_IP)  # a low score: the reject rules decide
    assert order.status == "Fraud"
    [check] = checks(order)
    assert check.reasons == [
        "The email address is from a free email service",
        "The billing country does not match the IP address's country",
        "The IP address is an anonymiser (anonymous, Tor exit node)",
    ]
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    table = page[page.index('id="fraud-result"'):page.index("Raw output")]
    for shown in ("Score / threshold", "0.49 / 20.00", "Fraud", "Risk reasons", "free email service",
                  "IP country</th><td>GB", "ISP</th><td>Onion Routing Ltd",
                  "Anonymous proxy / VPN</th><td>anonymous, Tor exit node", "Free email</th><td>Yes",
                  "Billing address in IP country</th><td>No", "Billing country</th><td>GB"):
        assert shown in table, shown
    assert "<details><summary>Raw output</summary>" in page and "queries_remaining" in page


def test_high_risk_country_list(maxmind, shop):
    (server, _), (api, client, product) = maxmind, shop
    configure(server.host, reject_high_risk_countries=True, high_risk_countries="ng, gb")
    order = place(api, client, product)
    assert order.status == "Fraud"
    assert checks(order)[0].reasons == ["Billing country GB is on the high-risk country list"]


def test_run_fraud_check_records_a_second_result(maxmind, shop, admin_client, client_as, support_admin):
    (server, state), (api, client, product) = maxmind, shop
    configure(server.host)
    order = place(api, client, product)
    form = {"id": str(order.id), "expected_version": str(order.version), "url": "/admin/orders/"}
    assert client_as(support_admin).post("/admin/orders/order/fraud-check/", data=form).status_code == 403
    assert len(checks(order)) == 1
    state.scores[CLEAN_IP] = 55.0
    response = admin_client.post("/admin/orders/order/fraud-check/", data=form, follow_redirects=True)
    assert f"Order #{order.order_number} fraud check recorded." in response.get_data(as_text=True)
    db.session.expire_all()
    first, second = checks(order)
    assert (first.score, second.score) == (Decimal("0.49"), Decimal("55.00"))
    assert second.verdict == FraudVerdict.FRAUD
    assert second.actor_name and second.actor_name != first.actor_name
    # A re-run sends the order's id, and records without moving the order: the admin decides.
    assert state.transactions[-1][1]["event"]["transaction_id"] == str(order.id)
    order = db.session.get(Order, order.id)
    assert order.status == "Pending" and order.fraud_score == Decimal("55.00")
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="fraud-history"' in page and "55.00 / 20.00" in page and 'id="run-fraud-check"' in page


def test_run_fraud_check_without_an_active_module_is_refused(shop, admin_client):
    order = factories.make_order()
    db.session.commit()
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="run-fraud-check"' not in page
    response = admin_client.post("/admin/orders/order/fraud-check/", follow_redirects=True, data={
        "id": str(order.id), "expected_version": str(order.version), "url": "/admin/orders/"})
    assert "No fraud module is active" in response.get_data(as_text=True) and checks(order) == []


def test_settings_page_saves_and_never_shows_the_licence_key(admin_client, client_as, sales_admin, shop):
    secret = "live-licence-key-Zx81"
    url = "/admin/fraud-protection/"
    form = {"active_module": "maxmind", "account_id": "42", "license_key": secret, "service": "factors",
            "threshold": "35.5", "timeout": "7", "host": "", "reject_free_email": "1",
            "high_risk_countries": "ru ng", "skip_gateways": ["mailin"], "skip_existing_clients": "1"}
    assert client_as(sales_admin).get(url).status_code == 403
    assert client_as(sales_admin).post(url, data=form).status_code == 403
    saved = admin_client.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "Fraud protection settings saved." in saved and secret not in saved and "a key is stored" in saved
    stored = db.session.execute(text("SELECT license_key, service FROM fraud_module_settings")).one()
    assert secret not in stored[0] and stored[1] == "factors"
    # A blank key keeps the stored one; a bad threshold changes nothing and says why.
    admin_client.post(url, data={**form, "license_key": "", "threshold": "25"})
    assert db.session.execute(text("SELECT license_key FROM fraud_module_settings")).scalar() == stored[0]
    refused = admin_client.post(url, data={**form, "threshold": "150"}, follow_redirects=True)
    assert "must be between 0 and 99.99" in refused.get_data(as_text=True)
    db.session.expire_all()
    from models import FraudModuleSettings
    row = db.session.get(FraudModuleSettings, "maxmind")
    assert (row.license_key, row.threshold, row.high_risk_countries, row.skip_gateways) == (
        secret, Decimal("25.00"), ["NG", "RU"], ["mailin"])
    activity = json.dumps(db.session.scalars(select(OrderEvent.details)).all())
    assert "license_key" in activity and secret not in activity  # the field named, never its value


def test_the_licence_key_never_appears_in_pages_events_logs_or_errors(maxmind, shop, admin_client, caplog):
    (server, state), (api, client, product) = maxmind, shop
    caplog.set_level(logging.DEBUG)
    configure(server.host)
    fraud = place(api, client, product, ip=RISKY_IP)
    state.scores[CLEAN_IP] = 1.0
    passed = place(api, client, product)
    admin_client.post("/admin/orders/order/fraud-check/", data={
        "id": str(passed.id), "expected_version": str(passed.version), "url": "/admin/orders/"})
    configure(server.host, key="another-secret-key-77")  # a rejected key: its error is stored
    failed = place(api, client, product)
    texts = [admin_client.get(path).get_data(as_text=True) for path in (
        f"/admin/orders/details/?id={fraud.id}", f"/admin/orders/details/?id={passed.id}",
        f"/admin/orders/details/?id={failed.id}", "/admin/fraud-protection/", "/admin/activity-log/",
        "/admin/orders/", "/admin/api-log/", "/admin/email_log/")]
    texts += [json.dumps(row) for row in db.session.scalars(select(OrderEvent.details))]
    texts += [json.dumps([c.raw, c.error, c.reasons, c.details])
              for c in db.session.scalars(select(FraudCheck))]
    texts += [e.body + e.subject for e in db.session.scalars(select(EmailLog))]
    texts += [e.message for e in db.session.scalars(select(ApiLogEntry))]
    texts += [json.dumps(o.fraud_output) for o in (fraud, passed, failed)]
    texts += [record.getMessage() for record in caplog.records]
    assert "Invalid account ID or license key" in " ".join(texts)
    for secret in (LICENSE_KEY, "another-secret-key-77"):
        assert not [t for t in texts if secret in t], secret


def test_order_fraud_check_api_runs_it_again(maxmind, shop, app_ctx):
    (server, state), (api, client, product) = maxmind, shop
    order = place(api, client, product)  # no module active yet: not checked
    credential, secret = make_credential([Permission.API_ACCESS, Permission.RUN_FRAUD_CHECK])
    db.session.commit()
    checker = Api(app_ctx.test_client(), credential.identifier, secret)
    assert checker.error("OrderFraudCheck", orderid=order.id) == "No Active Fraud Module"
    assert checker.error("OrderFraudCheck", orderid=999999) == "Order ID Not Found"
    configure(server.host)
    assert checker.error("OrderFraudCheck", orderid=order.id, ipaddress="not-an-ip").startswith("ipaddress")
    body = checker.ok("OrderFraudCheck", orderid=order.id, ipaddress=RISKY_IP)
    assert (body["module"], body["status"]) == ("maxmind", "Fail")
    assert json.loads(body["results"])["score"] == "87.50"
    assert state.transactions[-1][1]["device"]["ip_address"] == RISKY_IP
    db.session.expire_all()
    assert [c.verdict for c in checks(order)] == [FraudVerdict.FRAUD]
    assert db.session.get(Order, order.id).status == "Pending"  # recorded; the admin decides
    assert api.error("OrderFraudCheck", status=403, orderid=order.id).startswith("Invalid Permissions")


def test_run_fraud_check_and_the_settings_page_need_the_csrf_token(maxmind, shop, database_url, full_admin):
    from tests.test_csrf_default import shipped_app

    (server, _), (api, client, product) = maxmind, shop
    configure(server.host)
    order = place(api, client, product)
    order_id, version = order.id, order.version
    app = shipped_app(database_url)
    with app.app_context():
        admin = app.test_client(user=full_admin)
        form = {"id": order_id, "expected_version": version}
        assert admin.post("/admin/orders/order/fraud-check/", data=form).status_code == 400
        assert admin.post("/admin/fraud-protection/", data={"active_module": "none"}).status_code == 400
        db.session.remove()
    db.session.expire_all()
    assert len(checks(db.session.get(Order, order_id))) == 1  # only placement's
    assert db.session.get(Setting, "fraud_module").value == "maxmind"
