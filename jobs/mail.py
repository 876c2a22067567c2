"""Email side effects: render a stored template with WHMCS-style merge fields, log it, send it.

Rows of kind "email" are recorded by actions.side_effects.record_email, which writes the email_log
row (the side effect's target, with the recipients) and the payload
    {"template": "<EmailTemplate.name or 'Product Welcome'>", "email_log_id": <that row>,
     "client_id", "order_id", ...ids and extra merge fields (service_id, error, attempts, ...)}.
No recipients on the log row: the client, or every active admin for admin templates.
order_id and the ids choose the merge fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.redaction import redact
from models import (
    AdminUser,
    Client,
    Domain,
    EmailLog,
    EmailStatus,
    EmailTemplate,
    Invoice,
    Order,
    Service,
    Setting,
    SideEffect,
    SideEffectKind,
    default_currency,
)
from models.email_defaults import OTHER_WELCOME, PRODUCT_WELCOME, WELCOME_BY_PRODUCT_TYPE
from modules.base import EmailMessage, ModuleResult

# Admins edit templates, so they render sandboxed: no attribute access to Python internals.
# A merge field that does not apply (a service field in an order email) renders empty, as in WHMCS.
_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=True)

# Merge fields holding a secret. The message sent carries the value; the email log's copy (which
# read-only roles may open) holds a placeholder instead, filled in again each time it is sent.
SECRET_MERGE_FIELDS = ("service_password",)


def _placeholder(name: str) -> str:
    return f"[{name.replace('_', ' ')} not stored]"


class UnsendableEmailError(Exception):
    """A problem no retry can fix (no template, no recipient, a broken template)."""


def prepare_email(session: Session, effect: SideEffect) -> EmailMessage | None:
    """Render the message into its email_log row (one per side effect: the row record_email wrote,
    or one made here on the first attempt and reused on retries). None when the template is
    disabled: nothing to send. The row keeps the message with its secrets replaced by placeholders
    (SECRET_MERGE_FIELDS); the message sent has them filled in."""
    row = _log_row(session, effect)
    if row is None:
        raise UnsendableEmailError(f"The email log row of side effect {effect.id} no longer exists")
    context = merge_fields(session, effect)
    template = _written_message(effect.payload) or _template(
        session, effect.payload.get("template", ""), context)
    if template.disabled:
        return None
    recipients = _split(row.to) if row.to else _default_recipients(session, template, context)
    if not recipients:
        raise UnsendableEmailError(f"No recipient for {template.name!r}")
    secrets = {name: str(context[name]) for name in SECRET_MERGE_FIELDS if context.get(name)}
    stored = {**context, **{name: _placeholder(name) for name in secrets}}
    try:
        subject = redact(_env.from_string(template.subject).render(stored).strip(), secrets.values())
        body = redact(_env.from_string(template.body).render(stored), secrets.values())
    except TemplateError as exc:
        raise UnsendableEmailError(f"Template {template.name!r} does not render: {exc}") from None
    if not row.body:
        row.template, row.to = template.name, ", ".join(recipients)[:255]
        row.subject, row.body = subject[:255], body
    session.flush()
    return EmailMessage(
        to=_split(row.to),
        subject=_filled_in(row.subject, secrets),
        body_text=_filled_in(row.body, secrets),
        from_addr=current_app.config.get("MAIL_DEFAULT_SENDER") or "",
        # The same Message-ID on every attempt: a receiver can drop the copy a retry sends after an
        # attempt died between the server's 250 and our outcome (SMTP cannot tell us which it was).
        headers={"X-Orderdesk-Side-Effect": effect.idempotency_key,
                 "Message-ID": f"<{effect.idempotency_key}@{_sender_domain()}>"},
    )


def _sender_domain() -> str:
    return (current_app.config.get("MAIL_DEFAULT_SENDER") or "").rpartition("@")[2] or "orderdesk.invalid"


# A message written on the spot (Bulk Send Message) carries its own subject and body in the payload.
WRITTEN_SUBJECT, WRITTEN_BODY = "message_subject", "message_body"
WRITTEN_TEMPLATE = "Mass Mail"  # the email log's template name for such a message


def _written_message(payload: dict) -> EmailTemplate | None:
    if WRITTEN_SUBJECT not in payload:
        return None
    return EmailTemplate(name=payload.get("template") or WRITTEN_TEMPLATE, type="general",
                         subject=str(payload[WRITTEN_SUBJECT]), body=str(payload.get(WRITTEN_BODY, "")),
                         disabled=False)


def render_preview(session: Session, subject: str, body: str, *, client_id: int | None,
                   order_id: int | None) -> tuple[str, str]:
    """Subject and body as the email job would render them for this client and order (the same
    sandbox and merge fields): the preview, and the check a message renders before it is sent."""
    probe = SideEffect(kind=SideEffectKind.EMAIL, order_id=order_id, target_type="email", target_id=None,
                       payload={"client_id": client_id, "order_id": order_id})  # never added: read only
    context = merge_fields(session, probe)
    try:
        return _env.from_string(subject).render(context).strip(), _env.from_string(body).render(context)
    except TemplateError as exc:
        raise UnsendableEmailError(f"The message does not render: {exc}") from None


def _filled_in(text: str, secrets: dict[str, str]) -> str:
    for name, value in secrets.items():
        text = text.replace(_placeholder(name), value)
    return text


def record_delivery(session: Session, effect: SideEffect, result: ModuleResult, final: bool) -> None:
    """The email log beyond what complete/fail_side_effect record: kept only (no SMTP server
    configured) rather than sent, and the last error while a retry is pending."""
    row = _log_row(session, effect)
    if row is None:
        return
    if result.success and not result.data.get("delivered"):
        row.status, row.sent_at = EmailStatus.STORED, None
    elif not result.success and not final:
        row.status, row.error = EmailStatus.QUEUED, result.message


def _split(to: str) -> list[str]:
    return [address.strip() for address in to.split(",") if address.strip()]


def _log_row(session: Session, effect: SideEffect) -> EmailLog | None:
    return session.get(EmailLog, effect.target_id) if effect.target_id else None


def _template(session: Session, name: str, context: dict[str, Any]) -> EmailTemplate:
    if name == PRODUCT_WELCOME:
        name = context.get("welcome_email") or OTHER_WELCOME
    template = session.scalar(select(EmailTemplate).where(EmailTemplate.name == name))
    if template is None:
        raise UnsendableEmailError(f"No email template named {name!r}")
    return template


def _default_recipients(session: Session, template: EmailTemplate, context: dict[str, Any]) -> list[str]:
    if template.type == "admin":
        return active_admin_emails(session)
    return [context["client_email"]] if context.get("client_email") else []


def active_admin_emails(session: Session) -> list[str]:
    """Who gets admin emails (templates of type admin, Automatic Setup Failed)."""
    active = select(AdminUser.email).where(AdminUser.active.is_(True)).order_by(AdminUser.id)
    return list(session.scalars(active))


def merge_fields(session: Session, effect: SideEffect) -> dict[str, Any]:
    """WHMCS merge field names ({$client_name} is {{ client_name }} here) for this message."""
    settings = {row.key: row.value for row in session.scalars(select(Setting))}
    fields: dict[str, Any] = {
        "company_name": settings.get("company_name", ""),
        "signature": settings.get("company_name", ""),
        "admin_order_url": "",
        "order_details": "",
        "order_items": "",
    }
    # Extra values an action passed (error, attempts, ...) first; computed fields win on a clash.
    fields.update({k: v for k, v in effect.payload.items() if k not in _NOT_MERGE_FIELDS})
    ids = _related_ids(effect)
    order = session.get(Order, ids["order"]) if ids.get("order") else None
    service = session.get(Service, ids["service"]) if ids.get("service") else None
    domain = session.get(Domain, ids["domain"]) if ids.get("domain") else None
    invoice = session.get(Invoice, ids["invoice"]) if ids.get("invoice") else None
    invoice = invoice or (order.invoice if order else None)
    client = session.get(Client, ids["client"]) if ids.get("client") else None
    for row in (service, domain, order, invoice):
        client = client or (row.client if row is not None else None)
    if client is not None:
        fields.update(_client_fields(client))
    # Amounts in the invoice's or order's currency (the client's when it was made), else the client's.
    money_row = next((row for row in (invoice, order, client) if row is not None), None)
    currency = money_row.currency.code if money_row is not None else default_currency(session).code
    fields["currency_code"] = currency
    if order is not None:
        fields.update(_order_fields(order, currency))
    if service is not None:
        fields.update(_service_fields(service, currency))
    if domain is not None:
        fields.update(_domain_fields(domain, currency))
    if invoice is not None:
        fields.update(_invoice_fields(invoice, currency))
    return fields


_NOT_MERGE_FIELDS = {"template", "email_log_id", WRITTEN_SUBJECT, WRITTEN_BODY}


def _related_ids(effect: SideEffect) -> dict[str, int]:
    """Which rows the message is about: payload ids (service_id, ...) and the side effect's target."""
    names = ("order", "service", "domain", "invoice", "client")
    ids = {name: effect.payload.get(f"{name}_id") for name in names}
    ids["order"] = ids["order"] or effect.order_id
    if effect.target_type in ids and effect.target_id:
        ids[effect.target_type] = effect.target_id
    return {name: int(value) for name, value in ids.items() if value}


def _money(amount: Decimal | None, currency: str) -> str:
    return f"{amount or Decimal('0.00'):.2f} {currency}".strip()


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _client_fields(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "client_name": client.full_name,
        "client_first_name": client.first_name,
        "client_last_name": client.last_name,
        "client_email": client.email,
        "client_company_name": client.company_name,
        "client_country": client.country,
    }


def _order_fields(order: Order, currency: str) -> dict[str, Any]:
    # One line per item with what the client pays for it now, as WHMCS's {$order_details}.
    lines = [
        f"{s.product.name}{' - ' + s.domain if s.domain else ''} ({s.billing_cycle}): "
        f"{_money(s.first_payment_amount, currency)}"
        for s in order.services
    ]
    lines += [
        f"Domain {d.type}: {d.name} ({d.period_years} year(s)): {_money(d.first_payment_amount, currency)}"
        for d in order.domains
    ]
    items = "\n".join(lines)
    return {
        "order_id": order.id,
        "order_number": order.order_number,
        "order_date": order.date.strftime("%Y-%m-%d %H:%M"),
        "order_total": _money(order.amount, currency),
        "order_payment_method": order.payment_method,
        "order_notes": order.notes,
        "order_items": items,
        "order_details": items,
        "client_ip": order.ip_address,
        "invoice_id": order.invoice_id or "",
        "admin_order_url": f"/admin/orders/details/?id={order.id}",
    }


def _service_fields(service: Service, currency: str) -> dict[str, Any]:
    server = service.server
    product = service.product
    return {
        "service_id": service.id,
        "service_product_name": product.name,
        "service_domain": service.domain,
        "service_username": service.username,
        "service_password": service.password or "",
        "service_billing_cycle": service.billing_cycle,
        "service_first_payment_amount": _money(service.first_payment_amount, currency),
        "service_recurring_amount": _money(service.recurring_amount, currency),
        "service_next_due_date": _day(service.next_due_date),
        "service_status": service.status,
        "service_server_name": server.name if server else "",
        "service_server_hostname": server.hostname if server else "",
        "welcome_email": product.welcome_email or WELCOME_BY_PRODUCT_TYPE.get(product.type, OTHER_WELCOME),
    }


def _domain_fields(domain: Domain, currency: str) -> dict[str, Any]:
    return {
        "domain_id": domain.id,
        "domain_name": domain.name,
        "domain_reg_period": f"{domain.period_years} Year(s)",
        "domain_reg_date": _day(domain.registration_date),
        "domain_next_due_date": _day(domain.next_due_date),
        "domain_first_payment_amount": _money(domain.first_payment_amount, currency),
        "domain_status": domain.status,
    }


def _invoice_fields(invoice: Invoice, currency: str) -> dict[str, Any]:
    contents = "\n".join(f"{item.description}  {_money(item.amount, currency)}" for item in invoice.items)
    payments = [t for t in invoice.transactions if t.amount_in > 0]
    last = payments[-1] if payments else None
    return {
        "invoice_amount_paid": _money(invoice.amount_paid, currency),
        "invoice_balance": _money(invoice.balance, currency),
        "invoice_last_payment_amount": _money(last.amount_in, currency) if last else "",
        "invoice_last_payment_transid": last.transaction_id if last else "",
        "invoice_id": invoice.id,
        "invoice_num": invoice.id,
        "invoice_date_created": _day(invoice.date),
        "invoice_date_due": _day(invoice.due_date),
        "invoice_total": _money(invoice.total, currency),
        "invoice_payment_method": invoice.payment_method,
        "invoice_status": invoice.status,
        "invoice_html_contents": contents,
    }
