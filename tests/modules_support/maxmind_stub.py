"""A local stand-in for minfraud.maxmind.com (score, insights, factors).

Scores are chosen per IP address so a test can steer the verdict; the
answers follow the shape of MaxMind's documented responses.
"""

from __future__ import annotations

import base64
import json
import threading

from tests.modules_support.http_stub import JsonHandler

ACCOUNT_ID = 123456
LICENSE_KEY = "test-licence-key"


class MaxMindState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scores: dict[str, float] = {}
        self.disposition: dict | None = None
        # Merged into Insights and Factors answers (email, billing_address, ip_address traits ...).
        self.insights: dict = {}
        self.transactions: list[tuple[str, dict]] = []  # (path, request body)


class MaxMindHandler(JsonHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server dispatches on this name
        state: MaxMindState = self.server.state
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_ID}:{LICENSE_KEY}".encode()).decode()
        body = json.loads(self.read_body() or b"{}")
        if self.headers.get("Authorization") != expected:
            self.send_json(
                401, {"code": "AUTHORIZATION_INVALID", "error": "Invalid account ID or license key"}
            )
            return
        service = self.path.rsplit("/", 1)[-1]
        if not self.path.startswith("/minfraud/v2.0/") or service not in ("score", "insights", "factors"):
            self.send_json(404, {"code": "PATH_NOT_FOUND", "error": f"No such path {self.path}"})
            return
        with state.lock:
            state.transactions.append((self.path, body))
            ip = body.get("device", {}).get("ip_address", "")
            score = state.scores.get(ip, 0.49)
            disposition = state.disposition
            insights = dict(state.insights)
        answer = {
            "id": "5bc5d6c2-b2c8-40af-87f4-6d61af86b6ae",
            "risk_score": score,
            "funds_remaining": 25.00,
            "queries_remaining": 5000,
            "ip_address": {"risk": min(score * 1.1, 99.0)},
            "warnings": [],
        }
        if disposition:
            answer["disposition"] = disposition
        if service == "factors":
            answer["risk_score_reasons"] = [
                {
                    "multiplier": 45.0,
                    "reasons": [{"code": "ANONYMOUS_IP", "reason": "Risk due to IP being an Anonymous IP"}],
                }
            ]
        if service in ("insights", "factors"):
            answer["ip_address"].update(country={"iso_code": "GB", "names": {"en": "United Kingdom"}})
            answer["ip_address"].update(insights.pop("ip_address", {}))
            answer.update(insights)
        self.send_json(200, answer)
