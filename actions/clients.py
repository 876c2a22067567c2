"""Adding a client (the API's AddClient; the admin's client form edits rows directly)."""

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions.client_currency import change_client_currency
from actions.custom_fields import client_answer_problems, set_answers
from actions.errors import TransitionError
from models import Client, ClientStatus

EMAIL_TAKEN = "A user already exists with that email address"


class ClientError(ValueError):
    pass


@dataclass
class ClientDetails:
    first_name: str
    last_name: str
    email: str
    company_name: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = "US"
    phone: str = ""
    notes: str = ""
    custom_fields: dict[int, str] = field(default_factory=dict)  # client custom field id -> answer
    currency_id: int | None = None  # None: the default currency


def add_client(session: Session, details: ClientDetails) -> Client:
    """A new Active client; ClientError when the email is taken (checked regardless of case) or an
    answer to a client custom field is refused (nothing written)."""
    fields, answers, errors = client_answer_problems(session, details.custom_fields)
    if errors:
        raise ClientError("customfields: " + " ".join(m for messages in errors.values() for m in messages))
    email = details.email.strip()
    if session.scalar(select(Client.id).where(func.lower(Client.email) == email.lower()).limit(1)):
        raise ClientError(EMAIL_TAKEN)
    client = Client(
        first_name=details.first_name,
        last_name=details.last_name,
        email=email,
        company_name=details.company_name,
        address1=details.address1,
        address2=details.address2,
        city=details.city,
        state=details.state,
        postcode=details.postcode,
        country=details.country,
        phone=details.phone,
        notes=details.notes,
        status=ClientStatus.ACTIVE,
    )
    if details.currency_id is not None:
        try:
            change_client_currency(session, client, details.currency_id)
        except TransitionError:
            raise ClientError("Invalid currency") from None
    try:
        with session.begin_nested():  # a client added with the same email at the same moment
            session.add(client)
            session.flush()
    except IntegrityError:
        raise ClientError(EMAIL_TAKEN) from None
    if answers:
        set_answers(client, fields, answers)
        session.flush()
    return client
