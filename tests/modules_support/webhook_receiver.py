"""An operator's automation endpoint, as documented in docs/modules.md.

It checks the signature with its own hmac code (not modules.webhook), counts
requests per idempotency key, performs each key's action at most once, and
can be scripted to hang ("timeout"), fail ("500"), refuse ("refuse"),
redirect ("redirect"), answer a web page ("html"), a success padded to 2 MiB ("huge"), a 502
error page of 2 MiB ("huge-502") or succeed ("ok"); "hold" and
"hold-500" park the request until `release` is set, then succeed / fail.
`accounts` counts live accounts per service id: +1 for each create performed,
-1 for each terminate performed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter, deque

from tests.modules_support.http_stub import JsonHandler


class ReceiverState:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.script: deque[str] = deque()
        self.lock = threading.Lock()
        self.requests_per_key: Counter[str] = Counter()
        self.bad_signatures = 0
        self.performed: dict[str, dict] = {}  # idempotency key -> the result we gave
        self.accounts: Counter[int] = Counter()  # service id -> live accounts
        self.bodies: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.hanging = threading.Event()  # set when a "timeout" handler is parked
        self.release = threading.Event()  # set to let parked handlers go

    def plan(self, *steps: str) -> None:
        self.script.extend(steps)


class ReceiverHandler(JsonHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server dispatches on this name
        state: ReceiverState = self.server.state
        raw = self.read_body()
        expected = "sha256=" + hmac.new(state.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Orderdesk-Signature", "")):
            with state.lock:
                state.bad_signatures += 1
            self.send_json(401, {"success": False, "message": "Bad signature"})
            return
        payload = json.loads(raw)
        key = payload["idempotency_key"]
        with state.lock:
            state.requests_per_key[key] += 1
            state.bodies.append(payload)
            state.headers.append(dict(self.headers.items()))
            step = state.script.popleft() if state.script else "ok"
        if step == "timeout":
            state.hanging.set()
            state.release.wait(timeout=10)  # bounded; the client gave up long ago
            return
        if step in ("hold", "hold-500"):
            state.hanging.set()
            state.release.wait(timeout=60)  # bounded; the test releases it
            step = step.removeprefix("hold-") if step != "hold" else "ok"
        if step == "500":
            self.send_json(500, {"success": False, "message": "Internal error"})
            return
        if step == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example/hook")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if step in ("html", "huge-502"):
            status, page = (200, b"<html>It works!</html>") if step == "html" else \
                (502, b"<html>" + b"x" * (2 * 1024 * 1024) + b"</html>")
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if step == "huge":
            self.send_json(200, {"success": True, "message": "Done", "padding": "x" * (2 * 1024 * 1024)})
            return
        if step == "refuse":
            self.send_json(200, {"success": False, "message": "Plan not available on this server"})
            return
        with state.lock:
            if key not in state.performed:  # dedupe: a retry must not provision twice
                service = payload.get("service") or {}
                state.performed[key] = {"username": service.get("username") or "auto1234"}
                change = {"create": 1, "terminate": -1}.get(payload.get("action"), 0)
                state.accounts[service.get("id")] += change
            result = state.performed[key]
        self.send_json(200, {"success": True, "message": "Done", **result})
