"""Logging in to the back office, and proving it is still you (re-authentication).

    check_password(session, email, password, client) -> PasswordCheck
        the first step: throttled (actions/login_throttle.py) before any password is checked; a
        failure is counted and recorded; the hash is redone when argon2's parameters changed
    complete_login(session, admin, client, method) -> (AdminSession, token)
        every factor passed: a server-side session, last_login_at, the activity log
    second_factor_failed(session, admin, client) -> None     a wrong code: counted and recorded
    recently_authenticated(session, session_id) -> bool      within REAUTH_WINDOW
    reauthenticate(session, admin, secret, client) -> Refusal | None
        the password or a TOTP code moves the session's authenticated_at on; else why not

`client` is the request's (ip_address, user_agent). Flushes, never commits.
"""

import functools
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from actions import events, login_throttle
from actions.actor import Actor
from actions.admin_sessions import start_admin_session
from actions.two_factor import check_code
from models import ActorType, AdminSession, AdminUser, hash_secret, utcnow, verify_secret
from models.admin_users import secret_needs_rehash

INVALID = "Invalid email or password."
# Delete Order, Cancel & Refund, refunds, admin and role changes and API credentials need a login
# (or re-authentication) this recent.
REAUTH_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Client:
    ip_address: str
    user_agent: str


@dataclass(frozen=True)
class Refusal:
    message: str  # shown to the person logging in
    throttled: bool = False


@dataclass(frozen=True)
class PasswordCheck:
    admin: AdminUser | None = None
    refusal: Refusal | None = None


@functools.cache
def _dummy_hash() -> str:
    # One hash comparison even for unknown emails, so timing does not reveal which emails exist.
    return hash_secret("not-a-password")


def _failed(session, email: str, admin: AdminUser | None, client: Client, reason: str) -> None:
    actor = Actor.admin(admin) if admin is not None else Actor(ActorType.SYSTEM, None, "Login form")
    events.admin_login_failed(session, actor, email[:255], client.ip_address, client.user_agent, reason)
    session.flush()


def check_password(session: Session, email: str, password: str, client: Client) -> PasswordCheck:
    email = (email or "").strip().lower()[:255]
    admin = session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
    wait = login_throttle.login_wait(email, client.ip_address)
    if wait is not None:
        _failed(session, email, admin, client, "throttled")
        return PasswordCheck(refusal=Refusal(login_throttle.wait_message(wait), throttled=True))
    if admin is None:
        verify_secret(_dummy_hash(), password)
        reason = "unknown email"
    elif not admin.check_password(password):
        reason = "wrong password"
    elif not admin.active:
        reason = "deactivated admin"
    else:
        _rehash_if_needed(session, admin, password)
        return PasswordCheck(admin=admin)
    login_throttle.count_failure(email, client.ip_address)
    _failed(session, email, admin, client, reason)
    return PasswordCheck(refusal=Refusal(INVALID))


def _rehash_if_needed(session: Session, admin: AdminUser, password: str) -> None:
    """The same password under today's argon2 parameters. Written around the ORM on purpose: a
    password_hash change seen by the flush ends the admin's other sessions, and this is no change
    of password."""
    if secret_needs_rehash(admin.password_hash):
        new_hash = hash_secret(password)
        session.execute(update(AdminUser).where(AdminUser.id == admin.id).values(password_hash=new_hash)
                        .execution_options(synchronize_session=False))
        session.refresh(admin, ["password_hash"])


def complete_login(session: Session, admin: AdminUser, client: Client, method: str):
    row, token = start_admin_session(session, admin, client.ip_address, client.user_agent)
    admin.last_login_at = utcnow()
    login_throttle.forget_failures(admin.email)
    events.admin_logged_in(session, Actor.admin(admin), client.ip_address, client.user_agent, method)
    session.flush()
    return row, token


def second_factor_failed(session: Session, admin: AdminUser, client: Client) -> None:
    login_throttle.count_failure(admin.email, client.ip_address)
    _failed(session, admin.email, admin, client, "wrong two-factor code")


def recently_authenticated(session: Session, session_id: int | None) -> bool:
    if session_id is None:
        return False
    authenticated_at = session.scalar(
        select(AdminSession.authenticated_at).where(AdminSession.id == session_id))
    return authenticated_at is not None and utcnow() - authenticated_at <= REAUTH_WINDOW


def reauthenticate(session: Session, admin: AdminUser, secret: str, client: Client) -> Refusal | None:
    wait = login_throttle.login_wait(admin.email, client.ip_address)
    if wait is not None:
        return Refusal(login_throttle.wait_message(wait), throttled=True)
    secret = secret or ""
    method = check_code(session, admin, secret, allow_recovery=False) if secret.strip().isdigit() else None
    if method is None and admin.check_password(secret):
        method = "password"
    if method is None:
        login_throttle.count_failure(admin.email, client.ip_address)
        _failed(session, admin.email, admin, client, "wrong password at re-authentication")
        return Refusal("That is not your password or a current authenticator code.")
    session.execute(update(AdminSession).where(AdminSession.id == admin.session_id)
                    .values(authenticated_at=utcnow()))
    events.admin_reauthenticated(session, Actor.admin(admin), client.ip_address, method)
    session.flush()
    return None
