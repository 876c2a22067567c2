"""Declarative base, naming convention and the column types every model shares."""

import base64
import hashlib
from datetime import UTC, datetime
from decimal import Decimal

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import DateTime, Index, MetaData, Numeric, Text, func
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always gives back an aware UTC datetime (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def Money():  # noqa: N802 - reads as a column type
    """Money is Numeric(16,2) / Decimal everywhere; never float."""
    return Numeric(16, 2, asdecimal=True)


ZERO = Decimal("0.00")


def prefix_search_index(name: str, *columns) -> Index:
    """A b-tree index on lower(column), ... for the intelligent search (actions/search.py).

    PostgreSQL serves `lower(col) LIKE 'term%'` from it whatever the database collation, thanks to
    text_pattern_ops; SQLite serves the equivalent range `lower(col) >= 'term' AND < 'terN'`."""
    labels = [f"{column.key}_lower" for column in columns]
    return Index(name, *(func.lower(c).label(label) for c, label in zip(columns, labels, strict=True)),
                 postgresql_ops=dict.fromkeys(labels, "text_pattern_ops"))


# --- encryption at rest (service passwords, EPP codes, gateway secrets) ----------------------

_fernet: Fernet | None = None


def configure_encryption(key: str) -> None:
    """Derive the Fernet key from the app's ENCRYPTION_KEY (or SECRET_KEY); called by create_app."""
    global _fernet
    digest = hashlib.sha256(("orderdesk-encryption:" + key).encode()).digest()
    _fernet = Fernet(base64.urlsafe_b64encode(digest))


def _cipher() -> Fernet:
    if _fernet is None:
        raise RuntimeError("Encryption is not configured: create the app first.")
    return _fernet


class EncryptedText(TypeDecorator):
    """Text encrypted with Fernet (AES + HMAC); the database only ever sees ciphertext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return value
        return _cipher().encrypt(value.encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None or value == "":
            return value
        try:
            return _cipher().decrypt(value.encode()).decode()
        except InvalidToken:
            raise RuntimeError("Cannot decrypt a secret: ENCRYPTION_KEY changed?") from None
