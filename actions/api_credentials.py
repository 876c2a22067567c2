"""API credentials: create, rotate, revoke (the admin's API Credentials pages and the CLI).

The identifier and secret are random; only the secret's argon2 hash is stored, and the secret is
returned once to the caller that created or rotated it, to be shown then and never again.
"""

import ipaddress
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiCredential, Role, hash_secret
from models.bounds import InvalidInput, clean_text


class ApiCredentialError(ValueError):
    pass


def check_allowlist(text: str) -> str:
    """One IP or CIDR range per line, normalised (e.g. 10.0.0.7/24 -> 10.0.0.0/24)."""
    networks = []
    for item in (text or "").replace(",", " ").split():
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ApiCredentialError(f"{item[:60]} is not an IP address or CIDR range.") from None
    return "\n".join(networks)


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def create_api_credential(
    session: Session, role_name: str, allowlist: str = "", description: str = ""
) -> tuple[ApiCredential, str]:
    """The new credential and its secret (not stored: show it now)."""
    role = session.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise ApiCredentialError(f"Unknown role {role_name!r}; roles: {known}")
    try:
        description = clean_text(description, max_length=255, what="The description", single_line=True)
    except InvalidInput as exc:
        raise ApiCredentialError(exc.message) from None
    secret, secret_hash = _new_secret()
    credential = ApiCredential(
        identifier=secrets.token_urlsafe(24),
        secret_hash=secret_hash,
        role=role,
        ip_allowlist=check_allowlist(allowlist),
        description=description,
        active=True,
    )
    session.add(credential)
    session.flush()
    return credential, secret


def rotate_api_credential(session: Session, credential: ApiCredential) -> str:
    """A new secret; the old one stops working at once (in every process: see api.auth)."""
    secret, credential.secret_hash = _new_secret()
    session.flush()
    return secret


def revoke_api_credential(session: Session, credential: ApiCredential) -> None:
    credential.active = False
    session.flush()
