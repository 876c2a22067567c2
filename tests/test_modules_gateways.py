"""Gateway modules: bank transfer, and Stripe through the real SDK against a local HTTPS stub."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modules.base import ClientInfo, PaymentParams
from modules.gateways.money import from_minor_units, to_minor_units
from modules.registry import get_gateway_module
from tests.modules_support.http_stub import StubServer
from tests.modules_support.stripe_stub import API_KEY, DECLINED_CARD, StripeHandler, StripeState
from tests.modules_support.tls import make_certificate, server_context

CLIENT = ClientInfo(id=1, name="Ada Lovelace", email="ada@example.com")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("stripe-tls"))


@pytest.fixture
def stripe_stub(certificate):
    state = StripeState()
    state.add_payment("pi_paid1", 5000)
    with StubServer(StripeHandler, state, tls=server_context(*certificate)) as server:
        yield server, state


def settings(server, certificate, **extra):
    return {
        "secret_key": API_KEY,
        "api_base": server.url,
        "ca_bundle": str(certificate[0]),
        "timeout": 5,
        **extra,
    }


def refund_params(gateway_settings, amount="20.00", key="refund-inv42-1", transaction_id="pi_paid1"):
    return PaymentParams(
        invoice_id=42,
        amount=Decimal(amount),
        currency="USD",
        gateway_settings=gateway_settings,
        transaction_id=transaction_id,
        client=CLIENT,
        idempotency_key=key,
    )


def test_bank_transfer_cannot_refund_or_capture():
    bank = get_gateway_module("banktransfer")
    assert bank.supports_refund is False and bank.supports_capture is False
    result = bank.refund(refund_params({}))
    assert not result.success and not result.retryable
    assert result.message == "Bank Transfer cannot refund payments automatically"
    assert not bank.capture(refund_params({})).success


def test_stripe_declares_refund_and_capture_support():
    stripe_module = get_gateway_module("stripe")
    assert stripe_module.supports_refund and stripe_module.supports_capture


def test_refund_twice_with_same_key_refunds_once(stripe_stub, certificate):
    server, state = stripe_stub
    module = get_gateway_module("stripe")
    params = refund_params(settings(server, certificate))

    first = module.refund(params)
    second = module.refund(params)

    assert first.success and second.success, (first.message, second.message)
    assert first.data["refund_id"] == second.data["refund_id"]
    assert first.data["amount"] == 2000
    assert len(state.refunds) == 1
    assert state.refunds[0]["metadata"] == {"invoice_id": "42"}
    assert state.payments["pi_paid1"]["refunded"] == 2000
    assert state.requests == [("/v1/refunds", "refund-inv42-1")] * 2


def test_refund_by_charge_id_and_different_keys_refund_separately(stripe_stub, certificate):
    server, state = stripe_stub
    module = get_gateway_module("stripe")
    gateway = settings(server, certificate)
    assert module.refund(refund_params(gateway, "10.00", "k-a", transaction_id="ch_paid1")).success
    assert module.refund(refund_params(gateway, "10.00", "k-b")).success
    assert [r["amount"] for r in state.refunds] == [1000, 1000]
    assert state.payments["pi_paid1"]["refunded"] == 2000


def test_refunding_more_than_paid_is_a_final_failure(stripe_stub, certificate):
    server, state = stripe_stub
    result = get_gateway_module("stripe").refund(refund_params(settings(server, certificate), "60.00"))
    assert not result.success and not result.retryable
    assert result.data["code"] == "amount_too_large"
    assert state.refunds == []


def test_reusing_a_key_with_other_parameters_is_refused(stripe_stub, certificate):
    server, state = stripe_stub
    module = get_gateway_module("stripe")
    gateway = settings(server, certificate)
    assert module.refund(refund_params(gateway, "10.00")).success
    clash = module.refund(refund_params(gateway, "11.00"))
    assert not clash.success and not clash.retryable
    assert len(state.refunds) == 1


def test_server_error_is_retryable_then_the_retry_refunds_once(stripe_stub, certificate):
    server, state = stripe_stub
    state.fail_next.append(500)
    module = get_gateway_module("stripe")
    params = refund_params(settings(server, certificate))
    failed = module.refund(params)
    assert not failed.success and failed.retryable
    assert module.refund(params).success
    assert len(state.refunds) == 1


def test_unreachable_stripe_is_retryable(certificate):
    with StubServer(StripeHandler, StripeState(), tls=server_context(*certificate)) as server:
        gateway = settings(server, certificate)
    result = get_gateway_module("stripe").refund(refund_params(gateway))
    assert not result.success and result.retryable


def test_untrusted_certificate_is_not_retryable(stripe_stub, certificate):
    server, state = stripe_stub
    gateway = settings(server, certificate)
    del gateway["ca_bundle"]  # the SDK's own CA bundle does not know our stub
    result = get_gateway_module("stripe").refund(refund_params(gateway))
    assert not result.success and not result.retryable
    assert state.refunds == []


def test_wrong_api_key_is_not_retryable(stripe_stub, certificate):
    server, _ = stripe_stub
    result = get_gateway_module("stripe").refund(
        refund_params(settings(server, certificate, secret_key="sk_test_wrong"))
    )
    assert not result.success and not result.retryable
    assert result.data["http_status"] == 401


def test_refund_refuses_bad_input_before_calling_stripe(stripe_stub, certificate):
    server, state = stripe_stub
    module = get_gateway_module("stripe")
    gateway = settings(server, certificate)
    assert not module.refund(refund_params(gateway, transaction_id="TXN-123")).success
    assert not module.refund(refund_params(gateway, amount="10.005")).success
    assert not module.refund(refund_params({})).success  # no secret key
    assert state.requests == []


def capture_params(gateway_settings, payment_method="pm_card_visa", key="capture-inv42-1"):
    return PaymentParams(
        invoice_id=42,
        amount=Decimal("49.95"),
        currency="EUR",
        gateway_settings=gateway_settings,
        client=CLIENT,
        idempotency_key=key,
        customer_id="cus_ada",
        payment_method_id=payment_method,
    )


def test_capture_charges_saved_card_once_per_key(stripe_stub, certificate):
    server, state = stripe_stub
    module = get_gateway_module("stripe")
    params = capture_params(settings(server, certificate))
    first = module.capture(params)
    second = module.capture(params)
    assert first.success and first.data == second.data
    assert first.data["status"] == "succeeded"
    assert first.data["payment_intent_id"].startswith("pi_")
    assert first.data["charge_id"].startswith("ch_")
    [intent] = state.intents
    assert intent["amount"] == 4995 and intent["currency"] == "eur"
    assert intent["off_session"] == "true" and intent["confirm"] == "true"
    assert intent["customer"] == "cus_ada" and intent["payment_method"] == "pm_card_visa"
    # The captured payment can then be refunded through the same module.
    refund = module.refund(
        refund_params(params.gateway_settings, "49.95", "refund-2", first.data["payment_intent_id"])
    )
    assert refund.success


def test_declined_card_is_a_final_failure(stripe_stub, certificate):
    server, _ = stripe_stub
    result = get_gateway_module("stripe").capture(
        capture_params(settings(server, certificate), DECLINED_CARD)
    )
    assert not result.success and not result.retryable
    assert "declined" in result.message
    assert result.data["decline_code"] == "generic_decline"
    assert result.data["payment_intent_id"].startswith("pi_")


def test_capture_without_saved_card_is_refused():
    params = capture_params({"secret_key": API_KEY}, payment_method="")
    result = get_gateway_module("stripe").capture(params)
    assert not result.success and not result.retryable


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("12.34", "USD", 1234), ("500", "JPY", 500), ("1.234", "KWD", 1234), ("0.10", "eur", 10)],
)
def test_minor_units_round_trip(amount, currency, units):
    assert to_minor_units(Decimal(amount), currency) == units
    assert from_minor_units(units, currency) == Decimal(amount)


def test_minor_units_refuse_rounding_and_floats():
    with pytest.raises(ValueError):
        to_minor_units(Decimal("1.5"), "JPY")
    with pytest.raises(TypeError):
        to_minor_units(12.34, "USD")
