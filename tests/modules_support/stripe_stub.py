"""A local stand-in for api.stripe.com: POST /v1/refunds and /v1/payment_intents.

Like Stripe, it honours Idempotency-Key: the same key with the same
parameters replays the stored response (nothing new is recorded); the same
key with different parameters is an idempotency_error.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from urllib.parse import parse_qsl

from tests.modules_support.http_stub import JsonHandler

API_KEY = "sk_test_orderdesk"
DECLINED_CARD = "pm_card_chargeDeclined"


class StripeState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        # Captured payments that can be refunded: id -> {amount, currency, refunded, charge}
        self.payments: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.intents: list[dict] = []
        self.idempotent: dict[str, tuple[str, dict, int, dict]] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Idempotency-Key)
        self.fail_next: deque[int] = deque()  # HTTP statuses to answer before doing anything

    def add_payment(self, intent_id: str, amount: int, currency: str = "usd") -> None:
        charge = f"ch_{intent_id[3:]}"
        self.payments[intent_id] = {"amount": amount, "currency": currency, "refunded": 0, "charge": charge}
        self.payments[charge] = self.payments[intent_id]

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_stub{next(self.ids):06d}"


def error(kind: str, message: str, code: str | None = None, **extra) -> dict:
    return {"error": {"type": kind, "message": message, "code": code, **extra}}


class StripeHandler(JsonHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server dispatches on this name
        state: StripeState = self.server.state
        params = dict(parse_qsl(self.read_body().decode(), keep_blank_values=True))
        key = self.headers.get("Idempotency-Key")
        with state.lock:
            state.requests.append((self.path, key))
            if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                self.send_json(401, error("invalid_request_error", "Invalid API Key provided"))
                return
            if state.fail_next:
                # An outage in front of the API: nothing executed, nothing stored.
                self.send_json(state.fail_next.popleft(), error("api_error", "Stripe is having a bad day"))
                return
            if key and key in state.idempotent:
                path, stored_params, status, body = state.idempotent[key]
                if (path, stored_params) != (self.path, params):
                    message = "Keys for idempotent requests can only be used with the same parameters"
                    self.send_json(400, error("idempotency_error", message))
                    return
                self.send_json(status, body, {"Idempotent-Replayed": "true"})
                return
            route = {"/v1/refunds": self.refund, "/v1/payment_intents": self.payment_intent}.get(self.path)
            if route is None:
                self.send_json(
                    404, error("invalid_request_error", f"Unrecognized request URL (POST: {self.path})")
                )
                return
            status, body = route(state, params)
            if key:
                state.idempotent[key] = (self.path, params, status, body)
            self.send_json(status, body)

    def refund(self, state: StripeState, params: dict) -> tuple[int, dict]:
        target = params.get("payment_intent") or params.get("charge")
        payment = state.payments.get(target or "")
        if payment is None:
            return 400, error("invalid_request_error", f"No such payment: '{target}'", "resource_missing")
        amount = int(params.get("amount") or payment["amount"] - payment["refunded"])
        if payment["refunded"] + amount > payment["amount"]:
            return 400, error(
                "invalid_request_error", "Refund amount is greater than unrefunded amount", "amount_too_large"
            )
        payment["refunded"] += amount
        refund = {
            "id": state.next_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": payment["currency"],
            "charge": payment["charge"],
            "payment_intent": params.get("payment_intent"),
            "status": "succeeded",
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
        }
        state.refunds.append(refund)
        return 200, refund

    def payment_intent(self, state: StripeState, params: dict) -> tuple[int, dict]:
        for required in ("amount", "currency", "customer", "payment_method"):
            if not params.get(required):
                return 400, error(
                    "invalid_request_error", f"Missing required param: {required}.", "parameter_missing"
                )
        intent_id = state.next_id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "customer": params["customer"],
            "payment_method": params["payment_method"],
            "status": "succeeded",
            "latest_charge": f"ch_{intent_id[3:]}",
            "off_session": params.get("off_session"),
            "confirm": params.get("confirm"),
        }
        if params["payment_method"] == DECLINED_CARD:
            intent.update(status="requires_payment_method", latest_charge=None)
            state.intents.append(intent)
            return 402, error(
                "card_error",
                "Your card was declined.",
                "card_declined",
                decline_code="generic_decline",
                payment_intent=intent,
            )
        state.intents.append(intent)
        state.add_payment(intent_id, intent["amount"], intent["currency"])
        return 200, intent
