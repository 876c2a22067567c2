"""Changing the currency a client pays in: allowed until the client has an invoice.

Orders and invoices are in the client's currency, and the services' recurring amounts with them;
once an invoice exists, a new currency would mix currencies on one account (WHMCS fixes it then
too). The admin's client form and any other face call this; nothing else writes currency_id.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.errors import ErrorCode, TransitionError
from models import Client, Currency, Invoice


def change_client_currency(session: Session, client: Client, currency_id) -> None:
    """Put `client` on currency `currency_id`; TransitionError (nothing changed) when it is not a
    currency or the client already has an invoice in another."""
    currency = session.get(Currency, currency_id) if isinstance(currency_id, int) else None
    if currency is None:
        raise TransitionError(ErrorCode.NOT_FOUND, "Choose one of the configured currencies.")
    if client.currency is currency:  # the relationship: currency_id follows it only at the flush
        return
    if client.id is not None and session.scalar(
            select(Invoice.id).where(Invoice.client_id == client.id).limit(1)) is not None:
        raise TransitionError(ErrorCode.NOT_ALLOWED, f"{client} already has invoices in "
                              f"{client.currency.code}: their currency can no longer change.")
    client.currency = currency
