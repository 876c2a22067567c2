"""Currencies (WHMCS tblcurrencies) and the one way an amount is written for people.

One currency is the default (`is_default`, rate 1): the dashboard and exports are in it. Every
other currency has a rate: 1 of the default buys `rate` of it (WHMCS's "Base Conv. Rate"), so an
amount converts to the default as amount / rate. Clients, price rows, orders and invoices carry a
currency; orders and invoices also the rate of the day they were placed (models/orders.py).
`prefix` / `suffix` write an amount ("$" and " USD" give "$1,234.50 USD"); with neither, the code
follows it ("1,234.50 EUR"). `format` is WHMCS's: 1 1234.56, 2 1,234.56, 3 1.234,56, 4 1,234.
"""

from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, Rate
from models.bounds import CENT

ONE = Decimal("1.000000")


class CurrencyFormat(IntEnum):
    PLAIN = 1  # 1234.56
    COMMAS = 2  # 1,234.56
    DOTS = 3  # 1.234,56
    WHOLE = 4  # 1,234


FORMAT_LABELS = {CurrencyFormat.PLAIN: "1234.56", CurrencyFormat.COMMAS: "1,234.56",
                 CurrencyFormat.DOTS: "1.234,56", CurrencyFormat.WHOLE: "1,234"}


class Currency(Base):
    __tablename__ = "currencies"
    __table_args__ = (
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("format BETWEEN 1 AND 4", name="format_known"),
        # At most one default: a partial unique index over the rows that are it.
        Index("uq_currencies_one_default", "is_default", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)  # ISO 4217: gateways, emails
    prefix: Mapped[str] = mapped_column(String(10), default="")
    suffix: Mapped[str] = mapped_column(String(10), default="")
    format: Mapped[int] = mapped_column(Integer, default=CurrencyFormat.COMMAS)
    rate: Mapped[Decimal] = mapped_column(Rate(), default=ONE)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    def format_amount(self, amount: Decimal | int | None) -> str:
        """"-$1,234.50 USD"; "" for no amount. Rounded as money is stored."""
        if amount is None:
            return ""
        whole = self.format == CurrencyFormat.WHOLE
        value = Decimal(amount).quantize(Decimal(1) if whole else CENT, rounding=ROUND_HALF_UP)
        sign = "-" if value < 0 else ""
        digits = f"{abs(value):,.0f}" if whole else f"{abs(value):,.2f}"
        if self.format == CurrencyFormat.PLAIN:
            digits = digits.replace(",", "")
        elif self.format == CurrencyFormat.DOTS:
            digits = digits.replace(",", " ").replace(".", ",").replace(" ", ".")
        if not self.prefix and not self.suffix:
            return f"{sign}{digits} {self.code}".rstrip()
        return f"{sign}{self.prefix}{digits}{self.suffix}"


    def __str__(self) -> str:
        return self.code


def to_default(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount in a currency whose rate was `rate`, in the default currency, to the cent."""
    return (amount / rate).quantize(CENT, rounding=ROUND_HALF_UP)


def default_currency(session: Session) -> Currency:
    """The default currency (one query). ensure_reference_data and the migration create it."""
    return session.scalars(select(Currency).where(Currency.is_default)).one()


def default_currency_id():
    """A column default: the default currency's id, looked up by the INSERT itself, so a client or
    a price row written without a currency is in the default one (tests, older callers)."""
    return select(Currency.id).where(Currency.is_default).scalar_subquery()
