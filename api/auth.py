"""Who is calling the API, from where, and may they run this action (reference/whmcs-api.md §3.2-3.3).

In order:
1. `identifier` + `secret`: an API credential (the secret argon2-hashed at rest).
2. `username` + `password` where the username is a credential's identifier: the same, as
   whmcs-api-client sends it.
3. `username` + `password` where the username is an admin's email and the password md5 of that
   admin's *legacy API password* (opt-in per admin, off by default; docs/api.md says why it is not
   the login password).
Then the IP rule: the credential's own allow-list (IPs and CIDR ranges), or API_ALLOWED_IPS when it
has none (and for legacy logins); a valid `accesskey` (API_ACCESS_KEY) skips it. Then the role:
API Access plus every permission the action needs.

argon2 takes a few hundred milliseconds by design, far too slow for every call, so a secret that
verified is remembered for a while in this process as an HMAC under a random per-process key (the
secret itself is never kept); rotating or revoking a credential changes what the HMAC covers, so
the remembered entry stops matching at once.
"""

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.actor import Actor
from api.errors import AUTHENTICATION_FAILED, INVALID_CREDENTIALS, AuthError, invalid_ip, not_permitted
from api.params import Params
from models import AdminUser, ApiCredential, Permission, Role, verify_secret
from models.bounds import parse_networks

MAX_CREDENTIAL_LENGTH = 255


@dataclass(frozen=True)
class Caller:
    actor: Actor
    role: Role | None
    credential: ApiCredential | None = None
    admin: AdminUser | None = None

    @property
    def name(self) -> str:
        return self.credential.identifier if self.credential else self.admin.email

    def may(self, permissions: tuple[str, ...]) -> bool:
        granted = set(self.role.permissions or []) if self.role is not None else set()
        return Permission.API_ACCESS in granted and all(p in granted for p in permissions)


class _VerifiedSecrets:
    """(who, stored hash, secret) triples that argon2 accepted lately, as HMACs; LRU, with expiry."""

    def __init__(self, ttl_seconds: float = 600, size: int = 4096):
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()
        self.ttl, self.size = ttl_seconds, size

    def _digest(self, who: str, stored_hash: str, secret: str) -> bytes:
        message = "\0".join((who, stored_hash, secret)).encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def verify(self, who: str, stored_hash: str | None, secret: str) -> bool:
        if not stored_hash:
            return False
        digest = self._digest(who, stored_hash, secret)
        now = time.monotonic()
        with self._lock:
            expires = self._seen.get(digest)
            if expires is not None and expires > now:
                self._seen.move_to_end(digest)
                return True
        if not verify_secret(stored_hash, secret):
            return False
        with self._lock:
            self._seen[digest] = now + self.ttl
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return True


VERIFIED = _VerifiedSecrets()


def _field(params: Params, name: str) -> str:
    value = params.raw(name)
    if value is None:
        return ""
    if len(value) > MAX_CREDENTIAL_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise AuthError(AUTHENTICATION_FAILED)
    return value.strip()


@dataclass
class Attempt:
    """What authentication found, for the API log even when it failed (never the secret)."""

    credential_id: int | None = None
    admin_user_id: int | None = None
    caller: str = ""


def authenticate(session: Session, params: Params, attempt: Attempt) -> Caller:
    identifier, secret = _field(params, "identifier"), _field(params, "secret")
    if not identifier:
        identifier, secret = _field(params, "username"), _field(params, "password")
    if not identifier or not secret:
        raise AuthError(AUTHENTICATION_FAILED)
    credential = session.scalar(select(ApiCredential).where(ApiCredential.identifier == identifier))
    if credential is not None:
        attempt.credential_id, attempt.caller = credential.id, credential.identifier
        if not credential.active or not VERIFIED.verify(f"c{credential.id}", credential.secret_hash, secret):
            raise AuthError(AUTHENTICATION_FAILED)
        return Caller(Actor.api(credential), credential.role, credential=credential)
    admin = session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == identifier.lower()))
    if admin is None:
        raise AuthError(INVALID_CREDENTIALS)
    attempt.admin_user_id, attempt.caller = admin.id, admin.email
    if not admin.active or not VERIFIED.verify(
        f"a{admin.id}", admin.legacy_api_password_hash, secret.lower()
    ):
        raise AuthError(AUTHENTICATION_FAILED)
    actor = Actor(Actor.admin(admin).type, admin.id, f"{admin} (API)")
    return Caller(actor, admin.role, admin=admin)


def _address(remote: str):
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def check_ip(caller: Caller, params: Params, remote: str, config) -> None:
    access_key = config.get("API_ACCESS_KEY")
    given_key = _field(params, "accesskey")
    if access_key and given_key and hmac.compare_digest(given_key.encode(), access_key.encode()):
        return
    own = caller.credential.ip_allowlist if caller.credential is not None else ""
    networks = parse_networks(own or "") or parse_networks(config.get("API_ALLOWED_IPS") or "")
    address = _address(remote)
    if address is None or not any(address in network for network in networks):
        raise AuthError(invalid_ip(remote))


def check_permission(caller: Caller, action: str, permissions: tuple[str, ...]) -> None:
    if not caller.may(permissions):
        raise AuthError(not_permitted(action))
