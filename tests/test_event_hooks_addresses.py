"""Where an event hook endpoint may point (docs/hooks.md): public addresses, and internal ones only
in the networks the install allows (HOOK_ALLOWED_NETWORKS; by default none in production, this
host in the embedded mode) - refused when the endpoint is saved if the URL names an address, and
at every delivery once its host name is resolved. Error texts leave out the URL's query string."""

import socket

import pytest

from actions.hook_events import HookEndpointError, check_url
from config import hook_allowed_networks
from models.bounds import parse_networks
from modules.event_hooks import deliver, shown_error, url_problem
from tests.conftest import make_test_app
from tests.modules_support.hook_receiver import HookReceiverHandler, ReceiverState
from tests.modules_support.http_stub import StubServer

ENVELOPE = {"id": "evt_1", "type": "test.ping", "occurred_at": "2026-12-01T00:00:00+00:00", "data": {}}


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hooks", "http://localhost/x", "http://api.LOCALHOST./x", "http://10.1.2.3/",
    "http://192.168.0.10/", "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
])
def test_internal_addresses_are_refused_unless_allowed(url):
    assert "is an internal address" in url_problem(url)
    everything = parse_networks("0.0.0.0/0 ::/0")
    assert url_problem(url, everything) is None


def test_public_addresses_and_host_names_pass_when_saved():
    assert url_problem("https://93.184.216.34/hooks") is None
    assert url_problem("https://[2606:2800:220:1:248:1893:25c8:1946]/hooks") is None
    assert url_problem("https://hooks.example.com/x") is None  # resolved at each delivery
    assert url_problem("http://10.0.0.7/x", parse_networks("10.0.0.0/24")) is None
    assert "internal" in url_problem("http://10.0.1.7/x", parse_networks("10.0.0.0/24"))


def test_the_setting_by_mode_and_a_bad_value_stops_the_start():
    assert hook_allowed_networks({"ORDERDESK_ENV": "production"}) == []
    assert [str(n) for n in hook_allowed_networks({})] == ["127.0.0.0/8", "::1/128"]
    assert [str(n) for n in hook_allowed_networks({"ORDERDESK_ENV": "production",
                                                   "HOOK_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.5"})] == [
        "10.0.0.0/8", "192.168.1.5/32"]
    with pytest.raises(RuntimeError, match="HOOK_ALLOWED_NETWORKS: intranet is not an IP"):
        hook_allowed_networks({"HOOK_ALLOWED_NETWORKS": "intranet"})


def test_saving_an_endpoint_follows_the_install_setting(database_url):
    strict = make_test_app(database_url, HOOK_ALLOWED_NETWORKS="")
    with strict.app_context():
        with pytest.raises(HookEndpointError, match="127.0.0.1 is an internal address"):
            check_url("http://127.0.0.1:9000/hooks")
        assert check_url("https://hooks.example.com/x") == "https://hooks.example.com/x"
    with make_test_app(database_url).app_context():  # the embedded mode: this host's receivers
        assert check_url("http://127.0.0.1:9000/hooks") == "http://127.0.0.1:9000/hooks"


def test_a_delivery_checks_the_resolved_addresses_and_sends_nothing_inside(monkeypatch):
    state = ReceiverState(secret="whsec_test")
    with StubServer(HookReceiverHandler, state) as receiver:
        refused = deliver(receiver.url + "/in", "whsec_test", ENVELOPE, 5)
        assert not refused.success and not refused.retryable and "internal address" in refused.message
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
            "127.0.0.1" if host == "hooks.example.test" else host, *a, **k))
        renamed = deliver(f"http://hooks.example.test:{receiver.port}/in", "whsec_test", ENVELOPE, 5)
        assert not renamed.success
        assert "hooks.example.test (127.0.0.1) is an internal address" in renamed.message
        assert state.requests == 0
        allowed = deliver(receiver.url + "/in", "whsec_test", ENVELOPE, 5, parse_networks("127.0.0.1"))
        assert allowed.success and state.requests == 1


def test_error_texts_leave_out_the_query_string():
    url = "https://hooks.example.com/in?token=s3cr3t-t0ken"
    assert shown_error("Could not connect: Max retries exceeded with url: /in?token=s3cr3t-t0ken",
                       url) == "Could not connect: Max retries exceeded with url: /in?…"
    closed = deliver("http://127.0.0.1:9/in?token=s3cr3t-t0ken", "whsec_x", ENVELOPE, 2,
                     parse_networks("127.0.0.1"))
    assert not closed.success and "s3cr3t" not in closed.message and "Could not connect" in closed.message
