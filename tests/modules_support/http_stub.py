"""A threaded HTTP(S) server on 127.0.0.1:<ephemeral> for use in a `with` block."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Failed TLS handshakes are expected in some tests; keep them off stderr.
        self.errors.append(sys.exc_info()[1])


class StubServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], state: Any, tls: ssl.SSLContext | None = None):
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.httpd.errors = []
        self.httpd.state = state  # handlers reach shared state as self.server.state
        if tls is not None:
            # Handshake lazily in the handler thread so one slow client can't block accept().
            self.httpd.socket = tls.wrap_socket(
                self.httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        release = getattr(self.httpd.state, "release", None)
        if release is not None:
            release.set()  # let any handler parked in a "timeout" finish
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
