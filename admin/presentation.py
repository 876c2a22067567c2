"""How the back office writes money, times and gateways for people: one function each, used by
the Jinja filters (`money`, `datetime`, `date`, `gateway`, registered once in init_admin) and by
every list's column formatters, so a grid, a page and a summary all say it the same way.

- money: the default currency (models/currency.py), read once per request;
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

from extensions import db
from models import Gateway
from models.currency import Currency, default_currency

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


def currency() -> Currency:
    return per_request("currency", lambda: default_currency(db.session))


def format_money(amount: Decimal | int | None) -> str:
    return currency().format(amount)


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


def gateway_names() -> dict[str, str]:
    return per_request("gateways", lambda: dict(
        db.session.execute(select(Gateway.name, Gateway.display_name)).all()))


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
    return format_money(getattr(model, name))


def gateway_column(view, context, model, name) -> str:
    return gateway_name(getattr(model, name))




def format_promotion_value(promo_type: str | None, value: Decimal | None) -> str:
    """A promotion's value: "10%" for a percentage, an amount of money otherwise."""
    if value is None:
        return ""
    if promo_type == "Percentage":
        return f"{value.normalize():f}%"
    return format_money(value)


def promotion_value_column(view, context, model, name) -> str:
    return format_promotion_value(model.type, getattr(model, name))


def register_filters(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(gateway_name, "gateway")
    app.add_template_global(format_promotion_value, "promotion_value")
