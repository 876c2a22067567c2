"""Admin users, roles with named permissions, and API credentials."""

import hashlib
from datetime import datetime

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, EncryptedText, UTCDateTime, utcnow

# argon2id with RFC 9106's second recommended profile (t=3, 64 MiB, p=4): within OWASP's
# guidance and about 50 ms here. A hash made with other parameters is redone at the next login
# (actions/admin_login.py, check_needs_rehash). The one verifier every password, legacy API
# password and API secret check goes through (tests count its calls).
hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def hash_secret(secret: str) -> str:
    return hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def secret_needs_rehash(secret_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(secret_hash)
    except InvalidHashError:
        return False


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    permissions: Mapped[list] = mapped_column(JSON, default=list)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Admins of this role must set up two-factor authentication at their next login.
    requires_two_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def __str__(self) -> str:
        return self.name


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opt-in legacy API login (username + md5 of a password): argon2 of that md5, of a password of
    # its own (never the login password). None: this admin cannot log in to the API that way.
    legacy_api_password_hash: Mapped[str | None] = mapped_column(String(255))
    # TOTP (actions/two_factor.py): the secret, encrypted; two-factor is on once a code confirmed
    # it (totp_enabled_at). totp_last_step: the last time step accepted, so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # The IANA zone (zoneinfo) the back office shows this admin's times in; times are stored UTC.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")

    role: Mapped[Role] = relationship()

    # The server-side session (models/admin_sessions.py) this request is signed in with, set by the
    # user loader. Flask-Login keeps get_id() in the cookie: the session's token, never our id.
    session_token = None
    session_id = None

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("Sign admins in through actions.admin_sessions.start_admin_session")
        return self.session_token

    def set_password(self, password: str) -> None:
        self.password_hash = hash_secret(password)

    def check_password(self, password: str) -> bool:
        return verify_secret(self.password_hash, password)

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    def set_legacy_api_password(self, password: str | None) -> None:
        """What legacy clients send is md5(password) in lower-case hex; keep only its argon2 hash."""
        self.legacy_api_password_hash = (
            None if password is None else hash_secret(hashlib.md5(password.encode()).hexdigest()))

    def has_permission(self, permission: str) -> bool:
        return self.active and self.role is not None and permission in (self.role.permissions or [])

    def __str__(self) -> str:
        return self.name or self.email


class ApiCredential(Base):
    """WHMCS-style API identifier + secret (hashed), bound to a role and an IP allow-list."""

    __tablename__ = "api_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(255), default="")
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    ip_allowlist: Mapped[str] = mapped_column(Text, default="")  # one IP or CIDR per line
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role: Mapped[Role] = relationship()

    def __str__(self) -> str:
        return self.identifier
