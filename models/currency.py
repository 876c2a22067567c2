"""The default currency and the one way an amount is written for people.

One currency for now (multi-currency is a later issue): the `currency` setting is its ISO code,
`currency_prefix` / `currency_suffix` how amounts are written ("$" and " USD" give "$1,234.50 USD",
WHMCS's style). With neither set, the code follows the amount ("1,234.50 EUR").
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.settings import Setting

CURRENCY_SETTINGS = ("currency", "currency_prefix", "currency_suffix")


@dataclass(frozen=True)
class Currency:
    code: str
    prefix: str = ""
    suffix: str = ""

    def format(self, amount: Decimal | int | None) -> str:
        """"-$1,234.50 USD"; "" for no amount. Two places, rounded as money is stored."""
        if amount is None:
            return ""
        value = Decimal(amount).quantize(Decimal("0.01"))
        sign = "-" if value < 0 else ""
        digits = f"{abs(value):,.2f}"
        if not self.prefix and not self.suffix:
            return f"{sign}{digits} {self.code}".rstrip()
        return f"{sign}{self.prefix}{digits}{self.suffix}"


def default_currency(session: Session) -> Currency:
    """The default currency from the settings (one query)."""
    rows = session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(CURRENCY_SETTINGS)))
    values = dict(rows.all())
    return Currency(code=values.get("currency", "").strip(), prefix=values.get("currency_prefix", ""),
                    suffix=values.get("currency_suffix", ""))
