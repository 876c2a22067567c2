"""Configuring currencies (Setup > Currencies): codes, formats, rates and which one is the default.

The default currency has rate 1; every other rate says what 1 of the default buys. Making another
currency the default divides every rate by its rate (so the old default gets 1 / that rate), which
keeps what each rate means. Once an order or invoice exists the default no longer changes: their
recorded rates are against it. Rates are typed by hand: nothing is fetched from elsewhere.
A currency that clients, prices, orders or invoices use cannot be deleted.
"""

import re
from decimal import ROUND_HALF_UP

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from models import AddonPrice, Client, ConfigOptionPrice, Currency, Invoice, Order, ProductPrice, TldPrice
from models.base import Rate
from models.bounds import MAX_RATE
from models.catalog import PromotionAmount
from models.currency import ONE, CurrencyFormat

CODE = re.compile(r"^[A-Z]{3}$")
USERS = (Client, Order, Invoice, ProductPrice, TldPrice, AddonPrice, ConfigOptionPrice, PromotionAmount)


class CurrencyError(ValueError):
    pass


def check_currency(session: Session, currency: Currency) -> None:
    """Validate a new or edited currency as the form left it; a new default takes over. Raises
    CurrencyError (the caller rolls back: nothing changed)."""
    currency.code = (currency.code or "").strip().upper()
    if not CODE.match(currency.code):
        raise CurrencyError("The code must be three letters (ISO 4217), e.g. EUR.")
    if currency.format not in set(CurrencyFormat):
        raise CurrencyError("Choose one of the four formats.")
    if len(currency.prefix or "") > 10 or len(currency.suffix or "") > 10:
        raise CurrencyError("The prefix and the suffix are at most 10 characters each.")
    with session.no_autoflush:
        taken = select(Currency.id).where(Currency.code == currency.code)
        if currency.id is not None:
            taken = taken.where(Currency.id != currency.id)
        if session.scalar(taken) is not None:
            raise CurrencyError(f"A currency with code {currency.code} already exists.")
        was_code = inspect(currency).attrs.code.history.deleted
        if currency.id is not None and was_code and was_code[0] != currency.code:
            used_by = _used_by(session, currency.id)
            if used_by:  # an invoice in EUR stays in EUR: its emails and gateways say so
                raise CurrencyError(f"{was_code[0]} is used by {used_by}: its code can no longer change.")
        others = select(Currency).where(Currency.is_default)
        if currency.id is not None:
            others = others.where(Currency.id != currency.id)
        current = session.scalar(others)
        was_default = inspect(currency).attrs.is_default.history.deleted == [True]
        if was_default and not currency.is_default:
            raise CurrencyError("There must be a default currency: make another one the default instead.")
        if currency.is_default and current is not None:
            _refuse_switch_once_sold(session, current)
            _take_over_as_default(session, currency, current)
        elif currency.is_default and currency.rate != ONE:
            raise CurrencyError("The default currency's rate is 1.")


def _refuse_switch_once_sold(session: Session, current: Currency) -> None:
    """Orders and invoices record their rate against the current default, and the dashboard and
    exports divide by it: under another default their figures would be labelled in the wrong
    currency. So the default is chosen before the first order or invoice, not after."""
    for model in (Order, Invoice):
        if session.scalar(select(model.id).limit(1)) is not None:
            raise CurrencyError(f"Orders and invoices record their rates against {current.code}: the default "
                                "currency can no longer change (their conversions would be mislabelled).")


def _take_over_as_default(session: Session, new: Currency, old: Currency) -> None:
    """Every rate re-expressed against the new default (the old default's becomes 1 / new rate)."""
    divisor = new.rate
    for other in session.scalars(select(Currency).where(Currency.id != new.id)):
        rate = (other.rate / divisor).quantize(Rate.PLACES, rounding=ROUND_HALF_UP)
        if not 0 < rate <= MAX_RATE:
            raise CurrencyError(f"{other.code}'s rate against {new.code} would be {rate}: out of range.")
        other.rate = rate
    # Before the new default is written: the partial unique index allows one default at a time.
    session.execute(update(Currency).where(Currency.id == old.id).values(is_default=False))
    new.rate = ONE


def delete_currency(session: Session, currency: Currency) -> None:
    """Delete a currency nothing uses; CurrencyError otherwise."""
    if currency.is_default:
        raise CurrencyError(f"{currency.code} is the default currency and cannot be deleted.")
    used_by = _used_by(session, currency.id)
    if used_by:
        raise CurrencyError(f"{currency.code} is used by {used_by} and cannot be deleted.")
    session.delete(currency)


def _used_by(session: Session, currency_id: int) -> str | None:
    """The first kind of row in the currency ("clients", "product prices"...), None when unused."""
    for model in USERS:
        if session.scalar(select(func.count()).select_from(
                select(model.id).where(model.currency_id == currency_id).limit(1).subquery())):
            return model.__tablename__.replace("_", " ")
    return None

