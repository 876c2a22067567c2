"""Helpers for the invoice action tests: an invoice as committed, with its lines and transactions."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from extensions import db
from models import Invoice


def committed_invoice(invoice_id: int) -> Invoice:
    """The invoice as committed (a new session), its transactions and items loaded, detached."""
    with Session(db.engine) as session:
        invoice = session.scalars(select(Invoice).where(Invoice.id == invoice_id).options(
            selectinload(Invoice.transactions), selectinload(Invoice.items))).one()
        session.expunge_all()
        return invoice
