"""Bulk Send Message (WHMCS's mass mail) from the orders grid: one message to the client of each
selected or matching order, sent through the outbox like every other email.

    mass_message(session, template, subject, body) -> MassMessage      (InvalidInput when unusable)
        a stored template by name (enabled, not an admin template), or a subject and body written
        on the spot; both use the WHMCS merge fields ({{ client_name }}, {{ order_number }}, ...)
    mass_mail_recipients(session, orders, limit) -> list[Recipient]
        one per client, with its newest order among `orders` (the order the merge fields describe);
        clients whose account is Closed are left out. TransitionError when there is nobody to
        write to or more than `limit` clients.
    preview_mass_mail(session, orders, message, limit) -> Preview
        how many clients get it, and the message rendered for the first of them
    send_mass_mail(session, orders, message, actor, selection, limit) -> int
        one email side effect (with its email log row) per client and one activity-log event;
        the message must render for the first client first (a broken template sends nothing).
        Flushes, never commits.

`limit` is the app's MASS_MAIL_MAX_RECIPIENTS (each message is an email log row and a job).
`orders` is a list of order ids (the ticked rows) or a SELECT of order ids (every order matching the
grid's filter, built by the grid itself). The email job renders each message with the same sandbox
and merge fields as the preview (jobs.mail.render_preview), so the preview is what is sent.
"""

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.errors import ErrorCode, TransitionError
from actions.side_effects import record_email
from jobs.mail import WRITTEN_BODY, WRITTEN_SUBJECT, WRITTEN_TEMPLATE, UnsendableEmailError, render_preview
from models import Client, ClientStatus, EmailTemplate, Order
from models.bounds import InvalidInput, clean_text

MAX_SUBJECT = 255
MAX_BODY = 10_000


@dataclass(frozen=True)
class MassMessage:
    template: str  # a stored template's name, or WRITTEN_TEMPLATE
    subject: str
    body: str
    stored: bool  # True: the job renders the stored template (as it is when it sends)


@dataclass(frozen=True)
class Recipient:
    client_id: int
    order_id: int
    email: str
    name: str


@dataclass(frozen=True)
class Preview:
    recipients: int
    first: Recipient
    subject: str
    body: str


def mass_mail_templates(session: Session) -> list[EmailTemplate]:
    """The stored templates a mass mail may use: enabled, written to clients (not admin templates)."""
    return list(session.scalars(
        select(EmailTemplate).where(EmailTemplate.disabled.is_(False), EmailTemplate.type != "admin")
        .order_by(EmailTemplate.name)
    ))


def mass_message(session: Session, template: str, subject: str, body: str) -> MassMessage:
    name = clean_text(template, max_length=100, what="The template", single_line=True)
    if name:
        stored = next((t for t in mass_mail_templates(session) if t.name == name), None)
        if stored is None:
            raise InvalidInput(f"There is no enabled client email template named {name!r}.")
        return MassMessage(stored.name, stored.subject, stored.body, stored=True)
    subject = clean_text(subject, max_length=MAX_SUBJECT, what="The subject", single_line=True)
    body = clean_text(body, max_length=MAX_BODY, what="The message")
    if not subject or not body:
        raise InvalidInput("Choose a template, or write both a subject and a message.")
    return MassMessage(WRITTEN_TEMPLATE, subject, body, stored=False)


def _order_ids(orders: list[int] | Select):
    return Order.id.in_(orders)


def mass_mail_recipients(session: Session, orders: list[int] | Select, limit: int) -> list[Recipient]:
    newest = (select(Order.client_id, func.max(Order.id).label("order_id"))
              .where(_order_ids(orders)).group_by(Order.client_id).subquery())
    rows = session.execute(
        select(newest.c.client_id, newest.c.order_id, Client.email, Client.first_name, Client.last_name)
        .join(Client, Client.id == newest.c.client_id)
        .where(Client.status != ClientStatus.CLOSED, Client.email != "")
        .order_by(newest.c.client_id)
        .limit(limit + 1)  # one more than allowed tells "too many" without counting them all
    ).all()
    if not rows:
        raise TransitionError(ErrorCode.NO_RECIPIENTS, "No client to write to: no order is selected, "
                                                       "or the orders' clients are all Closed.")
    if len(rows) > limit:
        raise TransitionError(ErrorCode.TOO_MANY_RECIPIENTS,
                              f"More than {limit:,} clients would get this message; nothing was sent. "
                              "Narrow the filter and send it in parts.")
    return [Recipient(client_id, order_id, email, f"{first} {last}".strip())
            for client_id, order_id, email, first, last in rows]


def _rendered(session: Session, message: MassMessage, recipient: Recipient) -> tuple[str, str]:
    try:
        return render_preview(session, message.subject, message.body,
                              client_id=recipient.client_id, order_id=recipient.order_id)
    except UnsendableEmailError as exc:
        raise InvalidInput(str(exc)) from None


def preview_mass_mail(session: Session, orders: list[int] | Select, message: MassMessage, limit: int
                      ) -> Preview:
    recipients = mass_mail_recipients(session, orders, limit)
    subject, body = _rendered(session, message, recipients[0])
    return Preview(len(recipients), recipients[0], subject, body)


def send_mass_mail(session: Session, orders: list[int] | Select, message: MassMessage, actor: Actor,
                   selection: str, limit: int) -> int:
    recipients = mass_mail_recipients(session, orders, limit)
    _rendered(session, message, recipients[0])  # a message that cannot render is refused, not queued
    written = {} if message.stored else {WRITTEN_SUBJECT: message.subject, WRITTEN_BODY: message.body}
    for recipient in recipients:
        record_email(session, template=message.template, to=recipient.email, client_id=recipient.client_id,
                     order_id=recipient.order_id, context=written)
    events.mass_mail_sent(session, actor, message.template, message.subject, selection[:500], len(recipients))
    session.flush()
    return len(recipients)
