"""Fraud modules: 'none', and MaxMind through the official minfraud client against a local HTTPS stub."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from modules.base import ClientInfo, FraudParams
from modules.registry import get_fraud_module
from tests.modules_support.http_stub import StubServer
from tests.modules_support.maxmind_stub import ACCOUNT_ID, LICENSE_KEY, MaxMindHandler, MaxMindState
from tests.modules_support.tls import make_certificate, server_context

CLEAN_IP, RISKY_IP = "81.2.69.160", "185.220.101.1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("maxmind-tls"))


@pytest.fixture
def maxmind(certificate, monkeypatch):
    # minfraud.Client always speaks HTTPS and has no CA option; requests honours
    # REQUESTS_CA_BUNDLE, which is also how operators trust a private CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    state = MaxMindState()
    state.scores = {CLEAN_IP: 0.49, RISKY_IP: 87.5}
    with StubServer(MaxMindHandler, state, tls=server_context(*certificate)) as server:
        yield server, state


def params(host, ip=CLEAN_IP, threshold="20", **settings):
    return FraudParams(
        order_id=1001,
        client=ClientInfo(
            id=1, name="Ada Lovelace", email="Ada@Example.com", company="Engines Ltd", country="gb"
        ),
        ip_address=ip,
        amount=Decimal("49.95"),
        currency="usd",
        threshold=Decimal(threshold),
        settings={
            "account_id": ACCOUNT_ID,
            "license_key": LICENSE_KEY,
            "host": host,
            "timeout": 5,
            **settings,
        },
        user_agent="Mozilla/5.0",
    )


def test_low_score_passes(maxmind):
    server, state = maxmind
    result = get_fraud_module("maxmind").check(params(server.host))
    assert result.checked, result.error
    assert result.score == Decimal("0.49") and isinstance(result.score, Decimal)
    assert result.is_fraud is False and result.reasons == []
    assert result.raw["risk_score"] == 0.49
    [(path, sent)] = state.transactions
    assert path == "/minfraud/v2.0/score"
    assert sent["device"] == {"ip_address": CLEAN_IP, "user_agent": "Mozilla/5.0"}
    assert sent["order"] == {"amount": 49.95, "currency": "USD"}
    assert sent["billing"] == {"country": "GB", "company": "Engines Ltd"}
    assert sent["event"] == {"transaction_id": "1001", "type": "purchase"}
    # The address goes out hashed (normalised, then MD5); the domain stays readable.
    assert sent["email"]["address"] == hashlib.md5(b"ada@example.com").hexdigest()
    assert sent["email"]["domain"] == "example.com"


def test_score_above_threshold_is_fraud(maxmind):
    server, _ = maxmind
    result = get_fraud_module("maxmind").check(params(server.host, ip=RISKY_IP))
    assert result.is_fraud is True
    assert result.score == Decimal("87.5")
    assert result.reasons == ["Risk score 87.5 is above the threshold 20"]


def test_threshold_decides(maxmind):
    server, _ = maxmind
    module = get_fraud_module("maxmind")
    assert module.check(params(server.host, ip=RISKY_IP, threshold="90")).is_fraud is False
    assert (
        module.check(params(server.host, ip=RISKY_IP, threshold="87.5")).is_fraud is False
    )  # strictly above
    assert module.check(params(server.host, ip=CLEAN_IP, threshold="0.1")).is_fraud is True


def test_custom_rule_reject_is_fraud_even_below_threshold(maxmind):
    server, state = maxmind
    state.disposition = {"action": "reject", "reason": "custom_rule", "rule_label": "Block TOR"}
    result = get_fraud_module("maxmind").check(params(server.host))
    assert result.is_fraud is True
    assert "Block TOR" in result.reasons[0]


def test_factors_service_reports_reasons(maxmind):
    server, state = maxmind
    result = get_fraud_module("maxmind").check(params(server.host, ip=RISKY_IP, service="factors"))
    assert state.transactions[0][0] == "/minfraud/v2.0/factors"
    assert result.is_fraud
    assert "Risk due to IP being an Anonymous IP" in result.reasons


def test_bad_licence_is_an_error_not_a_verdict(maxmind):
    server, _ = maxmind
    result = get_fraud_module("maxmind").check(params(server.host, license_key="wrong"))
    assert not result.checked and result.is_fraud is False
    assert "Invalid account ID or license key" in result.error


def test_unreachable_service_is_an_error(certificate, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    with StubServer(MaxMindHandler, MaxMindState(), tls=server_context(*certificate)) as server:
        host = server.host
    result = get_fraud_module("maxmind").check(params(host))
    assert not result.checked and "unreachable" in result.error


def test_missing_configuration_is_an_error():
    result = get_fraud_module("maxmind").check(params("127.0.0.1:9", account_id=None))
    assert not result.checked and "not configured" in result.error


def test_none_module_scores_zero():
    result = get_fraud_module("none").check(params("unused"))
    assert result.score == Decimal(0) and result.is_fraud is False and result.checked
