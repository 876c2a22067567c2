"""Two-factor authentication for admins: TOTP (RFC 6238, any authenticator app), ten one-time
recovery codes, and browsers remembered on request.

    pending_secret(session, admin) -> str            the secret to enrol (made once, kept encrypted)
    provisioning_uri(admin, secret) -> str           what the QR code holds
    confirm_enrolment(session, admin, code, actor) -> list[str] | None
        a right code turns two-factor on and returns the ten recovery codes (shown once); None: wrong
    check_code(session, admin, code, allow_recovery=True) -> str | None
        how the code proved it ("authenticator app" / "recovery code"), None when it did not. A
        TOTP code is taken once (its time step is kept); a recovery code is spent
    new_recovery_codes(session, admin) -> list[str]  ten fresh codes; the old ones stop working
    reset_two_factor(session, admin, actor) -> None  off: secret, codes and remembered browsers gone,
        the admin's sessions ended, recorded in the activity log
    remember_browser(session, admin, user_agent, days) -> str       the cookie's token
    browser_remembered(session, admin, token) -> bool

Flushes, never commits.
"""

import hmac
import secrets
import time
from datetime import timedelta

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.admin_sessions import SIGNED_IN_KEY, end_admin_sessions
from models import AdminUser, RecoveryCode, TrustedBrowser, utcnow
from models.two_factor import hash_one_time_secret

ISSUER = "Orderdesk"
RECOVERY_CODE_COUNT = 10
TWO_FACTOR_RESET = "two-factor reset"  # admin_sessions.end_reason
# Codes from the step before and after are taken too: a phone's clock a little off still works.
_DRIFT_STEPS = 1
# No 0/O or 1/I/L: a code read off paper is typed right.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def pending_secret(session: Session, admin: AdminUser) -> str:
    if admin.two_factor_enabled:
        raise ValueError("Two-factor authentication is already on for this admin")
    if not admin.totp_secret:
        admin.totp_secret = pyotp.random_base32()
        session.flush()
    return admin.totp_secret


def provisioning_uri(admin: AdminUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=admin.email, issuer_name=ISSUER)


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "")[:40] if not ch.isspace())


def _totp_step(secret: str, code: str, after_step: int | None) -> int | None:
    """The time step `code` belongs to (within the drift), later than `after_step`; None if none."""
    code = _digits(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp, now_step = pyotp.TOTP(secret), int(time.time()) // 30
    for step in range(now_step - _DRIFT_STEPS, now_step + _DRIFT_STEPS + 1):
        if (after_step is None or step > after_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(session: Session, admin: AdminUser, code: str, actor: Actor) -> list[str] | None:
    if admin.two_factor_enabled or not admin.totp_secret:
        return None
    step = _totp_step(admin.totp_secret, code, None)
    if step is None:
        return None
    admin.totp_enabled_at, admin.totp_last_step = utcnow(), step
    codes = new_recovery_codes(session, admin)
    events.two_factor_enabled(session, actor, admin.id)
    session.flush()
    return codes


def _normal_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "")[:40].upper() if ch.isalnum())


def new_recovery_codes(session: Session, admin: AdminUser) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.admin_id == admin.id))
    codes = ["".join(secrets.choice(_CODE_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(admin_id=admin.id, code_hash=hash_one_time_secret(code)) for code in codes)
    session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def remaining_recovery_codes(session: Session, admin: AdminUser) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.admin_id == admin.id, RecoveryCode.used_at.is_(None))).all())


def check_code(session: Session, admin: AdminUser, code: str, allow_recovery: bool = True) -> str | None:
    if not admin.two_factor_enabled:
        return None
    step = _totp_step(admin.totp_secret, code, admin.totp_last_step)
    if step is not None:
        # Compare-and-set on the stored step: two requests with the same code cannot both pass.
        taken = session.execute(
            update(AdminUser).where(AdminUser.id == admin.id, (AdminUser.totp_last_step.is_(None))
                                    | (AdminUser.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
        if taken:
            session.refresh(admin, ["totp_last_step"])
            return "authenticator app"
        return None
    recovery = _normal_recovery_code(code)
    if not allow_recovery or len(recovery) != 10:
        return None
    spent = session.execute(
        update(RecoveryCode).where(RecoveryCode.admin_id == admin.id,
                                   RecoveryCode.code_hash == hash_one_time_secret(recovery),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    return "recovery code" if spent else None


def reset_two_factor(session: Session, admin: AdminUser, actor: Actor) -> None:
    admin.totp_secret = admin.totp_enabled_at = admin.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.admin_id == admin.id))
    session.execute(delete(TrustedBrowser).where(TrustedBrowser.admin_id == admin.id))
    # Whoever turned it off for themselves keeps the session they did it from.
    keep = session.info.get(SIGNED_IN_KEY) if actor.id == admin.id else None
    end_admin_sessions(session, admin.id, TWO_FACTOR_RESET, keep_session_id=keep)
    events.two_factor_reset(session, actor, admin.id, admin.email)
    session.flush()


def remember_browser(session: Session, admin: AdminUser, user_agent: str, days: int) -> str:
    session.execute(delete(TrustedBrowser).where(TrustedBrowser.admin_id == admin.id,
                                                 TrustedBrowser.expires_at <= utcnow()))
    token = secrets.token_urlsafe(32)
    session.add(TrustedBrowser(admin_id=admin.id, token_hash=hash_one_time_secret(token),
                               expires_at=utcnow() + timedelta(days=days),
                               user_agent=(user_agent or "")[:255]))
    session.flush()
    return token


def browser_remembered(session: Session, admin: AdminUser, token: str | None) -> bool:
    if not token or len(token) > 100 or not admin.two_factor_enabled:
        return False
    return session.scalar(select(TrustedBrowser.id).where(
        TrustedBrowser.admin_id == admin.id, TrustedBrowser.token_hash == hash_one_time_secret(token),
        TrustedBrowser.expires_at > utcnow())) is not None
