"""Stripe through the official SDK: refunds and off-session captures.

gateway_settings:
  secret_key            sk_live_... / sk_test_... (required)
  api_base              override https://api.stripe.com (tests, proxies)
  ca_bundle             CA file trusted for api_base (private CA, test stubs)
  timeout               seconds per request, default 30
  max_network_retries   SDK-level retries, default 0: the outbox already
                        retries with back-off, and one retry policy is easier
                        to reason about than two stacked ones.
Our idempotency key is sent as Stripe's Idempotency-Key, so a retried job
can never refund or charge twice.
"""

from __future__ import annotations

from typing import Any

import requests
import stripe

from modules.base import ModuleResult, PaymentParams
from modules.gateways.base import GatewayModule
from modules.gateways.money import to_minor_units

# Retryable: the request may not have reached Stripe, or Stripe asked us to wait.
_RETRYABLE = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


class StripeGateway(GatewayModule):
    name = "stripe"
    display_name = "Stripe"
    supports_refund = True
    supports_capture = True

    def refund(self, params: PaymentParams) -> ModuleResult:
        target = _refund_target(params.transaction_id)
        if target is None:
            return ModuleResult.fail(f"Not a Stripe payment id: {params.transaction_id!r}")
        info = _send(params, lambda client, options: client.v1.refunds.create(params={
            target: params.transaction_id,
            "amount": to_minor_units(params.amount, params.currency),
            "metadata": {"invoice_id": str(params.invoice_id)},
        }, options=options))
        if isinstance(info, ModuleResult):
            return info
        data = {"refund_id": info["id"], "status": info.get("status"), "amount": info.get("amount")}
        if data["status"] in ("failed", "canceled"):
            return ModuleResult(False, f"Stripe refund {info['id']} {data['status']}", data)
        return ModuleResult(True, f"Refunded through Stripe ({info['id']})", data)

    def capture(self, params: PaymentParams) -> ModuleResult:
        if not params.customer_id or not params.payment_method_id:
            return ModuleResult.fail("No saved Stripe card for this client")
        info = _send(params, lambda client, options: client.v1.payment_intents.create(params={
            "amount": to_minor_units(params.amount, params.currency),
            "currency": params.currency.lower(),
            "customer": params.customer_id,
            "payment_method": params.payment_method_id,
            "off_session": True,
            "confirm": True,
            # Off-session means nobody is there to follow a redirect.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "description": params.description or f"Invoice #{params.invoice_id}",
            "metadata": {"invoice_id": str(params.invoice_id)},
        }, options=options))
        if isinstance(info, ModuleResult):
            return info
        charge = info.get("latest_charge")
        data = {
            "payment_intent_id": info["id"],
            "charge_id": charge.get("id") if isinstance(charge, dict) else charge,
            "status": info.get("status"),
        }
        if data["status"] == "succeeded":
            return ModuleResult(True, f"Captured through Stripe ({info['id']})", data)
        # processing / requires_action: replaying the same key returns the same
        # answer, so retrying is pointless; the admin follows up.
        return ModuleResult(False, f"Stripe payment {info['id']} is {data['status']}", data)


def _send(params: PaymentParams, request) -> dict[str, Any] | ModuleResult:
    """One Stripe call, `request(client, options)`, with our idempotency key: the answer as a plain
    dict (Stripe objects are not dicts in SDK 16), or the failure as a ModuleResult."""
    try:
        return request(_client(params), _options(params)).to_dict()
    except (ValueError, TypeError) as exc:  # bad settings or amount: no retry fixes them
        return ModuleResult.fail(str(exc))
    except stripe.StripeError as exc:
        return _failure(exc)


def _refund_target(transaction_id: str) -> str | None:
    if transaction_id.startswith("pi_"):
        return "payment_intent"
    if transaction_id.startswith(("ch_", "py_")):
        return "charge"
    return None


def _client(params: PaymentParams) -> stripe.StripeClient:
    settings = params.gateway_settings
    secret_key = settings.get("secret_key")
    if not secret_key:
        raise ValueError("Stripe secret key is not configured")
    session = _TrustingSession(settings["ca_bundle"]) if settings.get("ca_bundle") else None
    http_client = stripe.RequestsClient(timeout=float(settings.get("timeout") or 30), session=session)
    bases = {"api": settings["api_base"].rstrip("/")} if settings.get("api_base") else None
    return stripe.StripeClient(
        secret_key,
        base_addresses=bases,
        http_client=http_client,
        max_network_retries=int(settings.get("max_network_retries") or 0),
    )


def _options(params: PaymentParams) -> dict[str, Any]:
    return {"idempotency_key": params.idempotency_key} if params.idempotency_key else {}


class _TrustingSession(requests.Session):
    """Trust one CA file for this client only.

    The SDK's RequestsClient passes ``verify=stripe.ca_bundle_path`` (a
    process-wide global) on every call; overriding it here keeps the choice
    per gateway instead of changing it for the whole process.
    """

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs["verify"] = self._ca_bundle
        return super().request(method, url, **kwargs)


def _failure(exc: stripe.StripeError) -> ModuleResult:
    message = exc.user_message or str(exc)
    error = exc.json_body.get("error", {}) if isinstance(exc.json_body, dict) else {}
    data: dict[str, Any] = {"http_status": exc.http_status, "code": exc.code}
    if error.get("decline_code"):
        data["decline_code"] = error["decline_code"]
    intent = error.get("payment_intent")
    if isinstance(intent, dict) and intent.get("id"):
        data["payment_intent_id"] = intent["id"]
    retryable = isinstance(exc, _RETRYABLE)
    if isinstance(exc, stripe.APIConnectionError):
        # SSL failures are flagged should_retry=False by the SDK: a retry won't fix them.
        retryable = exc.should_retry
    return ModuleResult.fail(f"Stripe: {message}", retryable=retryable, **data)
