"""Declarative base, naming convention and the column types every model shares."""

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import DateTime, Index, Integer, MetaData, Numeric, Text, func
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from models.bounds import CENT, MAX_MONEY

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


class Money(TypeDecorator):
    """Money: an exact Decimal with two places, never a float, on both databases.

    PostgreSQL stores NUMERIC(16,2). SQLite has no exact decimal: its NUMERIC affinity keeps 12.34 as
    a REAL (123456789012345.99 comes back as ...45.98, and SUM() adds floats). There the column
    holds whole cents instead, still declared NUMERIC(16, 2): that affinity keeps an integer as an
    exact 64-bit INTEGER, SQLite sums integers exactly (or raises on overflow), and existing tables
    need no rebuild (the migration only multiplies by 100). Raw SQL on SQLite sees cents.
    sum(), coalesce() and +, - and * by a whole number keep the Money type, so their results come
    back as Decimal on both databases: `select(func.sum(Order.amount))` is exact.
    A value beyond what NUMERIC(16,2) holds is refused on both databases alike (the faces bound
    every amount before it gets here: models/bounds.py).
    """

    impl = Numeric(16, 2, asdecimal=True)
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):  # noqa: N801 - SQLAlchemy's hook name
        def _adapt_expression(self, op, other_comparator):
            # money +/- money and money * n are money (on SQLite: cents, converted back on the way out)
            if op in (operators.add, operators.sub, operators.mul):
                return op, self.type
            return super()._adapt_expression(op, other_comparator)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return _SqliteCents(16, 2)
        return dialect.type_descriptor(Numeric(16, 2, asdecimal=True))

    def coerce_compared_value(self, op, value):
        # The n of money * n is a plain number (cents * n), not an amount turned into cents.
        if op is operators.mul and isinstance(value, int):
            return Integer()
        return self

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = _exact(value)
        if not amount.is_finite() or abs(amount) > MAX_MONEY:
            raise ValueError(f"{amount} is not an amount a money column holds (at most {MAX_MONEY})")
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if dialect.name == "sqlite":
            return int(amount.scaleb(2))
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return _exact(value).scaleb(-2).quantize(CENT)
        return _exact(value).quantize(CENT)

    @property
    def python_type(self):
        return Decimal


class _SqliteCents(Numeric):
    """SQLite's money column: declared NUMERIC(16, 2), values are whole cents passed through as
    Python ints (SQLAlchemy's own SQLite Numeric would go through float both ways)."""

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        return None


class Rate(TypeDecorator):
    """An exchange rate: an exact Decimal with six places (1 of the default currency = rate of
    another). PostgreSQL stores NUMERIC(18,6); SQLite, as with Money, whole millionths in an INTEGER."""

    impl = Numeric(18, 6, asdecimal=True)
    cache_ok = True
    PLACES = Decimal("0.000001")

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return _SqliteCents(18, 6)
        return dialect.type_descriptor(Numeric(18, 6, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        rate = _exact(value).quantize(self.PLACES, rounding=ROUND_HALF_UP)
        return int(rate.scaleb(6)) if dialect.name == "sqlite" else rate

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return _exact(value).scaleb(-6).quantize(self.PLACES)
        return _exact(value).quantize(self.PLACES)

    @property
    def python_type(self):
        return Decimal


def _exact(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # only ever from a legacy REAL or a float-typed expression
        return Decimal(repr(value))
    return Decimal(value)


ZERO = Decimal("0.00")


def prefix_search_index(name: str, *columns) -> Index:
    """A b-tree index on lower(column), ... for the intelligent search (actions/search.py).

    PostgreSQL serves `lower(col) LIKE 'term%'` from it whatever the database collation, thanks to
    text_pattern_ops; SQLite serves the equivalent range `lower(col) >= 'term' AND < 'terN'`."""
    labels = [f"{column.key}_lower" for column in columns]
    return Index(name, *(func.lower(c).label(label) for c, label in zip(columns, labels, strict=True)),
                 postgresql_ops=dict.fromkeys(labels, "text_pattern_ops"))


# --- encryption at rest (service passwords, EPP codes, gateway secrets) ----------------------

_fernet: MultiFernet | None = None


def fernet_for(key: str) -> Fernet:
    """The Fernet cipher one ENCRYPTION_KEY (or SECRET_KEY) string stands for."""
    digest = hashlib.sha256(("orderdesk-encryption:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encryption_ciphers(key: str, old_keys: Sequence[str] = ()) -> MultiFernet:
    """Encrypts with `key`; decrypts with it or any of the old keys (key rotation)."""
    return MultiFernet([fernet_for(key), *(fernet_for(old) for old in old_keys if old != key)])


def configure_encryption(key: str, old_keys: Sequence[str] = ()) -> None:
    """Called by create_app with ENCRYPTION_KEY (or SECRET_KEY) and ENCRYPTION_OLD_KEYS."""
    global _fernet
    _fernet = encryption_ciphers(key, old_keys)


def _cipher() -> MultiFernet:
    if _fernet is None:
        raise RuntimeError("Encryption is not configured: create the app first.")
    return _fernet


class EncryptedText(TypeDecorator):
    """Text encrypted with Fernet (AES + HMAC); the database only ever sees ciphertext. Written
    with the current key, read with it or an old one (`flask --app app rotate-encryption-key`)."""

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
            raise RuntimeError("Cannot decrypt a secret: its key is neither ENCRYPTION_KEY nor one of "
                               "ENCRYPTION_OLD_KEYS") from None
