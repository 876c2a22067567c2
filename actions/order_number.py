"""Order numbers: random 10 digits, never starting with 0, unique (WHMCS's "Order #")."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Order

LOWEST = 1_000_000_000
HIGHEST = 9_999_999_999
MAX_TRIES = 20


def random_order_number() -> int:
    # Random, not sequential, so it does not reveal how many orders the business has.
    return LOWEST + secrets.randbelow(HIGHEST - LOWEST + 1)


def new_order_number(session: Session) -> int:
    """A number no order has yet; a collision is retried. The unique index is the last word."""
    for _ in range(MAX_TRIES):
        number = random_order_number()
        taken = session.scalar(select(Order.id).where(Order.order_number == number))
        if taken is None:
            return number
    raise RuntimeError("Could not find a free order number")  # ~impossible below billions of orders
