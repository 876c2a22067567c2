"""Event hook deliveries: one signed JSON POST per event and endpoint (docs/hooks.md).

The signature is Stripe's scheme: HMAC-SHA256 with the endpoint's secret over
``<timestamp>.<raw body>``, sent as ``Orderdesk-Signature: t=<timestamp>,v1=<hex>``. The event id
travels in ``Orderdesk-Event-Id`` (and the body's ``id``): every attempt of one delivery carries
the same id and the same body bytes, so a receiver drops a repeat by its id.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from modules.base import ModuleResult

SIGNATURE_HEADER = "Orderdesk-Signature"
EVENT_ID_HEADER = "Orderdesk-Event-Id"
EVENT_TYPE_HEADER = "Orderdesk-Event"
# A receiver only needs to say "got it": more of its answer is never read (nor kept).
RESPONSE_LIMIT_BYTES = 4096
# How old a signed timestamp a receiver should accept (replay protection), in seconds.
DEFAULT_TOLERANCE_SECONDS = 300


def body_bytes(envelope: dict[str, Any]) -> bytes:
    """The body exactly as signed and sent: the same bytes on every attempt."""
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(body: bytes, header: str | None, secret: str, tolerance: float = DEFAULT_TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """What a receiver does (docs/hooks.md has the same in a dozen lines): the timestamp is recent
    and one of the v1 signatures matches, compared in constant time."""
    if not header or not secret:
        return False
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in parts if name.strip() == "t"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, value.strip()) for name, value in parts if name.strip() == "v1")


Networks = list[ipaddress.IPv4Network | ipaddress.IPv6Network]


def url_problem(url: str, allowed: Networks = ()) -> str | None:
    """Why an endpoint URL cannot be called (None: it can): http or https with a host, no user name
    or password, and not an internal address outside `allowed` when written as one (a host name is
    checked when it is resolved, at each delivery)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https"):
        return "The URL must start with http:// or https://."
    if not parts.hostname:
        return "The URL needs a host name."
    if parts.username or parts.password:
        return "The URL must not carry a user name or password: the signature proves who is calling."
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"
    try:
        return _internal_address_problem(parts.hostname, ipaddress.ip_address(host), allowed)
    except ValueError:  # a host name
        return None


# IPv6 ranges that carry an IPv4 address to somewhere else (NAT64, 6to4, IPv4-compatible) or are
# site-local: Python counts some of them global, but 64:ff9b::10.0.0.5 reaches 10.0.0.5 on a
# NAT64 network. Refused unless allowed, as requests-hardened (Saleor) does.
_TRANSLATED = tuple(ipaddress.ip_network(net) for net in (
    "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96", "fec0::/10"))


def _internal_address_problem(host: str, address, allowed: Networks) -> str | None:
    """This back office's own host, private and link-local networks (a cloud's metadata service
    at 169.254.169.254) and every other non-public address are off limits unless the install
    allows them (HOOK_ALLOWED_NETWORKS): an endpoint must not become a way into the inside."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in allowed):
        return None
    if address.is_global and not address.is_multicast and not any(address in net for net in _TRANSLATED):
        return None
    shown = host if host == str(address) else f"{host} ({address})"
    return (f"{shown} is an internal address: event hooks go to public addresses only, unless the "
            "network is in the HOOK_ALLOWED_NETWORKS setting (docs/hooks.md).")


class InternalAddressError(Exception):
    """Raised while connecting: the host name now resolves to an address that is not allowed.
    Not an OSError, so urllib3 and requests pass it through unwrapped and untried again."""


class _CheckedConnection:
    """Connects to the address it checked. A name checked before the request and resolved again to
    connect (DNS rebinding: public the first time, 127.0.0.1 the second) would otherwise reach the
    inside; here one resolution serves both. The URL's host name stays the connection's host, so
    the Host header, TLS SNI and the certificate check are as usual."""

    allowed: Networks = ()

    def _new_conn(self):
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, family=allowed_gai_family(),
                                       type=socket.SOCK_STREAM)
            addresses = [sockaddr[0] for *_, sockaddr in infos]
            for address in addresses:
                problem = _internal_address_problem(self.host, ipaddress.ip_address(address.split("%")[0]),
                                                    self.allowed)
                if problem:
                    raise InternalAddressError(problem)
            return self._connect_to_one_of(addresses)
        except (socket.gaierror, UnicodeError) as exc:  # as urllib3 maps them; a bad IDNA name too
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. "
                                            f"(connect timeout={self.timeout})") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc

    def _connect_to_one_of(self, addresses: list[str]):
        """Each checked address in turn, as urllib3's create_connection tries each resolved one
        (an unreachable IPv6 first, a dead A record among several)."""
        failed = None
        for address in addresses:
            try:
                return create_connection((address, self.port), self.timeout,
                                         source_address=self.source_address,
                                         socket_options=self.socket_options)
            except OSError as exc:
                failed = exc
        raise failed


def checked_session(allowed: Networks) -> requests.Session:
    """A requests session whose connections go only to addresses `allowed` or public: not through
    a proxy from the environment (the check is on the address actually connected to), but with
    the environment's CA bundle, as requests would read it (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)."""
    pools = {}
    for scheme, pool, connection in (("http", HTTPConnectionPool, HTTPConnection),
                                     ("https", HTTPSConnectionPool, HTTPSConnection)):
        checked = type(f"Checked{connection.__name__}", (_CheckedConnection, connection),
                       {"allowed": tuple(allowed)})
        pools[scheme] = type(f"Checked{pool.__name__}", (pool,), {"ConnectionCls": checked})
    adapter = HTTPAdapter()
    adapter.poolmanager.pool_classes_by_scheme = pools
    session = requests.Session()
    session.trust_env = False
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def shown_error(message: str, url: str) -> str:
    """An error text without the URL's query string (where a receiver's own token may sit)."""
    query = urlsplit(url).query
    return message.replace(query, "…") if query else message


def deliver(url: str, secret: str, envelope: dict[str, Any], timeout: float,
            allowed: Networks = ()) -> ModuleResult:
    """POST one event. Any answer but 2xx (redirects included: never followed) and any network
    error is a failure worth another try, as with Stripe's webhooks; an internal address outside
    `allowed` is a failure that is not (fix the URL or the setting, then Retry). result.data
    carries status_code and duration_ms for the delivery log."""
    problem = url_problem(url, allowed)
    if problem:
        return ModuleResult.fail(problem, status_code=None, duration_ms=0)
    if not secret:
        return ModuleResult.fail("The endpoint has no secret; refusing to send unsigned events",
                                 status_code=None, duration_ms=0)
    body = body_bytes(envelope)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Orderdesk-Hooks/1",
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
        EVENT_ID_HEADER: str(envelope["id"]),
        EVENT_TYPE_HEADER: str(envelope["type"]),
    }
    started = time.monotonic()
    try:
        with checked_session(allowed) as session, session.post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False,
                stream=True) as response:
            answer = response.raw.read(RESPONSE_LIMIT_BYTES, decode_content=True) or b""
            status = response.status_code
    except InternalAddressError as exc:
        return ModuleResult.fail(str(exc), status_code=None, duration_ms=_ms(started))
    except urllib3.exceptions.HTTPError as exc:  # reading the answer: a read timeout, a reset, bad gzip
        return _failed(shown_error(f"Could not read the answer: {exc}", url)[:500], None, started)
    except requests.Timeout:
        return _failed(f"Timed out after {timeout:g}s", None, started)
    except requests.ConnectionError as exc:
        return _failed(shown_error(f"Could not connect: {exc}", url)[:500], None, started)
    except requests.RequestException as exc:
        return _failed(shown_error(f"Request failed: {exc}", url)[:500], None, started)
    if 200 <= status < 300:
        return ModuleResult.ok(f"HTTP {status}", status_code=status, duration_ms=_ms(started))
    if 300 <= status < 400:
        return _failed(f"HTTP {status}: redirects are not followed; update the URL", status, started)
    snippet = answer[:200].decode("utf-8", "replace").strip()
    return _failed(f"HTTP {status}" + (f": {snippet}" if snippet else ""), status, started)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _failed(message: str, status: int | None, started: float) -> ModuleResult:
    return ModuleResult.fail(message, retryable=True, status_code=status, duration_ms=_ms(started))
