"""Fraud checks, the parts screening and Run Fraud Check share (models/fraud.py, docs/fraud.md).

    active_fraud_settings(session) -> FraudModuleSettings | None   None: fraud checking is off
    fraud_params(session, settings, client, amount, ip_address, order_id=0) -> FraudParams
    run_module(settings, params) -> FraudResult    the network call, bounded by settings.timeout;
                                                   a module that raises is an error result, never
                                                   an exception (a check never blocks an order)
    record_result(session, order, settings, result, actor) -> FraudCheck
        the fraud_checks row, the order's summary columns (fraud_module, fraud_score,
        fraud_output, fraud_check_failed) and a fraud_checked event. Flushes, never commits.

The licence key reaches the module only: every error and raw answer stored is redacted first.
"""

import logging
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.redaction import redact
from models import Client, FraudCheck, FraudModuleSettings, FraudVerdict, Order, Setting
from models.fraud import ACTIVE_MODULE_SETTING
from modules.base import ClientInfo, FraudParams, FraudResult
from modules.registry import UnknownModule, get_fraud_module

log = logging.getLogger(__name__)

# What a Numeric(5, 2) score column holds (MaxMind scores are 0.01 to 99).
MAX_SCORE = Decimal("999.99")
# A module call never holds a request longer than this, whatever the settings say.
MAX_TIMEOUT = 30


def active_fraud_settings(session: Session) -> FraudModuleSettings | None:
    """The active module's settings, in one query (the order page asks on every view)."""
    return session.scalar(select(FraudModuleSettings).join(
        Setting, Setting.value == FraudModuleSettings.module).where(Setting.key == ACTIVE_MODULE_SETTING))


def module_settings(settings: FraudModuleSettings) -> dict:
    """What the module receives (the licence key included: never log this dict)."""
    return {
        "account_id": settings.account_id,
        "license_key": settings.license_key or "",
        "host": settings.host,
        "service": settings.service,
        "timeout": min(max(settings.timeout or 1, 1), MAX_TIMEOUT),
        "reject_free_email": settings.reject_free_email,
        "reject_country_mismatch": settings.reject_country_mismatch,
        "reject_anonymous_proxy": settings.reject_anonymous_proxy,
        "high_risk_countries": list(settings.high_risk_countries or [])
        if settings.reject_high_risk_countries else [],
    }


def fraud_params(
    session: Session, settings: FraudModuleSettings, client: Client, amount: Decimal, ip_address: str,
    order_id: int = 0,
) -> FraudParams:
    return FraudParams(
        order_id=order_id,
        client=ClientInfo(id=client.id, name=f"{client.first_name} {client.last_name}".strip(),
                          email=client.email or "", company=client.company_name or "",
                          country=client.country or ""),
        ip_address=ip_address,
        amount=amount,
        currency=client.currency.code,  # the order's amount is in the client's currency
        threshold=settings.threshold,
        settings=module_settings(settings),
    )


def run_module(settings: FraudModuleSettings, params: FraudParams) -> FraudResult:
    try:
        return get_fraud_module(settings.module).check(params)
    except UnknownModule as exc:
        return FraudResult(score=Decimal(0), is_fraud=False, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a module bug must not lose the order
        message = redact(f"{type(exc).__name__}: {exc}", [params.settings.get("license_key", "")])
        log.warning("Fraud module %s failed: %s", settings.module, message)
        return FraudResult(score=Decimal(0), is_fraud=False, error=f"The fraud module failed ({message})")


def verdict_of(result: FraudResult) -> str:
    if not result.checked:
        return FraudVerdict.FAILED
    return FraudVerdict.FRAUD if result.is_fraud else FraudVerdict.PASSED


def _redacted(value, secrets: list[str]):
    """The answer with every secret taken out, whatever its depth (keys included)."""
    if isinstance(value, dict):
        return {redact(str(k), secrets): _redacted(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v, secrets) for v in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def _score(result: FraudResult) -> Decimal | None:
    if not result.checked:
        return None
    return min(max(Decimal(result.score), Decimal(0)), MAX_SCORE).quantize(Decimal("0.01"))


def record_result(
    session: Session, order: Order, settings: FraudModuleSettings, result: FraudResult, actor: Actor
) -> FraudCheck:
    secrets = [settings.license_key or ""]
    verdict = verdict_of(result)
    error = redact(result.error, secrets)
    raw = _redacted(result.raw or {}, secrets)
    check = FraudCheck(
        order_id=order.id, module=settings.module, service=settings.service, score=_score(result),
        threshold=settings.threshold, verdict=verdict, error=error,
        reasons=_redacted(list(result.reasons), secrets), details=_redacted(dict(result.details), secrets),
        raw=raw, actor_name=actor.name,
    )
    session.add(check)
    session.flush()
    order.fraud_module = settings.module
    order.fraud_score = check.score
    order.fraud_output = {"verdict": verdict, "reasons": check.reasons, "error": error, "raw": raw}
    order.fraud_check_failed = verdict == FraudVerdict.FAILED
    events.fraud_checked(session, order.id, actor, check.id, settings.module, verdict, check.score,
                         settings.threshold, error)
    session.flush()
    return check

