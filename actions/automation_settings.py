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


def _on(session: Session, key: str) -> bool:
    setting = session.get(Setting, key)
    value = setting.value if setting else DEFAULT_SETTINGS[key]
    return str(value).strip().lower() in ("1", "on", "yes", "true")


def provision_existing_clients_only(session: Session) -> bool:
    """"Only auto-provision for existing clients" (WHMCS AutoProvisionExistingOnly)."""
    return _on(session, "auto_provision_existing_only")


def auto_accept_paid_orders(session: Session) -> bool:
    """"Accept orders automatically once their invoice is paid and every item is set up"."""
    return _on(session, "auto_accept_paid_orders")
