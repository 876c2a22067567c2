"""MaxMind minFraud through the official ``minfraud`` client.

settings:
  account_id, license_key   required
  host                      default minfraud.maxmind.com (``host:port`` works;
                            the client always speaks HTTPS)
  service                   "score" (default), "insights" or "factors"
  timeout                   seconds, default 10
  reject_free_email, reject_country_mismatch, reject_anonymous_proxy   booleans; the answers
                            they read come with Insights and Factors only (Score has none)
  high_risk_countries       ISO codes: the IP's country (Insights/Factors) or the billing country
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
        return verdict(response, params.threshold, settings, params.client.country)


def transaction(params: FraudParams) -> dict[str, Any]:
    client = params.client
    return {
        "device": {
            "ip_address": params.ip_address or None,  # optional in minFraud v2 (an order without one)
            "user_agent": params.user_agent or None,
            "accept_language": params.accept_language or None,
        },
        # Screening runs before the order is written (no id yet); a re-run sends the order's id.
        "event": {"transaction_id": str(params.order_id) if params.order_id else None, "type": "purchase"},
        "email": {"address": client.email or None},
        "billing": {"country": client.country.upper() or None, "company": client.company or None},
        # The wire format is a JSON number; the Decimal stays our source of truth.
        "order": {"amount": float(params.amount), "currency": params.currency.upper()},
    }


def verdict(
    response: Any, threshold: Decimal, settings: dict | None = None, billing_country: str = ""
) -> FraudResult:
    score = Decimal(str(response.risk_score))
    reasons: list[str] = []
    if score > threshold:
        reasons.append(f"Risk score {score} is above the threshold {threshold}")
    action = response.disposition.action
    if action == "reject":
        label = response.disposition.rule_label or response.disposition.reason or "custom rule"
        reasons.append(f"minFraud custom rule rejected the order ({label})")
    raw = response.to_dict()
    details = readable(raw, billing_country)
    reasons.extend(rejections(details, settings or {}))
    is_fraud = bool(reasons)
    for factor in getattr(response, "risk_score_reasons", None) or []:
        reasons.extend(r.reason for r in factor.reasons if r.reason)
    return FraudResult(score=score, is_fraud=is_fraud, reasons=reasons, raw=raw, details=details)


def readable(raw: dict, billing_country: str = "") -> dict[str, Any]:
    """What an admin reads first, from the answer (None: the service did not say)."""
    ip = raw.get("ip_address") or {}
    country = ip.get("country") or {}
    traits = ip.get("traits") or {}
    email = raw.get("email") or {}
    billing = raw.get("billing_address") or {}
    anonymous = [label for key, label in _ANONYMISERS if traits.get(key)]
    return {
        "IP risk": ip.get("risk"),
        "IP country": country.get("iso_code"),
        "IP country name": (country.get("names") or {}).get("en"),
        "ISP": traits.get("isp"),
        "Organization": traits.get("organization"),
        "Anonymous proxy / VPN": (", ".join(anonymous) or "No") if traits else None,
        "Free email": email.get("is_free"),
        "Disposable email": email.get("is_disposable"),
        "High-risk email": email.get("is_high_risk"),
        "Billing country": billing_country.upper() or None,
        "Billing address in IP country": billing.get("is_in_ip_country"),
        "Billing postal code in city": billing.get("is_postal_in_city"),
        "Distance billing address to IP (km)": billing.get("distance_to_ip_location"),
        "Queries remaining": raw.get("queries_remaining"),
    }


_ANONYMISERS = (
    ("is_anonymous", "anonymous"),
    ("is_anonymous_vpn", "VPN"),
    ("is_hosting_provider", "hosting provider"),
    ("is_public_proxy", "public proxy"),
    ("is_residential_proxy", "residential proxy"),
    ("is_tor_exit_node", "Tor exit node"),
)


def rejections(details: dict, settings: dict) -> list[str]:
    """The operator's reject rules (WHMCS's Reject Free Email Service, ...) against the answer."""
    reasons = []
    if settings.get("reject_free_email") and details["Free email"]:
        reasons.append("The email address is from a free email service")
    if settings.get("reject_country_mismatch") and details["Billing address in IP country"] is False:
        reasons.append("The billing country does not match the IP address's country")
    if settings.get("reject_anonymous_proxy") and details["Anonymous proxy / VPN"] not in (None, "No"):
        reasons.append(f"The IP address is an anonymiser ({details['Anonymous proxy / VPN']})")
    risky = {code.upper() for code in settings.get("high_risk_countries") or []}
    for label in ("IP country", "Billing country"):
        if details[label] and details[label].upper() in risky:
            reasons.append(f"{label} {details[label]} is on the high-risk country list")
    return reasons


def _error(message: str) -> FraudResult:
    return FraudResult(score=Decimal(0), is_fraud=False, error=message)
