"""Signed webhook server and registrar modules against a local receiver."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from modules.base import ClientInfo, DomainParams, ServerInfo, ServiceParams
from modules.registry import get_registrar_module, get_server_module
from modules.webhook import ANSWER_LIMIT_BYTES, build_body, sign, verify_signature
from tests.modules_support.http_stub import StubServer
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState

SECRET = "s3cret-shared-with-automation"


@pytest.fixture
def receiver():
    state = ReceiverState(SECRET)
    with StubServer(ReceiverHandler, state) as server:
        yield server, state


def service_params(
    url: str, secret: str = SECRET, timeout: float = 5.0, key: str = "svc-7-create"
) -> ServiceParams:
    return ServiceParams(
        service_id=7,
        order_id=3,
        client=ClientInfo(
            id=1, name="Ada Lovelace", email="ada@example.com", company="Engines Ltd", country="GB"
        ),
        product_name="Starter Hosting",
        product_type="hostingaccount",
        domain="ada.example",
        username="ada",
        password="pw-123",
        billing_cycle="Monthly",
        server=ServerInfo(
            id=2, name="web1", hostname="web1.example", url=url, secret=secret, timeout=timeout
        ),
        idempotency_key=key,
    )


def test_signature_matches_documented_algorithm():
    body = b'{"action":"create","idempotency_key":"k1","timestamp":1700000000}'
    independent = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == independent
    assert verify_signature(body, independent, SECRET)


def test_tampered_body_or_wrong_secret_fails_verification():
    body = build_body("create", "k1", 1700000000, service={"id": 7})
    header = sign(body, SECRET)
    tampered = body.replace(b'"id":7', b'"id":8')
    assert tampered != body
    assert not verify_signature(tampered, header, SECRET)
    assert not verify_signature(body, header, "another-secret")
    assert not verify_signature(body, "", SECRET)
    assert not verify_signature(body, None, SECRET)


def test_create_posts_signed_documented_body(receiver):
    server, state = receiver
    result = get_server_module("webhook").create(service_params(server.url))
    assert result.success, result.message
    assert result.data == {"username": "ada"}
    [body], [headers] = state.bodies, state.headers
    assert state.bad_signatures == 0
    assert body["action"] == "create"
    assert body["idempotency_key"] == "svc-7-create"
    assert body["service"]["id"] == 7 and body["service"]["username"] == "ada"
    assert body["service"]["server"] == {"id": 2, "name": "web1", "hostname": "web1.example"}
    assert body["client"]["email"] == "ada@example.com"
    assert headers["Idempotency-Key"] == "svc-7-create"
    assert headers["X-Orderdesk-Timestamp"] == str(body["timestamp"])
    assert SECRET not in json.dumps(body)


@pytest.mark.parametrize("action", ["suspend", "unsuspend", "terminate"])
def test_other_commands_send_their_action(receiver, action):
    server, state = receiver
    result = getattr(get_server_module("webhook"), action)(service_params(server.url, key=f"svc-7-{action}"))
    assert result.success
    assert state.bodies[0]["action"] == action


def test_timeout_then_500_are_retryable_then_success_runs_once(receiver):
    server, state = receiver
    state.plan("timeout", "500", "ok")
    module = get_server_module("webhook")
    params = service_params(server.url, timeout=0.5)

    first = module.create(params)
    assert state.hanging.is_set()
    assert not first.success and first.retryable
    assert "timed out" in first.message

    second = module.create(params)
    assert not second.success and second.retryable
    assert second.data["http_status"] == 500

    third = module.create(params)
    assert third.success and not third.retryable
    assert module.create(params).success  # a late duplicate is answered, not redone
    assert state.requests_per_key["svc-7-create"] == 4
    assert list(state.performed) == ["svc-7-create"]


def test_clear_refusal_is_not_retryable(receiver):
    server, state = receiver
    state.plan("refuse")
    result = get_server_module("webhook").create(service_params(server.url))
    assert not result.success and not result.retryable
    assert result.message == "Plan not available on this server"


@pytest.mark.parametrize(("step", "words"), [("redirect", "redirected"), ("html", "without a JSON object")])
def test_misconfigured_endpoint_is_a_final_failure(receiver, step, words):
    server, state = receiver
    state.plan(step)
    result = get_server_module("webhook").create(service_params(server.url))
    assert not result.success and not result.retryable
    assert words in result.message
    assert state.requests_per_key["svc-7-create"] == 1


def test_an_answer_over_the_limit_is_a_final_failure_not_read_whole(receiver):
    server, state = receiver
    state.plan("huge")  # a valid success, padded to 2 MiB
    result = get_server_module("webhook").create(service_params(server.url))
    assert not result.success and not result.retryable
    assert f"more than {ANSWER_LIMIT_BYTES // 1024} KiB" in result.message
    assert state.requests_per_key["svc-7-create"] == 1


def test_a_large_error_page_is_judged_by_its_status(receiver):
    server, state = receiver
    state.plan("huge-502", "ok")  # a proxy's 2 MiB error page: worth another try, like any 502
    module = get_server_module("webhook")
    failed = module.create(service_params(server.url))
    assert not failed.success and failed.retryable and failed.data["http_status"] == 502
    assert module.create(service_params(server.url)).success


def test_wrong_secret_is_rejected_by_receiver_and_not_retryable(receiver):
    server, state = receiver
    result = get_server_module("webhook").create(service_params(server.url, secret="not-the-secret"))
    assert not result.success and not result.retryable
    assert result.data["http_status"] == 401
    assert state.bad_signatures == 1 and not state.requests_per_key


def test_connection_refused_is_retryable():
    with StubServer(ReceiverHandler, ReceiverState(SECRET)) as server:
        url = server.url
    result = get_server_module("webhook").create(service_params(url, timeout=2))
    assert not result.success and result.retryable


def test_missing_server_or_secret_is_a_clear_failure():
    params = service_params("http://127.0.0.1:9", secret="")
    result = get_server_module("webhook").create(params)
    assert not result.success and not result.retryable and "secret" in result.message
    params.server = None
    assert not get_server_module("webhook").create(params).success


def test_registrar_webhook_register_and_transfer(receiver):
    server, state = receiver
    module = get_registrar_module("webhook")
    params = DomainParams(
        domain_id=11,
        order_id=3,
        client=ClientInfo(id=1, name="Ada Lovelace", email="ada@example.com"),
        name="ada.example",
        period_years=2,
        epp_code="EPP-XYZ",
        id_protection=True,
        registrar_settings={"url": server.url, "secret": SECRET, "timeout": 5},
        idempotency_key="dom-11-transfer",
    )
    assert module.transfer(params).success
    params.idempotency_key = "dom-11-register"
    assert module.register(params).success
    transfer, register = state.bodies
    assert transfer["action"] == "transfer" and register["action"] == "register"
    assert transfer["domain"]["name"] == "ada.example"
    assert transfer["domain"]["period_years"] == 2
    assert transfer["domain"]["epp_code"] == "EPP-XYZ"
    assert transfer["domain"]["id_protection"] is True
    assert state.requests_per_key == {"dom-11-transfer": 1, "dom-11-register": 1}
    assert state.bad_signatures == 0


def test_manual_modules_always_succeed_without_network():
    params = service_params("http://127.0.0.1:9")
    manual = get_server_module("manual")
    for command in (manual.create, manual.suspend, manual.unsuspend, manual.terminate):
        assert command(params).success
    assert (
        get_registrar_module("manual")
        .register(DomainParams(domain_id=1, order_id=1, client=params.client, name="x.example"))
        .success
    )
