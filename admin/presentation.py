"""How the back office writes money, times and gateways for people: one function each, used by
the Jinja filters (`money`, `datetime`, `date`, `gateway`, registered once in init_admin) and by
every list's column formatters, so a grid, a page and a summary all say it the same way.

- money: in the currency of the order, invoice or client it belongs to (models/currency.py; the
  default currency when none is named), the currencies read once per request;
- datetime: one format, "2026-12-01 14:05:09 CET", no fractions of a second, in the signed-in admin's
  time zone (their profile setting; times are stored UTC);
- gateway: a payment method's display name ("Bank Transfer", not "banktransfer"), from one query
  per request over the (small) gateways table.

Per-request caches live in request.environ (an app context may outlive a request, as in tests),
so a 50-row grid reads each at most once: never a query per row.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from extensions import db, read_columns
from models import Client, Gateway
from models.currency import Currency

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"
DATE_FORMAT = "%Y-%m-%d"


def per_request(key: str, load):
    """load(), computed at most once per request (outside a request: every time)."""
    if not has_request_context():
        return load()
    cache_key = f"orderdesk.presentation.{key}"
    if cache_key not in request.environ:
        request.environ[cache_key] = load()
    return request.environ[cache_key]


_CURRENCIES = select(Currency)  # built once: every page with an amount reads it


def currencies() -> dict[int | None, Currency]:
    """Every currency by id (a handful of rows), and the default one under None."""
    def load():
        rows = {c.id: c for c in db.session.scalars(_CURRENCIES)}
        rows[None] = next(c for c in rows.values() if c.is_default)
        return rows
    return per_request("currencies", load)


def currency(currency_id: int | None = None) -> Currency:
    """A currency by id; the default one for None (or an id no longer there)."""
    known = currencies()
    return known.get(currency_id, known[None])


def format_money(amount: Decimal | int | None, currency_id: int | None = None) -> str:
    """An amount in the currency `currency_id` names (the default one when None)."""
    return currency(currency_id).format_amount(amount)


def _client_currencies() -> dict[int, int]:
    return per_request("client_currencies", dict)


def currency_id_of(model) -> int | None:
    """The currency a row's amounts are in: its own (orders, invoices, clients), else its client's
    (services, domains, addons), looked up once per client per request; None: the default."""
    own = getattr(model, "currency_id", None)
    if own is not None or len(currencies()) <= 2:  # one currency: nothing to look up
        return own
    client_id = getattr(model, "client_id", None)
    if client_id is None:
        return None
    known = _client_currencies()
    if client_id not in known:
        known[client_id] = db.session.scalar(select(Client.currency_id).where(Client.id == client_id))
    return known[client_id]


def admin_zone() -> ZoneInfo:
    """The signed-in admin's zone; UTC when signed out or when the stored name is unknown."""
    name = "UTC"
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        name = getattr(current_user, "time_zone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(value: datetime | None, zone: ZoneInfo | None = None) -> str:
    """`zone`: the admin's (admin_zone()), when the caller already has it (a grid, once per page)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # stored UTC; a naive value is UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone or admin_zone()).strftime(DATETIME_FORMAT)


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # a moment: the admin's calendar day
        return format_datetime(value)[:10]
    return value.strftime(DATE_FORMAT)


_GATEWAY_NAMES = select(Gateway.name, Gateway.display_name)  # built once: every list page reads it


def gateway_names() -> dict[str, str]:
    return per_request("gateways", lambda: dict(read_columns(_GATEWAY_NAMES).all()))


def gateway_name(name: str | None) -> str:
    """The display name of a payment method (a gateway's system name); unknown ones as stored."""
    if not name:
        return ""
    return gateway_names().get(name, name)


# --- Flask-Admin formatters: type formatters (every list and details page) and column formatters


def datetime_type_formatter(view, value, name) -> str:
    return format_datetime(value)


def date_type_formatter(view, value, name) -> str:
    return format_date(value)


def money_column(view, context, model, name) -> str:
    return format_money(getattr(model, name), currency_id_of(model))


def gateway_column(view, context, model, name) -> str:
    return gateway_name(getattr(model, name))




def format_promotion_value(promo_type: str | None, value: Decimal | None,
                           currency_id: int | None = None) -> str:
    """A promotion's value: "10%" for a percentage, an amount of money otherwise."""
    if value is None:
        return ""
    if promo_type == "Percentage":
        return f"{value.normalize():f}%"
    return format_money(value, currency_id)


def promotion_value_column(view, context, model, name) -> str:
    return format_promotion_value(model.type, getattr(model, name))


def register_filters(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(gateway_name, "gateway")
    app.add_template_global(format_promotion_value, "promotion_value")
