"""The automation's settings, read and bounded in one place (values are strings in `settings`;
a missing or unreadable one counts as its default, so a typo never stops the daily run)."""

from sqlalchemy.orm import Session

from models import DEFAULT_SETTINGS, Setting

MAX_DAYS = 3650


def _days(session: Session, key: str) -> int:
    setting = session.get(Setting, key)
    for value in (setting.value if setting else None, DEFAULT_SETTINGS[key]):
        try:
            return min(max(int(str(value).strip()), 0), MAX_DAYS)
        except (TypeError, ValueError):
            continue
    return 0


def invoice_generation_days(session: Session) -> int:
    """"Invoice Generation Days": how long before its due date a renewal is invoiced."""
    return _days(session, "invoice_generation_days")


def cancel_unpaid_after_days(session: Session) -> int:
    """"Cancel unpaid pending orders after N days"; 0: off."""
    return _days(session, "cancel_unpaid_orders_after_days")
