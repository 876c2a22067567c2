"""Loading an invoice for an invoice action: the lock, fresh data and the page's version.

    invoice = lock_invoice(session, invoice_or_id, expected_version=None)
    order_id_of(session, invoice_id) -> int | None     the order the invoice belongs to
    touch(invoice)                                     bump the version: open pages become stale
    refuse(refusal)                                    raise the TransitionError of a Refusal

The lock is the invoice's order's (actions.locking.lock_order_row, the lock order actions and
side-effect outcomes take before touching an order's invoice) and then the invoice row's own, so
two clicks, an order action and a capture's outcome never interleave on one invoice. The version
is Invoice.version: `expected_version` is what the page showed; every invoice action bumps it.
"""

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from actions.errors import ErrorCode, TransitionError
from actions.locking import lock_order_row
from models import Invoice, Order

STALE_INVOICE = "This invoice was changed by someone else — reload it and try again"


def order_id_of(session: Session, invoice_id: int) -> int | None:
    return session.scalar(select(Order.id).where(Order.invoice_id == invoice_id).order_by(Order.id).limit(1))


def _lock_invoice_row(session: Session, invoice_id: int) -> bool:
    invoices = Invoice.__table__
    if session.get_bind().dialect.name == "sqlite":  # the database's write lock (see actions.locking)
        session.execute(update(invoices).where(invoices.c.id == invoice_id)
                        .values(version=invoices.c.version))
    found = session.scalar(select(invoices.c.id).where(invoices.c.id == invoice_id).with_for_update())
    return found is not None


def lock_invoice(session: Session, invoice: Invoice | int, expected_version: int | None = None) -> Invoice:
    invoice_id = invoice.id if isinstance(invoice, Invoice) else int(invoice)
    order_id = order_id_of(session, invoice_id)
    if order_id is not None:
        lock_order_row(session, order_id)
    if not _lock_invoice_row(session, invoice_id):
        raise TransitionError(ErrorCode.NOT_FOUND, f"Invoice {invoice_id} not found")
    found = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id)
        .options(selectinload(Invoice.transactions), selectinload(Invoice.items),
                 selectinload(Invoice.client))
        .execution_options(populate_existing=True)
    ).one()
    if expected_version is not None and found.version != int(expected_version):
        raise TransitionError(ErrorCode.STALE, STALE_INVOICE)
    return found


def touch(invoice: Invoice) -> None:
    invoice.version = (invoice.version or 0) + 1


def refuse(refusal) -> None:
    if refusal is not None:
        raise TransitionError.from_refusal(refusal)
