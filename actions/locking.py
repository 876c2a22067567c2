"""Loading an order for a change: row lock, fresh data, and the optimistic version check.

    order = lock_order(session, order_or_id, expected_version=None)

- PostgreSQL: SELECT ... FOR UPDATE on the order row, so a second action on the same order waits
  for the first to commit (SQLite ignores FOR UPDATE; it has one writer at a time anyway).
- The order, its items, invoice and payments are re-read (populate_existing), so guards see the
  committed truth, not what this session loaded earlier.
- The version check: `expected_version` (from a form: the version the admin saw) or, when an Order
  object is passed, the version that object had. A mismatch raises TransitionError "stale".
- Order.version is SQLAlchemy's version_id_col: a write based on an old version raises
  StaleDataError during flush; @order_action turns it into the same TransitionError "stale".
"""

import functools

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from actions.errors import ErrorCode, TransitionError
from models import Invoice, Order


def lock_order(session: Session, order: Order | int, expected_version: int | None = None) -> Order:
    if isinstance(order, Order):
        order_id = order.id
        if expected_version is None:
            expected_version = order.version
    else:
        order_id = int(order)
    found = session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update(of=Order)
        .options(
            selectinload(Order.services),
            selectinload(Order.domains),
            selectinload(Order.status_definition),
            selectinload(Order.invoice).selectinload(Invoice.transactions),
            selectinload(Order.invoice).selectinload(Invoice.items),
        )
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None:
        if isinstance(order, Order):  # it existed when the caller loaded it: someone deleted it
            raise TransitionError.stale()
        raise TransitionError(ErrorCode.NOT_FOUND, f"Order {order_id} not found")
    if expected_version is not None and found.version != int(expected_version):
        raise TransitionError.stale()
    return found


def order_action(fn):
    """Translate a stale versioned write (found at flush) into TransitionError "stale"."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StaleDataError:
            raise TransitionError.stale() from None

    return wrapper


def lock_order_row(session: Session, order_id: int) -> None:
    """Serialise a change to one of the order's records (an item or invoice edited through its form)
    with the order actions, and make open order pages stale: the order row's lock (SELECT ... FOR
    UPDATE on PostgreSQL) and a version bump, without reloading the order's items."""
    session.execute(select(Order.id).where(Order.id == order_id).with_for_update()).all()
    session.execute(
        update(Order.__table__).where(Order.id == order_id).values(version=Order.version + 1)
    )
