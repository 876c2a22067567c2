"""The job: run one side-effect row (DESIGN.md §5). The same function runs under an RQ worker and
in-process (embedded mode, no REDIS_URL).

One attempt = claim the row in its own transaction, build plain module parameters from the ORM
rows, call the module outside any transaction, then record the outcome through actions/.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.apply_upgrade import UpgradeNotApplicable, package_for
from actions.config_options import configoptions_param
from actions.custom_fields import module_custom_fields
from actions.hook_events import record_delivery as record_hook_delivery
from actions.side_effect_outcomes import complete_side_effect, fail_side_effect, start_side_effect
from actions.side_effects import record_email, username_for
from extensions import db
from jobs import mail
from jobs.queueing import enqueue, get_queue
from models import (
    Client,
    Domain,
    Gateway,
    HookEndpoint,
    Invoice,
    Server,
    Service,
    ServiceAddon,
    Setting,
    SideEffect,
    SideEffectKind,
    Transaction,
    utcnow,
)
from models.email_defaults import AUTOMATIC_SETUP_FAILED
from modules import event_hooks
from modules import mail as mail_module
from modules.base import (
    AddonInfo,
    ClientInfo,
    DomainParams,
    ModuleResult,
    PaymentParams,
    ServerInfo,
    ServiceParams,
    SmtpSettings,
)
from modules.registry import UnknownModule, get_gateway_module, get_registrar_module, get_server_module

log = logging.getLogger(__name__)

ModuleCall = Callable[[], ModuleResult]


class NotRunnable(Exception):  # noqa: N818 - reads as the reason given to the admin
    """The row cannot run as recorded (its item is gone, no gateway, ...): retrying will not help."""


def run_side_effect(effect_id: int, attempt: int) -> str:
    """Run the attempt that follows `attempt` attempts of a side effect (jobs.queueing: one job per
    attempt); returns what happened (for logs and RQ's result)."""
    with Session(db.engine) as session:
        effect = start_side_effect(session, effect_id, attempt)
        session.commit()
        if effect is None:
            return f"skipped: no queued attempt {attempt + 1} (done, cancelled, running or a later attempt)"
        attempt = effect.attempts
        return record_outcome(session, effect_id, attempt, attempt_call(session, effect))


def attempt_call(session: Session, effect: SideEffect) -> ModuleResult:
    """Prepare and make the module call; any error becomes a failed result, so the row never
    stays stuck in running because of a bug or a database hiccup."""
    try:
        call = prepare_call(session, effect)
        session.commit()  # a generated username / the rendered email exist before the call
    except (NotRunnable, UnknownModule) as exc:
        session.rollback()
        return ModuleResult.fail(str(exc))
    except Exception as exc:
        log.exception("Side effect %s: could not prepare the call", effect.id)
        session.rollback()
        return ModuleResult.fail(f"{type(exc).__name__}: {exc}", retryable=True)
    try:
        return call()
    except Exception as exc:
        log.exception("Side effect %s: module raised", effect.id)
        return ModuleResult.fail(f"{type(exc).__name__}: {exc}", retryable=True)


def record_outcome(session: Session, effect_id: int, attempt: int, result: ModuleResult) -> str:
    """Record the attempt's result in one transaction, which takes the order's lock first (see
    actions.side_effect_outcomes); nothing is recorded if the attempt no longer owns the row."""
    effect = session.get(SideEffect, effect_id)
    retry_at = None
    if not result.success and result.retryable and attempt < max_attempts():
        retry_at = utcnow() + retry_delay(attempt)
    if result.success:
        owned = complete_side_effect(session, effect, result, attempt=attempt)
    else:
        owned = fail_side_effect(session, effect, result.message, retry_at=retry_at, attempt=attempt)
    if not owned:
        session.commit()  # the compensating terminate a superseded create may have recorded
        return f"superseded: attempt {attempt} no longer owns the row"
    if not result.success and retry_at is None and effect.kind in SETUP_KINDS:
        notify_setup_failed(session, effect)
    if effect.kind == SideEffectKind.EMAIL:
        mail.record_delivery(session, effect, result, final=retry_at is None)
    if effect.kind == SideEffectKind.HOOK_DELIVERY:
        record_hook_delivery(session, effect, result)
    session.commit()
    if retry_at is not None:
        schedule_retry(effect_id, attempt, retry_at - utcnow())
        return f"retry at {retry_at.isoformat()}: {result.message}"
    return f"{'succeeded' if result.success else 'failed'}: {result.message}"


def max_attempts() -> int:
    """Tries per side effect, from the configuration (one setting for every row, old or new)."""
    return int(current_app.config["SIDE_EFFECT_MAX_ATTEMPTS"])


def retry_delay(attempt: int) -> timedelta:
    """Exponential back-off: base, 2*base, 4*base ... capped (default 30 s, 1 min, 2 min ... 1 h)."""
    base = float(current_app.config.get("SIDE_EFFECT_RETRY_BASE_SECONDS", 30))
    cap = float(current_app.config.get("SIDE_EFFECT_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(base * 2 ** (attempt - 1), cap))


def schedule_retry(effect_id: int, attempts: int, delay: timedelta) -> None:
    """With Redis, schedule the next attempt (RQ's scheduler moves it when due, and the sweeper if
    the scheduler does not); embedded, or if Redis is down, the sweeper runs the row once due."""
    if not current_app.config.get("REDIS_URL"):
        return
    try:
        enqueue(get_queue(), effect_id, attempts, delay)
    except RedisError as exc:
        log.warning("Could not schedule retry of side effect %s (the sweeper will): %s", effect_id, exc)


# The creates whose last failed try tells the admins.
SETUP_KINDS = (SideEffectKind.MODULE_CREATE, SideEffectKind.ADDON_CREATE)


def notify_setup_failed(session: Session, effect: SideEffect) -> None:
    """The last try of a create failed: tell every active admin (WHMCS "Automatic Setup Failed")."""
    model = ServiceAddon if effect.kind == SideEffectKind.ADDON_CREATE else Service
    item = session.get(model, effect.target_id) if effect.target_id else None
    ids = {"service_id": item.service_id, "addon_id": item.id} if isinstance(item, ServiceAddon) else {
        "service_id": effect.target_id}
    record_email(
        session,
        template=AUTOMATIC_SETUP_FAILED,
        to=", ".join(mail.active_admin_emails(session)),
        client_id=item.client_id if item else None,
        order_id=effect.order_id,
        context={**ids, "error": effect.last_error, "attempts": effect.attempts},
    )


# --- plain module parameters from the ORM rows ---------------------------------------------------


def prepare_call(session: Session, effect: SideEffect) -> ModuleCall:
    """Read what the module needs now, inside the session; the returned call uses plain data only
    (for a disabled email template, a call that reports there was nothing to send)."""
    kind = effect.kind
    if kind in (SideEffectKind.MODULE_CREATE, SideEffectKind.MODULE_TERMINATE):
        service = _get(session, Service, effect)
        params = service_params(session, service, effect)
        module = get_server_module(service.product.module)
        return lambda: (module.create if kind == SideEffectKind.MODULE_CREATE else module.terminate)(params)
    if kind == SideEffectKind.MODULE_CHANGE_PACKAGE:
        service = _get(session, Service, effect)
        try:
            module_name, package = package_for(session, effect)
        except UpgradeNotApplicable as exc:
            raise NotRunnable(str(exc)) from None
        params = replace(service_params(session, service, effect), **package)  # the new package
        module = get_server_module(module_name)
        return lambda: module.change_package(params)
    if kind in (SideEffectKind.ADDON_CREATE, SideEffectKind.ADDON_TERMINATE):
        item = _get(session, ServiceAddon, effect)
        params = replace(service_params(session, item.service, effect), addon=addon_info(item))
        module = get_server_module(item.addon.module)
        command = module.addon_create if kind == SideEffectKind.ADDON_CREATE else module.addon_terminate
        return lambda: command(params)
    if kind in (SideEffectKind.DOMAIN_REGISTER, SideEffectKind.DOMAIN_TRANSFER):
        domain = _get(session, Domain, effect)
        registrar = effect.payload.get("registrar") or domain.registrar
        if not registrar:
            raise NotRunnable(f"No registrar is set for {domain.name}")
        module = get_registrar_module(registrar)
        params = domain_params(session, domain, registrar, effect)
        return lambda: (module.register if kind == SideEffectKind.DOMAIN_REGISTER else module.transfer)(
            params
        )
    if kind in (SideEffectKind.REFUND, SideEffectKind.CAPTURE):
        invoice = _get(session, Invoice, effect)
        gateway, params = payment_params(session, invoice, effect)
        module = get_gateway_module(gateway.module)
        return lambda: (module.refund if kind == SideEffectKind.REFUND else module.capture)(params)
    if kind == SideEffectKind.EMAIL:
        try:
            message = mail.prepare_email(session, effect)
        except mail.UnsendableEmailError as exc:
            raise NotRunnable(str(exc)) from None
        if message is None:
            return lambda: ModuleResult.ok("Template disabled: not sent")
        settings = smtp_settings()
        return lambda: mail_module.send(message, settings)
    if kind == SideEffectKind.HOOK_DELIVERY:
        endpoint = _get(session, HookEndpoint, effect)
        if not endpoint.active:
            raise NotRunnable("The event hook endpoint is inactive: the event was not sent")
        url, secret, envelope = endpoint.url, endpoint.secret or "", dict(effect.payload)
        timeout, allowed = module_timeout(), current_app.config.get("HOOK_ALLOWED_NETWORKS") or []
        return lambda: event_hooks.deliver(url, secret, envelope, timeout, allowed)
    raise NotRunnable(f"Unknown side effect kind {kind!r}")


def _get(session: Session, model, effect: SideEffect):
    row = session.get(model, effect.target_id) if effect.target_id else None
    if row is None:
        raise NotRunnable(f"{model.__name__} {effect.target_id} no longer exists")
    return row


def client_info(client: Client) -> ClientInfo:
    return ClientInfo(
        id=client.id,
        name=client.full_name,
        email=client.email,
        company=client.company_name,
        country=client.country,
    )


def service_params(session: Session, service: Service, effect: SideEffect) -> ServiceParams:
    if not service.username:
        # Chosen once and committed before the call, so every retry reuses it.
        service.username = effect.payload.get("username") or username_for(service)
    server_id = effect.payload.get("server_id") or service.server_id
    server = session.get(Server, server_id) if server_id else service.product.default_server
    return ServiceParams(
        service_id=service.id,
        order_id=service.order_id or 0,
        client=client_info(service.client),
        product_name=service.product.name,
        product_type=service.product.type,
        domain=service.domain,
        username=service.username,
        password=service.password or "",
        billing_cycle=service.billing_cycle,
        server=ServerInfo(
            id=server.id,
            name=server.name,
            hostname=server.hostname,
            url=server.url,
            secret=server.secret or "",
            timeout=module_timeout(),
        )
        if server
        else None,
        idempotency_key=effect.idempotency_key,
        configoptions=configoptions_param(service),
        customfields=module_custom_fields(service),
    )


def addon_info(item: ServiceAddon) -> AddonInfo:
    return AddonInfo(id=item.id, addon_id=item.addon_id, name=item.addon.name,
                     billing_cycle=item.billing_cycle, recurring_amount=item.recurring_amount)


def domain_params(session: Session, domain: Domain, registrar: str, effect: SideEffect) -> DomainParams:
    settings = _parse_json(_setting(session, f"registrar:{registrar}"))
    settings.setdefault("timeout", module_timeout())
    return DomainParams(
        domain_id=domain.id,
        order_id=domain.order_id or 0,
        client=client_info(domain.client),
        name=domain.name,
        period_years=domain.period_years,
        epp_code=domain.epp_code or "",
        dns_management=domain.dns_management,
        email_forwarding=domain.email_forwarding,
        id_protection=domain.id_protection,
        registrar_settings=settings,
        idempotency_key=effect.idempotency_key,
    )


def payment_params(session: Session, invoice: Invoice, effect: SideEffect) -> tuple[Gateway, PaymentParams]:
    """Refund payload: {payment_id, amount, gateway, gateway_transaction_id}; capture: {amount, ...}."""
    payload = effect.payload
    payment = session.get(Transaction, payload["payment_id"]) if payload.get("payment_id") else None
    gateway_name = payload.get("gateway") or (payment.gateway if payment else invoice.payment_method)
    gateway = session.scalar(select(Gateway).where(Gateway.name == gateway_name))
    if gateway is None:
        raise NotRunnable(f"No payment gateway named {gateway_name!r}")
    params = PaymentParams(
        invoice_id=invoice.id,
        amount=Decimal(str(payload.get("amount") or invoice.balance)),
        currency=invoice.currency.code,  # the gateway charges in the invoice's currency
        gateway_settings=_parse_json(gateway.settings),
        transaction_id=payload.get("gateway_transaction_id") or (payment.transaction_id if payment else ""),
        client=client_info(invoice.client),
        idempotency_key=effect.idempotency_key,
        payment_method_id=str(payload.get("payment_method_id", "")),
        customer_id=str(payload.get("customer_id", "")),
        description=f"Invoice #{invoice.id}",
    )
    return gateway, params


def smtp_settings() -> SmtpSettings | None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return None
    return SmtpSettings(
        host=config["MAIL_SERVER"],
        port=int(config.get("MAIL_PORT") or 25),
        username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "",
        security="starttls" if config.get("MAIL_USE_TLS") else "none",
        timeout=module_timeout(),
    )


def module_timeout() -> float:
    """Seconds a module may wait on the far side (HTTP, SMTP), from the configuration."""
    return float(current_app.config.get("MODULE_TIMEOUT_SECONDS", 10))


def _setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row is not None else None


def _parse_json(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        raise NotRunnable("Module settings are not valid JSON") from None
    return value if isinstance(value, dict) else {}
