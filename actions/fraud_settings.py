"""Setup > Fraud Protection: which fraud module runs, and its settings.

    save_fraud_settings(session, actor, active_module, form: dict) -> FraudModuleSettings

`form` holds the page's raw values (strings, lists for the multi-selects, booleans for the
boxes); each is parsed and bounded here, and a bad one raises InvalidInput with nothing changed.
The licence key: an empty value keeps the stored one (it is never shown back); "clear_license_key"
removes it. The event names the fields that changed, never their values. Flushes, never commits.
"""

import re
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from models import FraudModuleSettings, FraudService, Gateway, Setting
from models.bounds import InvalidInput, clean_text, parse_int, parse_money
from models.fraud import ACTIVE_MODULE_SETTING
from modules.registry import FRAUD

MAX_THRESHOLD = Decimal("99.99")
MAX_TIMEOUT = 30
_COUNTRY = re.compile(r"[A-Z]{2}")
_FLAGS = ("reject_free_email", "reject_country_mismatch", "reject_anonymous_proxy",
          "reject_high_risk_countries", "skip_existing_clients")


def parse_fraud_form(session: Session, form: dict) -> dict:
    """The settings row's values from the page's raw values (InvalidInput on the first bad one)."""
    account_id = clean_text(form.get("account_id"), max_length=20, what="The account ID", single_line=True)
    if account_id and not account_id.isdigit():
        raise InvalidInput("The account ID must be a number (MaxMind's account ID).")
    service = str(form.get("service") or FraudService.SCORE)
    if service not in set(FraudService):
        raise InvalidInput(f"Unknown service {service[:20]!r}: choose Score, Insights or Factors.")
    threshold = parse_money(form.get("threshold") or "0", what="The risk-score threshold")
    if threshold > MAX_THRESHOLD:
        raise InvalidInput(f"The risk-score threshold must be between 0 and {MAX_THRESHOLD} (0: off).")
    countries = [c.strip().upper() for c in re.split(r"[\s,]+", str(form.get("high_risk_countries") or ""))
                 if c.strip()]
    bad = [c for c in countries if not _COUNTRY.fullmatch(c)]
    if bad or len(countries) > 250:
        raise InvalidInput(f"High-risk countries are two-letter ISO codes, e.g. NG, RU; not {bad[0][:10]!r}."
                           if bad else "At most 250 high-risk countries.")
    gateways = [str(name) for name in form.get("skip_gateways") or []]
    known = set(session.scalars(select(Gateway.name)))
    if unknown := [g for g in gateways if g not in known]:
        raise InvalidInput(f"Unknown payment gateway {unknown[0][:100]!r}.")
    host = clean_text(form.get("host"), max_length=255, what="The service host", single_line=True)
    if host and not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", host):
        raise InvalidInput("The service host is a host name, optionally with :port (HTTPS is always used).")
    values = dict(
        account_id=account_id, service=service, threshold=threshold,
        high_risk_countries=sorted(set(countries)), skip_gateways=sorted(set(gateways)), host=host,
        timeout=parse_int(form.get("timeout") or "10", minimum=1, maximum=MAX_TIMEOUT,
                          what="The timeout (seconds)"),
    )
    values.update({flag: bool(form.get(flag)) for flag in _FLAGS})
    return values


def save_fraud_settings(
    session: Session, actor: Actor, active_module: str, module: str, form: dict
) -> FraudModuleSettings:
    if active_module not in FRAUD:
        raise InvalidInput(f"Unknown fraud module {active_module[:50]!r}.")
    if module not in FRAUD or module == "none":
        raise InvalidInput(f"Unknown fraud module {module[:50]!r}.")
    values = parse_fraud_form(session, form)
    license_key = clean_text(form.get("license_key"), max_length=200, what="The licence key",
                             single_line=True)
    row = session.get(FraudModuleSettings, module)
    stored_key = row.license_key if row is not None else None
    new_key = None if form.get("clear_license_key") else (license_key or stored_key)
    if active_module == module and not (values["account_id"] and new_key):
        raise InvalidInput(f"{module} needs an account ID and a licence key before it can be the active"
                           " module.")
    if row is None:
        row = FraudModuleSettings(module=module)
        session.add(row)
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name, value in values.items():
        setattr(row, name, value)
    if new_key != stored_key:
        changed.append("license_key")
        row.license_key = new_key
    setting = session.get(Setting, ACTIVE_MODULE_SETTING) or Setting(key=ACTIVE_MODULE_SETTING, value="none")
    session.add(setting)
    if setting.value != active_module:
        changed.append("active module")
        setting.value = active_module
    if changed:
        events.fraud_settings_changed(session, actor, module, changed)
    session.flush()
    return row
