"""Server-side admin sessions: the login cookie carries only a random token; the row says whether
that login is still live. Logout, a password or role change and deactivation end rows here, so a
copied cookie stops working (actions/admin_sessions.py)."""

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


def hash_session_token(token: str) -> str:
    # The token is 256 random bits: a plain SHA-256 is enough (no password to stretch), and a
    # stolen table gives no usable cookie.
    return hashlib.sha256(token.encode()).hexdigest()


class AdminSession(Base):
    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_admin_id_ended_at", "admin_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the admin last proved who they are (login; later re-authentication and 2FA, issue 17).
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    @property
    def live(self) -> bool:
        return self.ended_at is None
