"""Configuring order statuses: the four core ones keep their titles; custom ones come and go.

Orders reference a status by title (ON UPDATE CASCADE), so renaming a custom status carries its
orders along; a status still used by orders cannot be deleted.
"""

import re

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from models import Order, OrderStatusDefinition

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")


class OrderStatusError(ValueError):
    pass


def check_order_status(session: Session, status: OrderStatusDefinition) -> None:
    """Validate a new or edited status row before it is saved; raises OrderStatusError.

    Works on the row as the form left it: a core row whose title changed is refused.
    """
    title = (status.title or "").strip()
    if not title:
        raise OrderStatusError("An order status needs a title.")
    state = inspect(status)
    if state.persistent and status.is_core:
        original = state.attrs.title.history.deleted
        if original and original[0] != title:
            raise OrderStatusError(f"{original[0]} is a core order status and cannot be renamed.")
    if not COLOR_PATTERN.match(status.color or ""):
        raise OrderStatusError(f"Colour {status.color!r} is not valid: use #rrggbb, e.g. #cc0000.")
    taken = select(OrderStatusDefinition.id).where(func.lower(OrderStatusDefinition.title) == title.lower())
    if status.id is not None:
        taken = taken.where(OrderStatusDefinition.id != status.id)
    with session.no_autoflush:
        if session.scalar(taken) is not None:
            raise OrderStatusError(f"An order status named {title} already exists")
    status.title = title
    status.color = status.color.lower()


def delete_order_status(session: Session, status: OrderStatusDefinition) -> None:
    """Delete a custom status that no order uses; raises OrderStatusError otherwise."""
    if status.is_core:
        raise OrderStatusError(f"{status.title} is a core order status and cannot be deleted.")
    in_use = session.scalar(select(Order.id).where(Order.status == status.title).limit(1))
    if in_use is not None:
        raise OrderStatusError(
            f"Order status {status.title} is used by orders; move them to another status first."
        )
    session.delete(status)
    session.flush()
