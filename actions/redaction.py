"""Secrets are never copied in clear (DESIGN.md §3): service passwords, EPP codes, server webhook
secrets and gateway keys live encrypted in their rows, and text the app keeps elsewhere - the
email log's copy of a message, a side effect's error, a timeline event's message - has them
replaced by a placeholder.

    redact(text, secrets) -> text            every occurrence of every secret replaced by HIDDEN
    side_effect_secrets(session, effect)     the secrets a side effect's module call can see
"""

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.custom_fields import custom_field_secrets
from models import (
    Domain,
    Gateway,
    HookEndpoint,
    Invoice,
    Server,
    Service,
    ServiceAddon,
    SideEffect,
    Transaction,
)

HIDDEN = "[hidden]"
# Shorter values are too common to take out of a text without mangling it (and too weak to be a
# secret worth the name: generated passwords are 16 characters).
MIN_SECRET_LENGTH = 4
# Gateway settings whose names contain one of these hold secrets.
_SECRET_SETTING_WORDS = ("key", "secret", "password", "token")


def redact(text: str | None, secrets) -> str:
    text = text or ""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def gateway_setting_secrets(settings: str | None) -> list[str]:
    try:
        values = json.loads(settings) if settings else {}
    except ValueError:
        return [settings] if settings else []  # not JSON: the whole text is the secret
    if not isinstance(values, dict):
        return []
    return [str(value) for name, value in values.items()
            if isinstance(value, str) and any(word in str(name).lower() for word in _SECRET_SETTING_WORDS)]


def side_effect_secrets(session: Session, effect: SideEffect) -> list[str]:
    model = _TARGETS.get(effect.target_type)
    target = session.get(model, effect.target_id) if model is not None and effect.target_id else None
    payload = effect.payload or {}
    if isinstance(target, ServiceAddon):  # an addon's commands carry its service's parameters
        target = target.service
    if isinstance(target, Service):
        server_id = payload.get("server_id") or target.server_id
        server = session.get(Server, server_id) if server_id else target.product.default_server
        return [target.password or "", (server.secret or "") if server is not None else "",
                *custom_field_secrets(target)]
    if isinstance(target, Domain):
        return [target.epp_code or ""]
    if isinstance(target, HookEndpoint):  # an event hook's delivery: the key it signs with
        return [target.secret or ""]
    if isinstance(target, Invoice):  # refunds and captures: the gateway's keys
        payment = session.get(Transaction, payload["payment_id"]) if payload.get("payment_id") else None
        name = payload.get("gateway") or (payment.gateway if payment else target.payment_method)
        gateway = session.scalar(select(Gateway).where(Gateway.name == name)) if name else None
        return gateway_setting_secrets(gateway.settings if gateway is not None else None)
    return []


_TARGETS = {"service": Service, "domain": Domain, "invoice": Invoice, "addon": ServiceAddon,
            "hook_endpoint": HookEndpoint}
