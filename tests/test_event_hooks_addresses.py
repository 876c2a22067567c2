"""Where an event hook endpoint may point (docs/hooks.md): public addresses, and internal ones only
in the networks the install allows (HOOK_ALLOWED_NETWORKS; by default none in production, this
host in the embedded mode) - refused when the endpoint is saved if the URL names an address, and
at every delivery once its host name is resolved. Error texts leave out the URL's query string."""

import socket

import pytest
import requests

from actions.hook_events import HookEndpointError, check_url
from config import hook_allowed_networks
from models.bounds import parse_networks
from modules.event_hooks import checked_session, deliver, shown_error, url_problem
from tests.conftest import make_test_app
from tests.modules_support.hook_receiver import HookReceiverHandler, ReceiverState
from tests.modules_support.http_stub import StubServer
from tests.modules_support.tls import make_certificate, server_context

ENVELOPE = {"id": "evt_1", "type": "test.ping", "occurred_at": "2026-12-01T00:00:00+00:00", "data": {}}


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hooks", "http://localhost/x", "http://api.LOCALHOST./x", "http://10.1.2.3/",
    "http://192.168.0.10/", "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/", "http://[fe80::1]/", "http://224.0.0.1/",
    # IPv4 inside IPv6: NAT64 (64:ff9b::10.0.0.5 reaches 10.0.0.5), 6to4, IPv4-compatible; site-local
    "http://[64:ff9b::a00:5]/", "http://[2002:a00:5::1]/", "http://[::a00:5]/", "http://[fec0::1]/",
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


def test_a_name_that_rebinds_after_the_check_cannot_reach_the_inside(monkeypatch):
    """DNS rebinding: an allowed address when first asked (127.0.0.2 here, standing for a public
    one, so nothing leaves this host), 127.0.0.1 from then on, where the receiver listens and which
    is not allowed. The connection goes to the address that was checked, so no later answer can
    send the event inside."""
    state = ReceiverState(secret="whsec_test")
    with StubServer(HookReceiverHandler, state) as receiver:
        real = socket.getaddrinfo
        asked = []

        def rebinding(host, *args, **kwargs):
            if host != "rebind.example.test":
                return real(host, *args, **kwargs)
            asked.append(host)
            return real("127.0.0.2" if len(asked) == 1 else "127.0.0.1", *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        result = deliver(f"http://rebind.example.test:{receiver.port}/in", "whsec_test", ENVELOPE, 2,
                         parse_networks("127.0.0.2"))
        assert state.requests == 0
        assert len(asked) == 1  # one resolution, checked and connected to
        assert not result.success and result.retryable  # nobody listens on 127.0.0.2
        assert "Could not connect" in result.message


def test_a_delivery_connects_to_the_checked_address_and_keeps_the_host_name(monkeypatch):
    state = ReceiverState(secret="whsec_test")
    with StubServer(HookReceiverHandler, state) as receiver:
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
            "127.0.0.1" if host == "hooks.example.test" else host, *a, **k))
        delivered = deliver(f"http://hooks.example.test:{receiver.port}/in", "whsec_test", ENVELOPE, 5,
                            parse_networks("127.0.0.1"))
        assert delivered.success and state.requests == 1
        assert state.received[-1].host == f"hooks.example.test:{receiver.port}"


def test_a_name_with_several_addresses_is_tried_at_each_in_turn(monkeypatch):
    """As urllib3 does: the first address refuses (nobody on 127.0.0.2), the second is the receiver."""
    state = ReceiverState(secret="whsec_test")
    with StubServer(HookReceiverHandler, state) as receiver:
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: (
            real("127.0.0.2", *a, **k) + real("127.0.0.1", *a, **k)) if host == "two.example.test"
            else real(host, *a, **k))
        delivered = deliver(f"http://two.example.test:{receiver.port}/in", "whsec_test", ENVELOPE, 5,
                            parse_networks("127.0.0.0/8"))
        assert delivered.success and len(state.received) == 1


def test_a_delivery_ignores_the_proxy_of_the_environment(monkeypatch):
    """The check is on the address connected to, so a proxy named in the environment is not used
    (it would connect wherever the name points from where it stands)."""
    state, proxied = ReceiverState(secret="whsec_test"), ReceiverState(secret="whsec_test")
    with (StubServer(HookReceiverHandler, state) as receiver,
          StubServer(HookReceiverHandler, proxied) as proxy):
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
            "127.0.0.1" if host == "hooks.example.test" else host, *a, **k))
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        delivered = deliver(f"http://hooks.example.test:{receiver.port}/in", "whsec_test", ENVELOPE, 5,
                            parse_networks("127.0.0.1"))
        assert delivered.success and len(state.received) == 1
        assert proxied.requests == 0


def test_tls_checks_the_certificate_against_the_url_host_name_not_the_address(monkeypatch, tmp_path):
    """The checked connection dials an address, but TLS still names and verifies the URL's host:
    the stub's certificate is for localhost and 127.0.0.1, so the same address under another name
    must fail verification."""
    certificate, key = make_certificate(tmp_path)
    state = ReceiverState(secret="whsec_test")
    with StubServer(HookReceiverHandler, state, tls=server_context(certificate, key)) as receiver:
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
            "127.0.0.1" if host == "other.example.test" else host, *a, **k))
        with checked_session(parse_networks("127.0.0.1 ::1")) as session:
            assert session.post(f"https://localhost:{receiver.port}/in", data=b"{}", verify=str(certificate),
                                timeout=5).status_code == 200
            with pytest.raises(requests.exceptions.SSLError, match="other.example.test"):
                session.post(f"https://other.example.test:{receiver.port}/in", data=b"{}",
                             verify=str(certificate), timeout=5)
        assert len(state.received) == 1  # the handshake under the wrong name never got to a request


def test_error_texts_leave_out_the_query_string():
    url = "https://hooks.example.com/in?token=s3cr3t-t0ken"
    assert shown_error("Could not connect: Max retries exceeded with url: /in?token=s3cr3t-t0ken",
                       url) == "Could not connect: Max retries exceeded with url: /in?…"
    closed = deliver("http://127.0.0.1:9/in?token=s3cr3t-t0ken", "whsec_x", ENVELOPE, 2,
                     parse_networks("127.0.0.1"))
    assert not closed.success and "s3cr3t" not in closed.message and "Could not connect" in closed.message
