"""MaxMind minFraud through the official ``minfraud`` client.

settings:
  account_id, license_key   required
  host                      default minfraud.maxmind.com (``host:port`` works;
                            the client always speaks HTTPS)
  service                   "score" (default), "insights" or "factors"
  timeout                   seconds, default 10
A failed check never blocks the order by itself: the result carries ``error``
and the caller decides (the order then goes to Pending for a human).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import minfraud
import requests

from modules.base import FraudParams, FraudResult
from modules.fraud.base import FraudModule

_SERVICES = ("score", "insights", "factors")


class MaxMindFraud(FraudModule):
    name = "maxmind"
    display_name = "MaxMind minFraud"

    def check(self, params: FraudParams) -> FraudResult:
        settings = params.settings
        service = settings.get("service") or "score"
        if service not in _SERVICES:
            return _error(f"Unknown minFraud service {service!r}")
        if not settings.get("account_id") or not settings.get("license_key"):
            return _error("MaxMind account id and licence key are not configured")
        try:
            with minfraud.Client(
                int(settings["account_id"]),
                str(settings["license_key"]),
                host=settings.get("host") or "minfraud.maxmind.com",
                timeout=float(settings.get("timeout") or 10),
            ) as client:
                # hash_email: MaxMind gets an MD5 of the address, not the address.
                response = getattr(client, service)(transaction(params), hash_email=True)
        except minfraud.MinFraudError as exc:
            return _error(f"minFraud: {exc}")
        except requests.RequestException as exc:
            return _error(f"minFraud unreachable: {exc}")
        return verdict(response, params.threshold)


def transaction(params: FraudParams) -> dict[str, Any]:
    client = params.client
    return {
        "device": {
            "ip_address": params.ip_address,
            "user_agent": params.user_agent or None,
            "accept_language": params.accept_language or None,
        },
        "event": {"transaction_id": str(params.order_id), "type": "purchase"},
        "email": {"address": client.email or None},
        "billing": {"country": client.country.upper() or None, "company": client.company or None},
        # The wire format is a JSON number; the Decimal stays our source of truth.
        "order": {"amount": float(params.amount), "currency": params.currency.upper()},
    }


def verdict(response: Any, threshold: Decimal) -> FraudResult:
    score = Decimal(str(response.risk_score))
    reasons: list[str] = []
    if score > threshold:
        reasons.append(f"Risk score {score} is above the threshold {threshold}")
    action = response.disposition.action
    if action == "reject":
        label = response.disposition.rule_label or response.disposition.reason or "custom rule"
        reasons.append(f"minFraud custom rule rejected the order ({label})")
    is_fraud = bool(reasons)
    for factor in getattr(response, "risk_score_reasons", None) or []:
        reasons.extend(r.reason for r in factor.reasons if r.reason)
    return FraudResult(score=score, is_fraud=is_fraud, reasons=reasons, raw=response.to_dict())


def _error(message: str) -> FraudResult:
    return FraudResult(score=Decimal(0), is_fraud=False, error=message)
