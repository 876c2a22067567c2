"""How values look on the wire (reference/whmcs-api.md §3.8): ids as integers, money as strings
with two decimals, tax rates with three, dates as text with WHMCS's zero value for "never"."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BillingCycle, Currency

NEVER_DATE = "0000-00-00"
NEVER_DATETIME = "0000-00-00 00:00:00"
ZERO_RATE = "0.000"

# WHMCS's system names for billing cycles (requests) and ours (display, line items).
CYCLE_BY_SYSTEM_NAME = {
    "onetime": BillingCycle.ONE_TIME,
    "monthly": BillingCycle.MONTHLY,
    "quarterly": BillingCycle.QUARTERLY,
    "semiannually": BillingCycle.SEMI_ANNUALLY,
    "annually": BillingCycle.ANNUALLY,
    "biennially": BillingCycle.BIENNIALLY,
    "triennially": BillingCycle.TRIENNIALLY,
}
SYSTEM_NAME_BY_CYCLE = {cycle: name for name, cycle in CYCLE_BY_SYSTEM_NAME.items()}

def money(amount: Decimal | None) -> str:
    return f"{amount or Decimal('0.00'):.2f}"


def day(value: date | None) -> str:
    return value.isoformat() if value else NEVER_DATE


def moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else NEVER_DATETIME


def collection(item: str, rows: list, empty_string: bool = True):
    """{"<item>": [...]}, or "" for no rows where live WHMCS sends an empty string."""
    if not rows and empty_string:
        return ""
    return {item: rows}


def currencies(session: Session) -> dict:
    """Each currency's WHMCS fields by id ({id, code, prefix, suffix}); the default one under None."""
    rows = {}
    for c in session.scalars(select(Currency)):
        rows[c.id] = {"id": c.id, "code": c.code, "prefix": c.prefix, "suffix": c.suffix}
        if c.is_default:
            rows[None] = rows[c.id]
    return rows
