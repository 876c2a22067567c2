"""Setup > Event Hooks: the endpoint form refuses bad URLs and events with a message and changes
nothing, the secret is shown once and encrypted at rest, Reveal and Rotate need their own
permission and a recent re-authentication, Send test event reaches a real receiver (in-process
jobs: no REDIS_URL) and the list shows the failure badge."""

import pytest
from sqlalchemy import func, select, text

from actions.encryption_rotation import encrypted_columns, rotation_batches
from actions.hook_events import create_endpoint
from extensions import db
from models import AdminSession, HookDelivery, HookEndpoint, SideEffect
from models.base import fernet_for
from tests import factories
from tests.modules_support.hook_receiver import HookReceiverHandler, ReceiverState
from tests.modules_support.http_stub import StubServer
from tests.test_jobs_faults import closed_port
from tests.test_key_rotation import NEW_KEY, OLD_KEY
from tests.test_reauthentication import CONFIRM, age_login

PAGES = "/admin/event-hooks"
ALL_EVENTS = ["order.placed", "order.accepted", "invoice.paid", "side_effect.failed"]


def create(client, url, events=("order.accepted",), **more):
    return client.post(f"{PAGES}/new/", data={"url": url, "events": list(events), "active": "1", **more})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def secret_of(page: str) -> str:
    return page.split('<code id="secret">', 1)[1].split("</code>", 1)[0]


@pytest.mark.parametrize(("url", "events", "message"), [
    ("ftp://example.com/x", ["order.accepted"], "must start with http:// or https://"),
    ("javascript:alert(1)", ["order.accepted"], "must start with http:// or https://"),
    ("http://", ["order.accepted"], "needs a host name"),
    ("", ["order.accepted"], "Enter the URL"),
    ("https://user:pw@example.com/", ["order.accepted"], "must not carry a user name"),
    ("http://example.com:99999/", ["order.accepted"], "not valid"),
    ("https://example.com/" + "x" * 2000, ["order.accepted"], "at most"),
    ("https://example.com/\r\nX-Evil: 1", ["order.accepted"], "line"),
    ("https://example.com/hook", ["order.exploded"], "Unknown event"),
    ("https://example.com/hook", [], "at least one event"),
])
def test_bad_urls_and_events_are_refused_with_a_message(admin_client, url, events, message):
    response = create(admin_client, url, events)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(HookEndpoint) == 0


def test_the_secret_is_shown_once_encrypted_at_rest_and_revealed_only_after_reauthentication(
        app_ctx, admin_client, full_admin, session, client_as, sales_admin):
    response = create(admin_client, "https://example.com/orderdesk", ALL_EVENTS, description="CRM")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = secret_of(response.get_data(as_text=True))
    endpoint = session.scalars(select(HookEndpoint)).one()
    assert endpoint.secret == secret and endpoint.events == ALL_EVENTS and endpoint.description == "CRM"
    raw = session.execute(text("SELECT secret FROM hook_endpoints")).scalar()
    assert raw and secret not in raw  # the column holds ciphertext only
    for page in (PAGES + "/", f"{PAGES}/edit/?id={endpoint.id}", f"{PAGES}/deliveries/?id={endpoint.id}"):
        body = admin_client.get(page).get_data(as_text=True)
        assert "example.com/orderdesk" in body and secret not in body

    # A Sales Operator may not open the pages, nor reveal (no Manage Event Hooks, no reveal permission).
    sales = client_as(sales_admin)
    assert sales.get(PAGES + "/").status_code == 403
    assert sales.post(f"{PAGES}/reveal/", data={"id": endpoint.id}).status_code == 403

    mine = select(AdminSession.id).where(AdminSession.admin_id == full_admin.id)
    admin_client.session_id = session.scalar(mine)
    age_login(session, admin_client)
    asked = admin_client.post(f"{PAGES}/reveal/", data={"id": endpoint.id})
    assert asked.status_code == 302 and asked.headers["Location"].startswith(CONFIRM)
    assert secret not in asked.get_data(as_text=True)
    confirmed = admin_client.post(asked.headers["Location"], data={"secret": factories.PASSWORD})
    assert confirmed.status_code == 302
    shown = admin_client.post(f"{PAGES}/reveal/", data={"id": endpoint.id})
    assert shown.status_code == 200 and secret_of(shown.get_data(as_text=True)) == secret
    rotated = admin_client.post(f"{PAGES}/rotate/", data={"id": endpoint.id})
    new_secret = secret_of(rotated.get_data(as_text=True))
    session.expire_all()
    assert new_secret != secret and session.get(HookEndpoint, endpoint.id).secret == new_secret


def test_the_number_of_endpoints_is_bounded(admin_client, session, monkeypatch):
    monkeypatch.setattr("actions.hook_events.MAX_ENDPOINTS", 2)
    assert create(admin_client, "https://example.com/1").status_code == 200
    assert create(admin_client, "https://example.com/2").status_code == 200
    refused = create(admin_client, "https://example.com/3")
    assert refused.status_code == 400 and "At most 2 endpoints" in refused.get_data(as_text=True)
    assert count(HookEndpoint) == 2


def test_edit_and_delete(admin_client, session):
    create(admin_client, "https://example.com/a")
    endpoint = session.scalars(select(HookEndpoint)).one()
    bad = admin_client.post(f"{PAGES}/edit/?id={endpoint.id}",
                            data={"url": "gopher://x", "events": "order.paid"})
    assert bad.status_code == 400
    ok = admin_client.post(f"{PAGES}/edit/?id={endpoint.id}",
                           data={"url": "https://example.com/b", "events": ["invoice.paid", "order.placed"]})
    assert ok.status_code == 302
    session.expire_all()
    endpoint = session.get(HookEndpoint, endpoint.id)
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        "https://example.com/b", ["order.placed", "invoice.paid"], False)
    assert admin_client.get(f"{PAGES}/edit/?id=999999").status_code == 404
    assert admin_client.get(f"{PAGES}/edit/?id=abc").status_code == 404
    assert admin_client.get(f"{PAGES}/deliveries/?id={endpoint.id}&page=-1").status_code == 302
    assert admin_client.post(f"{PAGES}/delete/", data={"id": endpoint.id}).status_code == 302
    assert count(HookEndpoint) == 0


def test_send_test_event_reaches_the_receiver_and_failures_show_on_the_list(admin_client, session):
    state = ReceiverState()
    with StubServer(HookReceiverHandler, state) as receiver:
        page = create(admin_client, receiver.url + "/in").get_data(as_text=True)
        state.secret = secret_of(page)
        endpoint = session.scalars(select(HookEndpoint)).one()
        sent = admin_client.post(f"{PAGES}/test/", data={"id": endpoint.id})
        assert sent.status_code == 302 and sent.headers["Location"].endswith(f"deliveries/?id={endpoint.id}")
    [got] = state.received
    assert got.verified and got.event_type == "test.ping"
    assert got.envelope["data"]["endpoint_id"] == endpoint.id
    log = admin_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "test.ping" in log and got.event_id in log and "delivered" in log

    endpoint.url = f"http://127.0.0.1:{closed_port()}/gone"  # the receiver goes away
    session.commit()
    for _ in range(2):
        admin_client.post(f"{PAGES}/test/", data={"id": endpoint.id})
    listing = admin_client.get(PAGES + "/").get_data(as_text=True)
    assert "2 failed in a row" in listing and "Could not connect" in listing
    assert count(HookDelivery) == 3 and count(SideEffect) == 3
    assert state.secret not in listing and state.secret not in admin_client.get(
        "/admin/side-effects/").get_data(as_text=True)


def test_key_rotation_re_encrypts_the_hook_secret(app_ctx, session):
    endpoint, secret = create_endpoint(session, "https://example.com/rotate", ["order.placed"])
    session.commit()
    assert ("hook_endpoints", "secret") in {(t.name, c.name) for t, c in encrypted_columns()}
    for _batch in rotation_batches(session, NEW_KEY, [OLD_KEY]):
        session.commit()
    raw = session.execute(text("SELECT secret FROM hook_endpoints")).scalar()
    assert fernet_for(NEW_KEY).decrypt(raw.encode()).decode() == secret
