"""Every id, amount and count that crosses a face is parsed and bounded here (DESIGN.md §7).

Faces (admin views, the API, the CLI) turn raw strings into values with these parsers; actions
check values they are handed against the same limits. A value out of bounds is an InvalidInput
with a message that can be shown next to the field, never a database error.

    parse_id("12") -> 12                 ids fit the INTEGER columns (1 .. 2**31-1)
    parse_optional_id("") -> None
    whole_number("12", maximum=MAX_ID) -> 12 | None   a lookup term: anything else matches nothing
    parse_int("3", minimum=1, maximum=100, what="Quantity") -> 3
    parse_money("12.30") -> Decimal("12.30")     at most 2 decimals, |x| within Numeric(16,2)
    parse_percentage("15") -> Decimal("15")      0..100
    parse_date("2026-12-01") -> date(2026, 12, 1)   ISO 8601, years MIN_YEAR .. MAX_YEAR
    parse_timestamp("2026-12-01T10:00:00+00:00") -> an aware UTC datetime (ISO 8601, with its offset)
    clean_text(value, max_length=255)            no NUL or other control characters but tab/CR/LF
    control_character_refusal(value, line_breaks=True) -> message | None   the request-wide check
    integer_range(column_type) -> (lowest, highest) an integer column holds
    parse_time_zone("Europe/Paris") -> "Europe/Paris"   an IANA name zoneinfo knows
    parse_networks("10.0.0.0/8 ::1") -> [IPv4Network, IPv6Network]   allow-lists (API, event hooks)
"""

import ipaddress
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from sqlalchemy import BigInteger

# INTEGER primary and foreign keys (32-bit on PostgreSQL): a larger number can match no row.
MAX_ID = 2**31 - 1
MIN_INT, MAX_INT = -(2**31), 2**31 - 1  # INTEGER
MIN_BIGINT, MAX_BIGINT = -(2**63), 2**63 - 1  # BIGINT
# What Numeric(16, 2) holds: 14 digits before the point, 2 after.
MAX_MONEY = Decimal("99999999999999.99")
CENT = Decimal("0.01")
# Business limits, one place each.
MAX_QUANTITY = 100  # copies of one product in one order line
MAX_STOCK = 1_000_000
MAX_OPTION_QUANTITY = 10_000  # units of one quantity-type configurable option on one service
MIN_REGISTRATION_YEARS, MAX_REGISTRATION_YEARS = 1, 10
MAX_PERCENTAGE = Decimal(100)
# Exchange rates (models/currency.py): six places, positive, and within what NUMERIC(18,6) holds.
MAX_RATE = Decimal("999999.999999")
MAX_LIST_PAGE = 10_000  # deepest list page (0-based) a generic admin list serves
MAX_PROMOTION_USES = 1_000_000_000
MAX_SORT_ORDER = 1_000_000
MIN_YEAR, MAX_YEAR = 2000, 2999  # dates an admin types (a payment's date)

_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


class InvalidInput(ValueError):  # noqa: N818 - reads as what the client sent
    """A value a face was given that cannot be used; `message` is for the admin or API client."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def parse_int(value, *, minimum: int, maximum: int, what: str = "The value") -> int:
    """A whole number within [minimum, maximum]; digits only (optionally signed when minimum < 0)."""
    text = _text(value)
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit() or len(body) > 19:
        raise InvalidInput(f"{what} must be a whole number.")
    number = int(text)
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{what} must be between {minimum:,} and {maximum:,}.")
    return number


def parse_id(value, what: str = "Id") -> int:
    return parse_int(value, minimum=1, maximum=MAX_ID, what=what)


def whole_number(value, *, minimum: int = 0, maximum: int) -> int | None:
    """`value` as a whole number within [minimum, maximum], or None: for search terms and lookups,
    where anything else (a word, 10**40, "\u00b9") simply matches nothing."""
    try:
        return parse_int(value, minimum=minimum, maximum=maximum)
    except InvalidInput:
        return None


def integer_range(column_type) -> tuple[int, int]:
    """What an integer column holds: BIGINT 64 bits, INTEGER (and SMALLINT, kept wide) 32 bits."""
    if isinstance(column_type, BigInteger):
        return MIN_BIGINT, MAX_BIGINT
    return MIN_INT, MAX_INT


def parse_optional_id(value, what: str = "Id") -> int | None:
    return None if _text(value) == "" else parse_id(value, what)


def is_id(value) -> bool:
    """True when `value` parses as an id (for lookups where anything else simply matches nothing)."""
    try:
        parse_id(value)
    except InvalidInput:
        return False
    return True


def check_money(amount: Decimal, *, what: str = "The amount", allow_negative: bool = False) -> Decimal:
    """An exact Decimal with at most 2 decimals that the money columns can hold."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidInput(f"{what} must be an amount like 12.34.")
    if amount.as_tuple().exponent < -2:
        raise InvalidInput(f"{what} can have at most two decimal places, e.g. 12.34.")
    if amount < 0 and not allow_negative:
        raise InvalidInput(f"{what} cannot be negative.")
    if abs(amount) > MAX_MONEY:
        raise InvalidInput(f"{what} must be at most {MAX_MONEY:,}.")
    return amount.quantize(CENT)


def parse_money(value, *, what: str = "The amount", allow_negative: bool = False) -> Decimal:
    text = _text(value)
    if len(text) > 40:
        raise InvalidInput(f"{what} must be an amount like 12.34.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{what} must be an amount like 12.34.") from None
    return check_money(amount, what=what, allow_negative=allow_negative)


def parse_percentage(value, what: str = "The percentage") -> Decimal:
    amount = parse_money(value, what=what)
    if amount > MAX_PERCENTAGE:
        raise InvalidInput(f"{what} must be between 0 and 100.")
    return amount


def parse_rate(value, what: str = "The exchange rate") -> Decimal:
    """A positive exchange rate with at most six decimal places (1 default = rate of this one)."""
    text = _text(value)
    try:
        rate = Decimal(text) if len(text) <= 40 else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite():
        raise InvalidInput(f"{what} must be a number like 0.92.")
    if rate.as_tuple().exponent < -6:
        raise InvalidInput(f"{what} can have at most six decimal places.")
    if not 0 < rate <= MAX_RATE:
        raise InvalidInput(f"{what} must be more than 0 and at most {MAX_RATE:,}.")
    return rate


def parse_date(value, what: str = "The date") -> date:
    text = _text(value)
    try:
        parsed = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(f"{what} must be a date like 2026-12-31.")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput(f"{what} must be between {MIN_YEAR} and {MAX_YEAR}.")
    return parsed


def parse_timestamp(value, what: str = "The time") -> datetime:
    """An ISO 8601 date and time with its UTC offset, as an aware UTC datetime (years as parse_date)."""
    text = _text(value)
    try:
        # fromisoformat alone lets a trailing NUL through
        readable = 19 <= len(text) <= 32 and text.isascii() and not has_forbidden_characters(text)
        parsed = datetime.fromisoformat(text) if readable else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(f"{what} must be a date and time like 2026-12-31T23:59:00+00:00.")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput(f"{what} must be between {MIN_YEAR} and {MAX_YEAR}.")
    return parsed.astimezone(UTC)


def has_forbidden_characters(value: str, *, line_breaks: bool = True) -> bool:
    """NUL and other control characters (tab, CR and LF are allowed in free text unless
    line_breaks=False: in a URL, a name or a search term they are never meant)."""
    allowed = _ALLOWED_CONTROLS if line_breaks else set()
    return any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in value)


def control_character_refusal(value: str, *, what: str, line_breaks: bool = True) -> str | None:
    """The message for a value holding NUL or other control characters, or None when it is clean."""
    if not has_forbidden_characters(value, line_breaks=line_breaks):
        return None
    kinds = "NUL or control characters" if line_breaks else "NUL, control characters or line breaks"
    return f"{what} contains {kinds}, which are not allowed."


def clean_text(value, *, max_length: int, what: str = "The text", single_line: bool = False) -> str:
    text = "" if value is None else str(value)
    if has_forbidden_characters(text) or (single_line and ("\r" in text or "\n" in text)):
        raise InvalidInput(f"{what} contains characters that are not allowed.")
    text = text.strip()
    if len(text) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length:,} characters.")
    return text


@cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name zoneinfo knows (read from tzdata once per process)."""
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def parse_time_zone(value, what: str = "The time zone") -> str:
    """An IANA time zone name zoneinfo knows ("Europe/Paris", "UTC")."""
    name = _text(value)
    if name not in time_zone_names():
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise InvalidInput(f"{what} {shown!r} is not a time zone name such as Europe/Paris or UTC.")
    return name


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """One IP or CIDR range per line (or separated by spaces/commas); ValueError names a bad one."""
    networks = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item[:60]} is not an IP address or CIDR range.") from None
    return networks
