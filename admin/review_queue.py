"""The review queue: pending orders one after another, oldest first, cleared from the keyboard.

`/admin/orders/review/` shows the oldest order whose status counts as pending (after `?after=<id>`
when the admin skipped some), with what a reviewer needs (client, items, total, payment, fraud
score, notes) and the table's actions for it — Accept, Cancel, Set as Fraud, Skip — each with a key.
Every action posts to the same /order/<action>/ endpoint as the order page (permission, CSRF,
version check, confirmation) and comes back here, to the next order. The order page links to the
next pending order too. Each step is one statement of lookups on the (status, id) index.
"""

from flask import abort, request, url_for
from flask_admin import expose
from sqlalchemy import literal, select, union_all

from admin.base import has_permission
from admin.filters import status_group_titles
from extensions import db
from models import Order, Permission
from models.bounds import is_id

# The queue's keys: action -> key. Skip is "s" (or the right arrow).
QUEUE_KEYS = {"accept": "a", "cancel": "c", "set_fraud": "f"}


def next_pending_id(after: int | None = None) -> int | None:
    """The oldest pending-like order after `after` (by id), wrapping round to the oldest: one
    statement of two index lookups per pending-like status, each stopped at its first row. (One
    `status IN (...) ORDER BY id` cannot be read in id order from the (status, id) index: SQLite
    walked the orders by id until one matched, all of them when none is pending.)"""
    firsts = []
    for title in status_group_titles("pending"):
        of_status = select(Order.id).where(Order.status == title).order_by(Order.id)
        if after is not None:
            following = of_status.where(Order.id > after).limit(1).subquery()
            firsts.append(select(literal(0).label("rank"), following.c.id))
        firsts.append(select(literal(1).label("rank"), of_status.limit(1).subquery().c.id))
    if not firsts:
        return None
    found = union_all(*firsts).subquery()
    return db.session.scalar(select(found.c.id).order_by(found.c.rank, found.c.id).limit(1))


class ReviewQueueMixin:
    def next_pending_url(self, order: Order) -> str | None:
        found = next_pending_id(order.id)
        return url_for(".details_view", id=found) if found is not None and found != order.id else None

    @expose("/review/")
    def review_queue_view(self):
        if not has_permission(Permission.VIEW_ORDER_DETAILS):
            abort(403)
        after_arg = request.args.get("after", "")
        after = int(after_arg) if is_id(after_arg) else None
        order_id = next_pending_id(after)
        order = self.get_one(order_id) if order_id is not None else None
        here = url_for(".review_queue_view", **({"after": after} if after is not None else {}))
        actions = [row for row in self.available_actions(order) if row.action in QUEUE_KEYS] if order else []
        return self.render(
            "admin/review_queue.html", model=order, actions=actions, keys=QUEUE_KEYS, here=here,
            skip_url=url_for(".review_queue_view", after=order.id) if order else None,
            page=self._page_context(order) if order else None,
        )
