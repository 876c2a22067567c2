"""A local event hook receiver (127.0.0.1, ephemeral port): keeps every request it reads, with
whether its signature verified against the endpoint's secret, as a receiver following
docs/hooks.md would. It can answer an error while `down`, and hold one request unread or one
answer unsent until the test lets it go (to kill the sender meanwhile)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from modules.event_hooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify
from tests.modules_support.http_stub import JsonHandler


@dataclass
class Received:
    path: str
    event_id: str
    event_type: str
    body: bytes
    signature: str
    verified: bool
    host: str = ""  # the Host header

    @property
    def envelope(self) -> dict:
        return json.loads(self.body)


@dataclass
class ReceiverState:
    secret: str = ""
    secrets: dict[str, str] = field(default_factory=dict)  # by path, for several endpoints on one receiver
    down: int = 0  # answer 503 to this many more requests
    hold_unread_at: int = 0  # the n-th request (1-based) is held before anything of it is read
    hold_answer_at: int = 0  # the n-th request is read and kept, and its answer held
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    requests: int = 0
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held_ids: list[str] = field(default_factory=list)  # event ids of the held-answer requests

    def event_ids(self) -> list[str]:
        with self.lock:
            return [r.event_id for r in self.received]


class HookReceiverHandler(JsonHandler):
    def handle(self) -> None:
        state: ReceiverState = self.server.state
        with state.lock:
            state.requests += 1
            number = state.requests
        if number == state.hold_unread_at:
            state.holding.set()
            state.release.wait(120)
            return  # the connection closes with the request never read: this receiver never saw it
        self.number = number
        super().handle()

    def do_POST(self) -> None:  # noqa: N802 - http.server dispatches on this name
        state: ReceiverState = self.server.state
        body = self.read_body()
        header = self.headers.get(SIGNATURE_HEADER, "")
        secret = state.secrets.get(self.path, state.secret)
        verified = verify(body, header, secret)
        received = Received(self.path, self.headers.get(EVENT_ID_HEADER, ""),
                            self.headers.get("Orderdesk-Event", ""), body, header, verified,
                            self.headers.get("Host", ""))
        with state.lock:
            if state.down:
                state.down -= 1
                refuse = True
            else:
                refuse = False
                state.received.append(received)
        if refuse:
            self.send_json(503, {"error": "down for maintenance"})
            return
        if self.number == state.hold_answer_at:
            state.held_ids.append(received.event_id)
            state.holding.set()
            state.release.wait(120)
        self.send_json(200, {"received": True})
