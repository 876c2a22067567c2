"""The orders grid's rows, lean (mixed into OrderView; admin/templates/admin/order_list.html).

Flask-Admin renders each cell through get_list_value (formatter lookups, a url_for per link) and
each row action through its own macro and form. Here what a page needs is worked out once per
page - the URL prefixes, the row actions the admin is permitted with their URLs, the CSRF token -
so a row costs only its own values and its status guard: no url_for, permission check, query or
formatter call per row or cell. A row's actions are one POST form (CSRF, the order's version, the
way back) whose buttons each post to their own action (formaction).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for
from flask_admin.model.template import ViewRowAction
from flask_wtf.csrf import generate_csrf

from actions.transitions import TRANSITIONS, Transition
from admin.order_page import row_permitted
from extensions import db
from models import Order


@dataclass(frozen=True)
class RowAction:
    row: Transition
    url: str


@dataclass(frozen=True)
class GridPage:
    details: str  # the order page, the id to append: "/admin/orders/details/?id="
    back: str  # appended to the eye's link: "&url=<this page>"
    client: str  # the client's page, the id to append
    view_title: str | None  # the eye's title; None: no details link
    others: tuple  # any other row actions (Flask-Admin's), rendered their own way
    actions: tuple[RowAction, ...]  # the row actions this admin is permitted, in table order
    csrf: str

    def row_actions(self, order: Order) -> list[tuple[RowAction, str | None]]:
        """The permitted row actions whose guard passes on this order, each with its question."""
        number = order.order_number
        return [(action, action.row.confirm.format(number=number) if action.row.confirm else None)
                for action in self.actions if action.row.refusal(db.session, order) is None]


class LeanGridMixin:
    # Columns order_list.html renders itself; any other column goes through get_list_value.
    lean_columns = frozenset({"id", "order_number", "date", "client", "payment_method", "amount",
                              "payment_status", "status"})

    def grid_page(self, return_url: str, list_row_actions) -> GridPage:
        view = next((a for a in list_row_actions if isinstance(a, ViewRowAction)), None)
        return GridPage(
            details=f"{self.get_url('.details_view')}?id=",
            back="&" + urlencode({"url": return_url}),
            client=f"{url_for('clients.details_view')}?id=",
            view_title=view.title if view is not None else None,
            others=tuple(a for a in list_row_actions if a is not view),
            actions=tuple(RowAction(row, self.get_url(".order_action_view", action=row.action))
                          for row in TRANSITIONS.values() if row.row_action and row_permitted(row)),
            csrf=generate_csrf(),
        )
