"""Order numbers: random 10 digits, never a leading 0, unique, a collision retried; ids sequential."""

import time
from collections import Counter

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from actions import order_number
from actions.order_number import HIGHEST, LOWEST, MAX_TRIES, new_order_number, random_order_number
from extensions import db
from models import Order
from tests import factories

COUNT = 100_000


def assert_well_formed(number: int) -> None:
    text = str(number)
    assert isinstance(number, int) and len(text) == 10 and text[0] != "0", number
    assert LOWEST <= number <= HIGHEST


def test_format_over_100000_random_numbers():
    numbers = [random_order_number() for _ in range(COUNT)]
    for number in numbers:
        assert_well_formed(number)
    # Every leading digit 1-9 shows up about equally often: the whole range is used.
    leading = Counter(str(n)[0] for n in numbers)
    assert set(leading) == set("123456789")
    assert min(leading.values()) > COUNT / 9 * 0.9
    # Raw draws repeat very rarely (about 0.55 times in 100,000 from 9e9 values); new_order_number
    # retries those, below.
    assert len(set(numbers)) >= COUNT - 10


def test_new_order_number_retries_until_a_free_number(session, monkeypatch):
    taken = [1234567890, 9876543210]
    for number in taken:
        factories.make_order().order_number = number
    session.commit()
    draws = iter([taken[0], taken[1], taken[0], 5555555555])
    monkeypatch.setattr(order_number, "random_order_number", lambda: next(draws))
    assert new_order_number(session) == 5555555555
    assert next(draws, None) is None  # it took all four draws: three collisions were retried


def test_new_order_number_gives_up_loudly_when_every_draw_collides(session, monkeypatch):
    taken = factories.make_order().order_number
    calls = []
    monkeypatch.setattr(order_number, "random_order_number", lambda: calls.append(1) or taken)
    with pytest.raises(RuntimeError, match="free order number"):
        new_order_number(session)
    assert len(calls) == MAX_TRIES


def test_the_unique_index_rejects_a_duplicate_number(session):
    order = factories.make_order()
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(insert(Order).values(order_number=order.order_number, client_id=order.client_id))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Order)) == 1


@pytest.mark.parametrize("number", [999_999_999, 10_000_000_000, 0])
def test_the_check_constraint_rejects_numbers_that_are_not_10_digits(session, number):
    client = factories.make_client()
    with pytest.raises(IntegrityError):
        session.execute(insert(Order).values(order_number=number, client_id=client.id))
    session.rollback()


def test_ids_are_sequential_from_1_and_never_reused(session):
    orders = [factories.make_order(services=[], invoice_status=None) for _ in range(3)]
    session.commit()
    assert [o.id for o in orders] == [1, 2, 3]
    session.execute(delete(Order).where(Order.id == 3))  # the last one: SQLite would reuse 3 by default
    session.commit()
    assert factories.make_order(services=[], invoice_status=None).id == 4


@pytest.mark.benchmark
def test_new_order_number_is_unique_over_100000_orders(session):
    """Through the database, one order at a time as the application does it (slow: ~30-70 s)."""
    client = factories.make_client()
    started = time.perf_counter()
    for _ in range(COUNT):
        session.execute(insert(Order).values(order_number=new_order_number(session), client_id=client.id))
    session.commit()
    numbers = session.scalars(select(Order.order_number)).all()
    print(f"\n[{db.engine.dialect.name}] {COUNT:,} order numbers in {time.perf_counter() - started:.1f} s")
    assert len(numbers) == len(set(numbers)) == COUNT
    for number in numbers:
        assert_well_formed(number)
