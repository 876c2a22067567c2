"""Server-side admin sessions (models/admin_sessions.py).

    start_admin_session(session, admin, ip_address="", user_agent="") -> (AdminSession, token)
        a new live row; the raw token goes into the login cookie, only its hash is stored
    signed_in_admin(session, token, limits=SessionLimits()) -> (AdminUser | None, touched)
        the admin a cookie's token signs in, when its session is live (and the admin active); the
        admin carries session_token / session_id for this request. touched: last_seen_at was
        moved on (at most once a minute), or the session was just ended as expired; the face
        commits it. An expired session's reason is left in session.info[EXPIRED_KEY]
    end_admin_session(session, session_id, reason) -> None          logout
    end_admin_sessions(session, admin_id, reason, keep_session_id=None) -> int

Every other session of an admin ends by itself when the admin's password, role or active flag
changes, whatever changes it (the admin form, the CLI, a later API): a before_flush listener
watches those columns. The session the change is made from (the admin editing their own
password) is kept.

`session_refusal` holds the rules: ended, admin deactivated, idle longer than limits.idle
(last_seen_at), older than limits.lifetime (created_at). A session refused for its age is ended
(end_reason "idle timeout" / "lifetime reached"), so the refusal is on record.
Flushes, never commits.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, event, inspect, select, update
from sqlalchemy.orm import Session, joinedload

from models import AdminSession, AdminUser, utcnow
from models.admin_sessions import hash_session_token

# last_seen_at is written at most this often per session: a page view is not a write.
TOUCH_INTERVAL = timedelta(minutes=1)

# Session.info key: the admin session the current request is signed in with (set by signed_in_admin).
SIGNED_IN_KEY = "orderdesk.admin_session_id"

# Why a session ended (admin_sessions.end_reason).
LOGGED_OUT = "logged out"
PASSWORD_CHANGED = "password changed"
ROLE_CHANGED = "role changed"
DEACTIVATED = "deactivated"
IDLE_TIMEOUT = "idle timeout"
LIFETIME_REACHED = "lifetime reached"

# Session.info key: why this request's session was just ended as expired (the face tells the admin).
EXPIRED_KEY = "orderdesk.admin_session_expired"


@dataclass(frozen=True)
class SessionLimits:
    """How long a login lasts: `idle` without a request, `lifetime` in all (config.py)."""

    idle: timedelta = timedelta(minutes=60)
    lifetime: timedelta = timedelta(hours=12)

# AdminUser column -> the end reason a change of it gives the admin's other sessions.
# (The role relationship too: its foreign key is only synced during the flush.)
_SECURITY_COLUMNS = {"password_hash": PASSWORD_CHANGED, "role_id": ROLE_CHANGED, "role": ROLE_CHANGED,
                     "active": DEACTIVATED}


def start_admin_session(
    session: Session, admin: AdminUser, ip_address: str = "", user_agent: str = ""
) -> tuple[AdminSession, str]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = AdminSession(token_hash=hash_session_token(token), admin_id=admin.id, created_at=now,
                       authenticated_at=now, last_seen_at=now, ip_address=(ip_address or "")[:45],
                       user_agent=(user_agent or "")[:255])
    session.add(row)
    session.flush()
    admin.session_token, admin.session_id = token, row.id
    return row, token


def session_expiry(row: AdminSession, limits: SessionLimits, now: datetime) -> str | None:
    """IDLE_TIMEOUT or LIFETIME_REACHED when a live session is too old to use, else None."""
    if now - row.created_at >= limits.lifetime:
        return LIFETIME_REACHED
    if now - row.last_seen_at >= limits.idle:
        return IDLE_TIMEOUT
    return None


def session_refusal(row: AdminSession, admin: AdminUser | None, limits: SessionLimits,
                    now: datetime) -> str | None:
    """Why this session no longer signs anyone in, or None while it is live."""
    if row.ended_at is not None:
        return f"ended ({row.end_reason})"
    if admin is None or not admin.active:
        return "the admin is deactivated"
    return session_expiry(row, limits, now)


# Every page asks who is signed in: the statement is built once (building it costs about as much as
# running it), with the admin's role.
_SIGNED_IN = (select(AdminSession, AdminUser).join(AdminUser, AdminUser.id == AdminSession.admin_id)
              .options(joinedload(AdminUser.role)).where(AdminSession.token_hash == bindparam("token_hash")))


def signed_in_admin(session: Session, token: str | None,
                    limits: SessionLimits = SessionLimits()) -> tuple[AdminUser | None, bool]:
    if not token or not isinstance(token, str) or len(token) > 100:
        return None, False
    found = session.execute(_SIGNED_IN, {"token_hash": hash_session_token(token)}).first()
    if found is None:
        return None, False
    row, admin = found
    now = utcnow()
    refusal = session_refusal(row, admin, limits, now)
    if refusal is not None:
        if row.ended_at is None and refusal in (IDLE_TIMEOUT, LIFETIME_REACHED):
            row.ended_at, row.end_reason = now, refusal
            session.info[EXPIRED_KEY] = refusal
            return None, True
        return None, False
    touched = now - row.last_seen_at >= TOUCH_INTERVAL
    if touched:
        row.last_seen_at = now
    admin.session_token, admin.session_id = token, row.id
    session.info[SIGNED_IN_KEY] = row.id
    return admin, touched


def end_admin_session(session: Session, session_id: int | None, reason: str) -> None:
    if session_id is None:
        return
    session.execute(update(AdminSession).where(AdminSession.id == session_id, AdminSession.ended_at.is_(None))
                    .values(ended_at=utcnow(), end_reason=reason))


def end_admin_sessions(
    session: Session, admin_id: int, reason: str, keep_session_id: int | None = None
) -> int:
    """End every live session of an admin but `keep_session_id`; how many were ended."""
    where = [AdminSession.admin_id == admin_id, AdminSession.ended_at.is_(None)]
    if keep_session_id is not None:
        where.append(AdminSession.id != keep_session_id)
    return session.execute(
        update(AdminSession).where(*where).values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


@event.listens_for(Session, "before_flush")
def _end_sessions_on_security_change(session: Session, _flush_context, _instances) -> None:
    for admin in list(session.dirty):
        if not isinstance(admin, AdminUser) or admin.id is None:
            continue
        state = inspect(admin)
        changed = sorted({reason for column, reason in _SECURITY_COLUMNS.items()
                          if state.attrs[column].history.has_changes()})
        if changed:
            # The session the change is made from survives (an admin changing their own password);
            # a deactivated admin keeps none.
            keep = session.info.get(SIGNED_IN_KEY) if admin.active else None
            end_admin_sessions(session, admin.id, ", ".join(changed), keep_session_id=keep)
