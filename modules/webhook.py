"""Signed webhook calls, shared by the webhook server and registrar modules.

Operators point a server or registrar at their own automation. Every call is
a JSON POST signed with HMAC-SHA256 over the raw body using a shared secret,
so the receiver can prove it came from Orderdesk (see docs/modules.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests
import urllib3.exceptions

from modules.base import ModuleResult

SIGNATURE_HEADER = "X-Orderdesk-Signature"
TIMESTAMP_HEADER = "X-Orderdesk-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TIMEOUT = 10.0
# An automation's answer is a small JSON object; reading more than this would let a broken or
# hostile endpoint fill the worker's memory (read decompressed, so a gzip bomb stops here too).
ANSWER_LIMIT_BYTES = 64 * 1024
# 408 and 429 mean "not now" rather than "no": worth another try.
_RETRYABLE_4XX = {408, 429}


def sign(body: bytes, secret: str) -> str:
    """Return the header value: ``sha256=<hex HMAC-SHA256(secret, body)>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is the signature of ``body``; constant-time compare."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())


def build_body(action: str, idempotency_key: str, timestamp: int, **sections: Any) -> bytes:
    """Serialise the payload exactly once; the signature covers these bytes."""
    payload = {"action": action, "idempotency_key": idempotency_key, **sections}
    payload["timestamp"] = timestamp
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def post_signed(
    url: str,
    secret: str,
    action: str,
    idempotency_key: str,
    sections: dict[str, Any],
    timeout: float | None = None,
) -> ModuleResult:
    """POST one signed action and translate the answer into a ModuleResult."""
    if not url:
        return ModuleResult.fail("No webhook URL is configured")
    if not secret:
        return ModuleResult.fail("No webhook secret is configured; refusing to send unsigned calls")
    timestamp = int(time.time())
    body = build_body(action, idempotency_key, timestamp, **sections)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret),
        TIMESTAMP_HEADER: str(timestamp),
        "User-Agent": "Orderdesk-Webhook/1",
    }
    if idempotency_key:
        headers[IDEMPOTENCY_HEADER] = idempotency_key
    try:
        # No redirects: a redirected POST would silently become a GET elsewhere.
        with requests.post(
            url, data=body, headers=headers, timeout=timeout or DEFAULT_TIMEOUT, allow_redirects=False,
            stream=True,
        ) as response:
            answer = response.raw.read(ANSWER_LIMIT_BYTES + 1, decode_content=True) or b""
    except requests.Timeout:
        return ModuleResult.fail(f"Webhook timed out after {timeout or DEFAULT_TIMEOUT:g}s", retryable=True)
    except requests.ConnectionError as exc:
        return ModuleResult.fail(f"Could not connect to webhook: {exc}", retryable=True)
    except requests.RequestException as exc:
        return ModuleResult.fail(f"Webhook request failed: {exc}")
    # Reading the answer: a read timeout or a reset is worth another try; bad gzip is not.
    except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError) as exc:
        return ModuleResult.fail(f"Webhook answer could not be read: {exc}", retryable=True)
    except urllib3.exceptions.HTTPError as exc:
        return ModuleResult.fail(f"Webhook answer could not be read: {exc}")
    # A success must be a small JSON object; any other answer is judged by its status, its start
    # read for a message (a 502's error page may well be larger).
    if len(answer) > ANSWER_LIMIT_BYTES and 200 <= response.status_code < 300:
        return ModuleResult.fail(f"Webhook answered more than {ANSWER_LIMIT_BYTES // 1024} KiB; "
                                 "it should answer a small JSON object", http_status=response.status_code)
    return _interpret(response, answer[:ANSWER_LIMIT_BYTES])


def _interpret(response: requests.Response, body: bytes) -> ModuleResult:
    status = response.status_code
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    message = ""
    if isinstance(answer, dict):
        message = str(answer.get("message") or answer.get("error") or "")
    if status >= 500:
        return ModuleResult.fail(
            message or f"Webhook server error (HTTP {status})", retryable=True, http_status=status
        )
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        return ModuleResult.fail(
            f"Webhook redirected (HTTP {status}) to {where}; update the URL", http_status=status
        )
    if status >= 400:
        return ModuleResult.fail(
            message or f"Webhook refused the call (HTTP {status})",
            retryable=status in _RETRYABLE_4XX,
            http_status=status,
        )
    if not isinstance(answer, dict):
        return ModuleResult.fail(
            f'Webhook answered HTTP {status} without a JSON object like {{"success": true}}'
        )
    if answer.get("success") is not True:
        return ModuleResult(success=False, message=message or "Webhook reported failure", data=_data(answer))
    return ModuleResult(success=True, message=message, data=_data(answer))


def _data(answer: dict[str, Any]) -> dict[str, Any]:
    # Extra fields the automation returns (e.g. the username it chose).
    data = answer.get("data")
    if isinstance(data, dict):
        return data
    return {k: v for k, v in answer.items() if k not in ("success", "message", "error")}
