"""A list's position in a URL (`?cursor=`), for keyset paging (admin/keyset.py): written signed,
read back strictly as the sort column's type through models/bounds.py, so an altered, cut short or
foreign cursor is refused with the reason and never reaches a query as anything but a value.

    make_cursor(endpoint, sort, direction, row) -> token
    read_cursor(token, endpoint, sort) -> Position      (InvalidInput: why it cannot be used)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text
from sqlalchemy.types import TypeDecorator

from models.base import Money
from models.bounds import (
    InvalidInput,
    integer_range,
    parse_date,
    parse_int,
    parse_money,
    parse_timestamp,
)

if TYPE_CHECKING:
    from admin.keyset import ListSort

CURSOR_ARG = "cursor"
LAST_PAGE = "last"
MAX_CURSOR_LENGTH = 1000
_SALT = "orderdesk.list-cursor"
UNUSABLE = "This page link cannot be used"


@dataclass(frozen=True)
class Position:
    direction: str  # "after" / "before" (a row's position), or "last" (the end of the list)
    value: object = None
    key: object = None


def column_of(attribute):
    """The table column an attribute maps."""
    return attribute.property.columns[0]


# --- a value in a cursor: written as text, read back strictly as its column's type ---------------

def _as_text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def column_kind(column_type) -> type | None:
    if isinstance(column_type, Money):
        return Money
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl
    for kind in (Boolean, Integer, Numeric, DateTime, Date, String, Text):
        if isinstance(column_type, kind):
            return kind
    return None


def keyset_capable(column) -> bool:
    return column_kind(column.type) is not None


def _read_value(raw, column, what: str):
    """`raw` from a cursor as `column` holds it; InvalidInput when it could not be one of its values."""
    if raw is None:
        if column.nullable:
            return None
        raise InvalidInput(f"{what} is missing.")
    if not isinstance(raw, str) or len(raw) > MAX_CURSOR_LENGTH:
        raise InvalidInput(f"{what} is not a value of this list.")
    kind = column_kind(column.type)
    if kind is Boolean:
        if raw not in ("0", "1"):
            raise InvalidInput(f"{what} is not yes or no.")
        return raw == "1"
    if kind is Integer:
        lowest, highest = integer_range(column.type)
        return parse_int(raw, minimum=lowest, maximum=highest, what=what)
    if kind in (Money, Numeric):
        return parse_money(raw, what=what, allow_negative=True)
    if kind is DateTime:
        return parse_timestamp(raw, what=what)
    if kind is Date:
        return parse_date(raw, what=what)
    if kind in (String, Text):
        length = getattr(column.type, "length", None) or MAX_CURSOR_LENGTH
        if "\x00" in raw or len(raw) > length:
            raise InvalidInput(f"{what} is not a value of this list.")
        return raw
    raise InvalidInput(f"{what} cannot be read.")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def make_cursor(endpoint: str, sort: ListSort, direction: str, row) -> str:
    value = getattr(row, sort.row_attribute or sort.column.key)
    key = getattr(row, sort.key.key)
    return _serializer().dumps([endpoint, sort.name, int(sort.descending), direction, _as_text(value),
                                _as_text(key)])


def read_cursor(token: str, endpoint: str, sort: ListSort | None) -> Position:
    """The position a ?cursor= names for this list and its current sort; InvalidInput with the reason."""
    if sort is None:
        raise InvalidInput(f"{UNUSABLE}: this list's order has no positions to continue from.")
    if token == LAST_PAGE:
        return Position(LAST_PAGE)
    if len(token) > MAX_CURSOR_LENGTH:
        raise InvalidInput(f"{UNUSABLE}: it is too long.")
    try:
        payload = _serializer().loads(token)
    except (BadSignature, UnicodeError, ValueError):
        raise InvalidInput(f"{UNUSABLE}: it is not one this list made (altered or cut short).") from None
    if not isinstance(payload, list) or len(payload) != 6:
        raise InvalidInput(f"{UNUSABLE}: it is not one this list made.")
    made_for, sort_name, descending, direction, value, key = payload
    if made_for != endpoint:
        raise InvalidInput(f"{UNUSABLE}: it belongs to another list.")
    if sort_name != sort.name or descending != int(sort.descending):
        raise InvalidInput(f"{UNUSABLE}: it was made for another sort order.")
    if direction not in ("after", "before"):
        raise InvalidInput(f"{UNUSABLE}: it names no direction.")
    key = _read_value(key, column_of(sort.key), "Its row id")
    value = key if sort.column is sort.key else _read_value(value, column_of(sort.column), "Its sort value")
    return Position(direction, value, key)
