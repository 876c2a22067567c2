"""Secrets are never copied in clear: a welcome email carries the service password to the client,
but the email log, the timeline, the side-effect rows, error texts and the logs never hold it,
and a read-only role finds it nowhere."""

import json
import logging

from sqlalchemy import select

from actions.hook_events import create_endpoint
from extensions import db
from models import (
    AutoSetup,
    EmailLog,
    EmailStatus,
    HookDelivery,
    HookEndpoint,
    OrderEvent,
    Server,
    SideEffect,
    SideEffectStatus,
)
from tests import factories
from tests.jobs_support import WEBHOOK_SECRET
from tests.modules_support.http_stub import JsonHandler, StubServer
from tests.test_order_page import PAGE, post

SERVICE_PASSWORD = "Tr0ub4dor-and-3-horses"


def stored_text(session) -> str:
    """Every email log row, timeline event, side-effect row and hook delivery, as the database holds them."""
    rows = []
    for model in (EmailLog, OrderEvent, SideEffect, HookDelivery):
        for row in session.scalars(select(model)):
            rows.append({column.key: getattr(row, column.key) for column in model.__table__.columns})
    return json.dumps(rows, default=str)


def accept_with_welcome(client, session, product, password=SERVICE_PASSWORD, server=None):
    order = factories.make_order(product=product)
    session.commit()
    prefix = f"service-{order.services[0].id}-"
    fields = {prefix + "run_create": "1", prefix + "send_welcome": "1", prefix + "password": password,
              prefix + "username": "ada42"}
    if server is not None:
        fields[prefix + "server_id"] = server.id
    response = post(client, "/order/accept/", order, with_options="1", **fields)
    assert response.status_code == 200
    db.session.expire_all()
    return order


def test_welcome_email_carries_the_password_but_no_stored_copy_does(
        admin_client, support_admin, client_as, session, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    product = factories.make_product(auto_setup=AutoSetup.ON_ACCEPT, module="manual")
    order = accept_with_welcome(admin_client, session, product)

    sent = [m for m in smtp.messages() if m["Subject"] == "New Account Information"]
    assert len(sent) == 1 and SERVICE_PASSWORD in sent[0].get_content()  # the client gets it
    log = session.scalar(select(EmailLog).where(EmailLog.subject == "New Account Information"))
    assert log.status == EmailStatus.SENT and "Username: ada42" in log.body
    assert "Password: [service password not stored]" in log.body
    assert SERVICE_PASSWORD not in stored_text(session)
    # What the app logged (aiosmtpd, the stand-in mail server, logs what it receives as "mail.log").
    app_logs = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records
                         if not record.name.startswith("mail.log"))
    assert SERVICE_PASSWORD not in app_logs

    support = client_as(support_admin)
    pages = [PAGE.format(order.id), "/admin/email_log/", f"/admin/email_log/details/?id={log.id}",
             f"/admin/services/details/?id={order.services[0].id}"]
    for url in pages:
        response = support.get(url)
        assert response.status_code == 200, url
        assert SERVICE_PASSWORD not in response.get_data(as_text=True), url


def test_a_retried_welcome_email_is_sent_with_the_password_again(admin_client, session, smtp):
    product = factories.make_product(auto_setup=AutoSetup.ON_ACCEPT, module="manual")
    order = accept_with_welcome(admin_client, session, product)
    log = session.scalar(select(EmailLog).where(EmailLog.subject == "New Account Information"))
    effect = session.scalar(select(SideEffect).where(SideEffect.target_type == "email",
                                                     SideEffect.target_id == log.id))
    effect.status = SideEffectStatus.FAILED  # as after a failed send
    session.commit()
    response = post(admin_client, "/side-effect/retry/", order, side_effect_id=effect.id)
    assert response.status_code == 200
    sent = [m for m in smtp.messages() if m["Subject"] == "New Account Information"]
    assert len(sent) == 2 and all(SERVICE_PASSWORD in m.get_content() for m in sent)
    assert SERVICE_PASSWORD not in stored_text(session)


class EchoingAutomation(JsonHandler):
    """An automation that repeats what it was sent in its error, as careless ones do."""

    def do_POST(self):  # noqa: N802 - http.server's name
        payload = json.loads(self.read_body())
        service = payload.get("service", {})
        self.send_json(422, {"success": False, "message": f"Refused account {service.get('username')} "
                                                          f"with password {service.get('password')}"})


def test_module_errors_never_store_the_password_they_echo(admin_client, session, monkeypatch):
    monkeypatch.setitem(admin_client.application.config, "SIDE_EFFECT_MAX_ATTEMPTS", 1)
    with StubServer(EchoingAutomation, None) as automation:
        server = Server(name="echo", module="webhook", url=automation.url + "/provision",
                        secret=WEBHOOK_SECRET)
        session.add(server)
        session.flush()
        product = factories.make_product(module="webhook", auto_setup=AutoSetup.ON_ACCEPT,
                                         default_server_id=server.id)
        accept_with_welcome(admin_client, session, product, server=server)
    effect = session.scalar(select(SideEffect).where(SideEffect.kind == "module_create"))
    assert effect.status == SideEffectStatus.FAILED
    assert effect.last_error == "Refused account ada42 with password [hidden]"
    # ... nor the Automatic Setup Failed email to the admins, which quotes the error.
    assert session.scalar(select(EmailLog).where(EmailLog.template == "Automatic Setup Failed")) is not None
    assert SERVICE_PASSWORD not in stored_text(session)


class SecretEchoingReceiver(JsonHandler):
    """An event hook receiver that answers an error quoting the key it checks with, as a
    misconfigured one might (the test tells it the endpoint's secret)."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.read_body()
        self.send_json(400, {"error": f"bad signature for key {self.server.state['secret']}"})


def test_hook_delivery_errors_never_store_the_secret_a_receiver_echoes(admin_client, session, monkeypatch):
    monkeypatch.setitem(admin_client.application.config, "SIDE_EFFECT_MAX_ATTEMPTS", 1)
    state = {}
    with StubServer(SecretEchoingReceiver, state) as receiver:
        endpoint, state["secret"] = create_endpoint(session, receiver.url, ["order.accepted"])
        session.commit()
        order = accept_with_welcome(admin_client, session, factories.make_product(module="manual"))
    endpoint = session.get(HookEndpoint, endpoint.id)
    delivery = session.scalars(select(HookDelivery)).one()
    assert delivery.status_code == 400 and "bad signature for key [hidden]" in delivery.error
    assert "[hidden]" in endpoint.last_error and state["secret"] not in endpoint.last_error
    effect = session.scalar(select(SideEffect).where(SideEffect.kind == "hook_delivery"))
    assert effect.status == SideEffectStatus.FAILED and effect.payload["data"]["order"]["id"] == order.id
    assert state["secret"] not in stored_text(session) and SERVICE_PASSWORD not in stored_text(session)


CUSTOM_PASSWORD = "Custom-Root-Pa55-90210"


class EchoingCustomFields(JsonHandler):
    """An automation that repeats the custom fields it was sent in its error."""

    def do_POST(self):  # noqa: N802 - http.server's name
        payload = json.loads(self.read_body())
        fields = payload.get("service", {}).get("customfields", {})
        self.send_json(422, {"success": False, "message": f"Refused: {json.dumps(fields, sort_keys=True)}"})


def test_a_password_custom_field_reaches_the_module_but_no_stored_copy_or_page(
        admin_client, support_admin, client_as, session, monkeypatch, caplog):
    from models import CustomField, CustomFieldValue

    caplog.set_level(logging.DEBUG)
    monkeypatch.setitem(admin_client.application.config, "SIDE_EFFECT_MAX_ATTEMPTS", 1)
    with StubServer(EchoingCustomFields, None) as automation:
        server = Server(name="echo", module="webhook", url=automation.url + "/provision",
                        secret=WEBHOOK_SECRET)
        session.add(server)
        session.flush()
        product = factories.make_product(module="webhook", auto_setup=AutoSetup.ON_ACCEPT,
                                         default_server_id=server.id)
        order = factories.make_order(product=product)
        root = CustomField(applies_to="product", product=product, name="Root password", field_type="password")
        order.services[0].custom_field_values.append(CustomFieldValue(field=root, secret=CUSTOM_PASSWORD))
        session.commit()
        prefix = f"service-{order.services[0].id}-"
        response = post(admin_client, "/order/accept/", order, with_options="1",
                        **{prefix + "run_create": "1", prefix + "server_id": server.id})
        assert response.status_code == 200
    db.session.expire_all()
    effect = session.scalar(select(SideEffect).where(SideEffect.kind == "module_create"))
    assert effect.status == SideEffectStatus.FAILED
    # The module was sent the password (the automation echoed it back), and the error lost it.
    assert effect.last_error == 'Refused: {"Root password": "[hidden]"}'
    assert CUSTOM_PASSWORD not in stored_text(session)
    app_logs = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records
                         if not record.name.startswith("mail.log"))
    assert CUSTOM_PASSWORD not in app_logs
    support = client_as(support_admin)
    for client in (admin_client, support):
        for url in (PAGE.format(order.id), f"/admin/services/details/?id={order.services[0].id}"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert CUSTOM_PASSWORD not in response.get_data(as_text=True), url
