"""Loading an order for a change: the order's lock, fresh data, and the optimistic version check.

    lock_order_row(session, order_id) -> bool        the lock alone (False: no such order)
    lock_order_for_edit(session, order_id)           the lock and a version bump (record edits)
    order = lock_order(session, order_or_id, expected_version=None)

The order's lock is what every order action and every side-effect outcome takes before reading or
writing an item of the order (services, domains, invoice, payments), so the two never interleave:
- PostgreSQL: SELECT ... FOR UPDATE on the order row; a second transaction taking it waits for the
  first to commit.
- SQLite has no row locks: the lock is the database's single write lock, taken by a no-op UPDATE
  of the order row before anything is read (the driver opens the transaction at the first write;
  reads before it see whatever was committed last, reads after it cannot be overtaken).
lock_order then re-reads the order, its items, invoice and payments (populate_existing), so guards
see the committed truth, not what this session loaded earlier, and checks the version:
`expected_version` (from a form: the version the admin saw) or, when an Order object is passed,
the version that object had. A mismatch raises TransitionError "stale".
Order.version is SQLAlchemy's version_id_col: a write based on an old version raises
StaleDataError during flush; @order_action turns it into the same TransitionError "stale".
"""

import functools

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from actions.errors import ErrorCode, TransitionError
from models import Invoice, Order


def lock_order_row(session: Session, order_id: int) -> bool:
    orders = Order.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(orders).where(orders.c.id == order_id).values(version=orders.c.version))
    found = session.scalar(select(orders.c.id).where(orders.c.id == order_id).with_for_update())
    return found is not None


def lock_order(session: Session, order: Order | int, expected_version: int | None = None) -> Order:
    if isinstance(order, Order):
        order_id = order.id
        if expected_version is None:
            expected_version = order.version
    else:
        order_id = int(order)
    if not lock_order_row(session, order_id):
        if isinstance(order, Order):  # it existed when the caller loaded it: someone deleted it
            raise TransitionError.stale()
        raise TransitionError(ErrorCode.NOT_FOUND, f"Order {order_id} not found")
    found = session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .options(
            selectinload(Order.services),
            selectinload(Order.domains),
            selectinload(Order.status_definition),
            selectinload(Order.invoice).selectinload(Invoice.transactions),
            selectinload(Order.invoice).selectinload(Invoice.items),
        )
        .execution_options(populate_existing=True)
    ).one()
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


def lock_order_for_edit(session: Session, order_id: int) -> None:
    """Serialise a change to one of the order's records (an item or invoice edited through its form)
    with the order actions, and make open order pages stale: the order's lock and a version bump,
    without reloading the order's items."""
    lock_order_row(session, order_id)
    session.execute(update(Order.__table__).where(Order.id == order_id).values(version=Order.version + 1))
