"""Rows the application needs to work: core order statuses, built-in roles, default settings."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    BUILTIN_ROLES,
    CORE_ORDER_STATUSES,
    DEFAULT_SETTINGS,
    Currency,
    EmailTemplate,
    Gateway,
    OrderStatusDefinition,
    Role,
    Setting,
)
from models.email_defaults import DEFAULT_EMAIL_TEMPLATES

DEFAULT_GATEWAYS = [
    dict(name="banktransfer", display_name="Bank Transfer", module="banktransfer", sort_order=1),
]


def default_currency_from_settings(session: Session) -> Currency:
    """The first currency, from the settings one currency used to be (as the migration does)."""
    session.flush()  # the default settings just added
    values = dict(session.execute(select(Setting.key, Setting.value).where(
        Setting.key.in_(("currency", "currency_prefix", "currency_suffix")))).all())
    code = (values.get("currency") or "USD").strip().upper()[:3]
    return Currency(code=code, prefix=values.get("currency_prefix", "")[:10],
                    suffix=values.get("currency_suffix", "")[:10], is_default=True)


def ensure_reference_data(session: Session) -> None:
    """Idempotent: inserts what is missing and keeps built-in roles' permissions current."""
    existing = set(session.scalars(select(OrderStatusDefinition.title)))
    for row in CORE_ORDER_STATUSES:
        if row["title"] not in existing:
            session.add(OrderStatusDefinition(is_core=True, **row))

    roles = {r.name: r for r in session.scalars(select(Role))}
    for name, permissions in BUILTIN_ROLES.items():
        role = roles.get(name) or Role(name=name, builtin=True)
        role.permissions = list(permissions)
        role.builtin = True
        session.add(role)

    keys = set(session.scalars(select(Setting.key)))
    for key, value in DEFAULT_SETTINGS.items():
        if key not in keys:
            session.add(Setting(key=key, value=value))

    if session.scalar(select(Currency.id).where(Currency.is_default)) is None:
        session.add(default_currency_from_settings(session))

    templates = set(session.scalars(select(EmailTemplate.name)))
    for row in DEFAULT_EMAIL_TEMPLATES:
        if row["name"] not in templates:
            session.add(EmailTemplate(**row))

    names = set(session.scalars(select(Gateway.name)))
    for row in DEFAULT_GATEWAYS:
        if row["name"] not in names:
            session.add(Gateway(**row))
    session.flush()
