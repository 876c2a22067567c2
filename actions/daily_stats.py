"""Keeping the dashboard's daily figures current, in the transactions that change the data.

    keep_daily_stats_current()        register the session listener (once per process; create_app)
    order_count_moves(session, where, to_status) -> list of statements   (set-based bulk changes)
    rebuild_daily_stats(session)      recompute every day from orders and transactions (idempotent;
                                      after a bulk load such as seed-demo, and by the daily job)

The listener runs after each flush: an order placed adds one to (its day, its status), a status
change moves one from the old status to the new, a deleted order takes one away; a payment or
refund adds to its day's money. Changes made by set-based SQL (bulk status changes) move their
counts with two INSERT ... SELECT ... ON CONFLICT statements of their own (order_count_moves),
so the bulk stays a fixed number of statements. Days are UTC days.

Money is in the default currency: each payment or refund converted, to the cent, with the rate its
invoice recorded (models/currency.py to_default), so a day's figure never moves when a rate is
updated later.
"""

from collections import Counter
from datetime import date

from sqlalchemy import Date, cast, delete, event, func, inspect, literal, or_, select, true
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models import ZERO, DailyOrderCount, DailyRevenue, Invoice, Order, Transaction, to_default
from models.currency import ONE


def _insert(session: Session, model):
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)


def day_of(session: Session, column):
    """The UTC day of a timestamp column in SQL (sessions run in UTC on PostgreSQL)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column)  # stored as UTC text; CAST(... AS DATE) would keep only the year
    return cast(column, Date)


def _upsert_counts(session: Session, deltas: Counter) -> None:
    rows = [{"day": day, "status": status, "orders": n} for (day, status), n in deltas.items() if n]
    if not rows:
        return
    statement = _insert(session, DailyOrderCount).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=["day", "status"],
        set_={"orders": DailyOrderCount.orders + statement.excluded.orders}))


def _upsert_revenue(session: Session, money: dict) -> None:
    rows = [{"day": day, "paid_in": paid, "refunded": refunded} for day, (paid, refunded) in money.items()]
    if not rows:
        return
    statement = _insert(session, DailyRevenue).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=["day"],
        set_={"paid_in": DailyRevenue.paid_in + statement.excluded.paid_in,
              "refunded": DailyRevenue.refunded + statement.excluded.refunded}))


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _add_money(money: dict, day: date, paid, refunded, rate) -> None:
    """A payment or refund of `day`, converted to the default currency with its invoice's rate."""
    rate = rate or ONE
    before_paid, before_refunded = money.get(day, (ZERO, ZERO))
    money[day] = (before_paid + to_default(paid or ZERO, rate),
                  before_refunded + to_default(refunded or ZERO, rate))


def _invoice_rate(row: Transaction):
    invoice = row.invoice  # from the identity map: the payment action has loaded it
    return invoice.currency_rate if invoice is not None else ONE


def _after_flush(session: Session, flush_context) -> None:
    counts: Counter = Counter()
    money: dict[date, tuple] = {}
    for row in session.new:
        if isinstance(row, Order):
            counts[_day(row.date), row.status] += 1
        elif isinstance(row, Transaction) and (row.amount_in or row.amount_out):
            _add_money(money, _day(row.date), row.amount_in, row.amount_out, _invoice_rate(row))
    for row in session.deleted:
        if isinstance(row, Order):
            state = inspect(row)
            status = state.attrs.status.history.deleted or [row.status]
            counts[_day(row.date), status[0]] -= 1
    for row in session.dirty:
        if not isinstance(row, Order):
            continue
        state = inspect(row)
        status, when = state.attrs.status.history, state.attrs.date.history
        if not (status.has_changes() or when.has_changes()):
            continue
        old_status = status.deleted[0] if status.deleted else row.status
        old_day = _day(when.deleted[0]) if when.deleted else _day(row.date)
        counts[old_day, old_status] -= 1
        counts[_day(row.date), row.status] += 1
    _upsert_counts(session, counts)
    _upsert_revenue(session, money)


def keep_daily_stats_current() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def order_count_moves(session: Session, where, to_status: str) -> list:
    """The two statements that move the counts of the orders matching `where` to `to_status`;
    run them before the UPDATE that changes those orders."""
    day = day_of(session, Order.date).label("day")
    out = select(day, Order.status, -func.count()).where(where, true()).group_by(day, Order.status)
    into = select(day, literal(to_status), func.count()).where(where, true()).group_by(day)
    statements = []
    for moved in (out, into):
        statement = _insert(session, DailyOrderCount).from_select(["day", "status", "orders"], moved)
        statements.append(statement.on_conflict_do_update(
            index_elements=["day", "status"],
            set_={"orders": DailyOrderCount.orders + statement.excluded.orders}))
    return statements


def rebuild_daily_stats(session: Session) -> None:
    """Every day again from the orders and transactions themselves (set-based, idempotent)."""
    session.flush()
    session.execute(delete(DailyOrderCount))
    session.execute(delete(DailyRevenue))
    day = day_of(session, Order.date).label("day")
    session.execute(_insert(session, DailyOrderCount).from_select(
        ["day", "status", "orders"], select(day, Order.status, func.count()).group_by(day, Order.status)))
    # Payments at rate 1 (the default currency's) summed in SQL, exactly; the others converted one
    # by one as the listener does, then added to their day.
    paid_day = day_of(session, Transaction.date).label("day")
    at_par = or_(Invoice.currency_rate.is_(None), Invoice.currency_rate == ONE)
    session.execute(_insert(session, DailyRevenue).from_select(
        ["day", "paid_in", "refunded"],
        select(paid_day, func.coalesce(func.sum(Transaction.amount_in), 0),
               func.coalesce(func.sum(Transaction.amount_out), 0))
        .outerjoin(Invoice, Invoice.id == Transaction.invoice_id).where(at_par).group_by(paid_day)))
    money: dict[date, tuple] = {}
    converted = session.execute(
        select(paid_day, Transaction.amount_in, Transaction.amount_out, Invoice.currency_rate)
        .join(Invoice, Invoice.id == Transaction.invoice_id).where(~at_par),
        execution_options={"yield_per": 1000})
    for day, paid, refunded, rate in converted:
        _add_money(money, day if isinstance(day, date) else date.fromisoformat(day), paid, refunded, rate)
    _upsert_revenue(session, money)
    session.flush()
