"""The orders grid's rows, lean (mixed into OrderView; admin/templates/admin/order_list.html).

Flask-Admin renders each cell through get_list_value (formatter lookups, a url_for per link) and
each row action through its own macro and form, in Jinja; three selectin loads build a client,
an invoice and a status object per row. Here what a page needs is worked out once per page - the
URL prefixes, the row actions the admin is permitted with their URLs, the CSRF token, the admin's
time zone, each escaped once - and what rows show beyond the order's own columns (the client's
name, the invoice's status) is read for the whole page in one statement by primary key; each
row is then one string built from its own values: no url_for, permission check, query or macro
call per row or cell. A row's actions are one POST form (CSRF, the order's version, the way back)
whose buttons each post to their own action (formaction). A column the grid does not render
itself (not in LEAN_CELLS) goes through get_list_value as before.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import url_for
from flask_admin.babel import gettext
from flask_admin.model.template import ViewRowAction
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from actions.transitions import TRANSITIONS, Transition
from admin.filters import order_statuses
from admin.order_page import row_permitted
from admin.presentation import admin_zone, currency, format_datetime, gateway_name
from extensions import db, read_columns
from models import Client, Invoice, Order
from models.clients import client_label
from models.orders import payment_status_for

NO_STATUS_COLOR = "#888888"

# The order columns a row shows or its actions read (version: the row form; invoice_id and the
# sort columns: the keyset position), loaded for the page instead of the whole order.
GRID_ROW_COLUMNS = (Order.id, Order.order_number, Order.client_id, Order.date, Order.status, Order.amount,
                    Order.currency_id, Order.payment_method, Order.invoice_id, Order.version)


@dataclass(frozen=True)
class RowValues:
    """What a row shows beyond the order's own columns."""

    client: str
    payment_status: str


# Built once, as the other statements every list page sends: building one costs about as much as
# running it (0.45 ms of this one's 0.94 at 1,000,000 orders on SQLite).
_ROW_VALUES = (select(Order.id, Client.first_name, Client.last_name, Client.company_name, Invoice.status)
               .select_from(Order).outerjoin(Client, Client.id == Order.client_id)
               .outerjoin(Invoice, Invoice.id == Order.invoice_id)
               .where(Order.id.in_(bindparam("order_ids", expanding=True))))


def row_values(orders: list[Order]) -> dict[int, RowValues]:
    """Each order's client name and payment status, in one statement by primary key."""
    if not orders:
        return {}
    rows = read_columns(_ROW_VALUES, {"order_ids": [o.id for o in orders]})
    return {order_id: RowValues(client_label(first or "", last or "", company or ""),
                                payment_status_for(status))
            for order_id, first, last, company, status in rows}


def _badge(order: Order) -> str:
    definition = order.status_definition
    color = definition.color if definition else NO_STATUS_COLOR
    return f'<span class="badge" style="background:{escape(color)};color:#fff">{escape(order.status)}</span>'


# Column -> its cell's HTML from the page (GridPage), the order and its RowValues. A cell that
# depends on a value a page repeats (a status, a gateway) is built once per page and value.
LEAN_CELLS = {
    "id": lambda page, order, values: f'<a href="{page.details}{order.id}">{order.id}</a>',
    "order_number": lambda page, order, values: (f'<a href="{page.details}{order.id}">'
                                                 f'{escape(order.order_number)}</a>'),
    "date": lambda page, order, values: escape(format_datetime(order.date, page.zone)),
    "client": lambda page, order, values: (f'<a href="{page.client}{order.client_id}">'
                                           f'{escape(values.client)}</a>'),
    "payment_method": lambda page, order, values: page.once(
        ("gateway", order.payment_method), lambda: escape(gateway_name(order.payment_method))),
    # In the order's own currency (admin.presentation: every currency read once per request).
    "amount": lambda page, order, values: escape(currency(order.currency_id).format_amount(order.amount)),
    "payment_status": lambda page, order, values: page.once(
        ("payment", values.payment_status), lambda: escape(values.payment_status)),
    "status": lambda page, order, values: page.once(("status", order.status), lambda: _badge(order)),
}


@dataclass(frozen=True)
class RowAction:
    row: Transition
    url: str  # escaped
    button: str  # the button's markup up to its confirmation: '<button ... data-verb="accept"'
    icon: str  # the rest of it: '><span class="fa fa-check"></span></button>'


@dataclass(frozen=True)
class GridPage:
    """What every row of one page shares, escaped once."""

    view: object  # the OrderView, for the columns it does not render itself
    columns: tuple  # (name, cell) in list order; cell None: get_list_value
    details: str  # the order page, the id to append: "/admin/orders/details/?id="
    view_link: str | None  # the eye's link after the id: '&amp;url=..." title="View Record">...</a>'
    client: str  # the client's page, the id to append
    actions: tuple[RowAction, ...]  # the row actions this admin is permitted, in table order
    hidden: str  # the row form's hidden fields after the order's own: CSRF and the way back
    checkbox: str | None  # the bulk actions' checkbox after its value; None: no bulk actions
    zone: ZoneInfo
    cells: dict = field(default_factory=dict)  # (kind, value) -> a cell built once per page
    # Status -> its refusals of the actions without checks of their own (those depend on the status
    # and its definition only): worked out for the first row of each status.
    refusals: dict = field(default_factory=dict)

    def once(self, key: tuple, build) -> str:
        if key not in self.cells:
            self.cells[key] = build()
        return self.cells[key]

    def rows(self, data) -> Markup:
        orders = list(data)
        values = row_values(orders)
        # The guards and the badge read the status's definition: the request's statuses, no query.
        definitions = {status.title: status for status in order_statuses()}
        for order in orders:
            set_committed_value(order, "status_definition", definitions.get(order.status))
        return Markup("".join(self._row(order, values.get(order.id)) for order in orders))

    def _row(self, order: Order, values: RowValues | None) -> str:
        order_id = order.id
        values = values or RowValues("", payment_status_for(None))  # deleted meanwhile
        parts = ["<tr>"]
        if self.checkbox is not None:
            parts.append(f'<td><input type="checkbox" name="rowid" class="action-checkbox" value="{order_id}"'
                         f"{self.checkbox}</td>")
        parts.append('<td class="list-buttons-column">')
        if self.view_link is not None:
            parts.append(f'<a class="icon" href="{self.details}{order_id}{self.view_link}')
        buttons = self._buttons(order)
        if buttons:
            parts.append(f'<form class="d-inline row-actions" method="POST" action="{buttons[0][0]}">'
                         f'<input type="hidden" name="id" value="{order_id}">'
                         f'<input type="hidden" name="expected_version" value="{order.version}">'
                         f"{self.hidden}{''.join(button for _, button in buttons)}</form>")
        parts.append("</td>")
        for name, cell in self.columns:
            value = cell(self, order, values) if cell is not None else \
                escape(self.view.get_list_value(None, order, name))
            parts.append(f'<td class="col-{name}">{value}</td>')
        parts.append("</tr>\n")
        return "".join(parts)

    def _buttons(self, order: Order) -> list[tuple[str, str]]:
        """(its URL, the button) for each permitted row action whose guard passes on this order."""
        by_status = self.refusals.get(order.status)
        if by_status is None:
            by_status = self.refusals[order.status] = {
                action.row.action: action.row.refusal(db.session, order)
                for action in self.actions if not action.row.checks}
        found = []
        for action in self.actions:
            refused = by_status[action.row.action] if not action.row.checks else \
                action.row.refusal(db.session, order)
            if refused is not None:
                continue
            confirm = action.row.confirm
            asked = f' data-confirm="{escape(confirm.format(number=order.order_number))}"' if confirm else ""
            found.append((action.url, f"{action.button}{asked}{action.icon}"))
        return found


class LeanGridMixin:
    def grid_page(self, return_url: str, list_row_actions, list_columns, with_checkbox: bool) -> GridPage:
        # The row actions are the eye (Flask-Admin's details link) and the order actions: orders
        # have no generic edit or delete (OrderView: allow_edit = allow_delete = False).
        view = next((a for a in list_row_actions if isinstance(a, ViewRowAction)), None)
        view_link = None
        if view is not None:
            view_link = (f'{escape("&" + urlencode({"url": return_url}))}" title="{escape(view.title)}">'
                         '<span class="fa fa-eye glyphicon glyphicon-eye-open"></span></a>')
        actions = []
        for row in TRANSITIONS.values():
            if row.row_action and row_permitted(row):
                url = escape(self.get_url(".order_action_view", action=row.action))
                label = escape(row.label)
                actions.append(RowAction(
                    row, url,
                    f'<button type="submit" formaction="{url}" class="btn btn-link btn-sm p-0 mx-1" '
                    f'title="{label}" aria-label="{label}" data-verb="{escape(row.action)}"',
                    f'><span class="fa {escape(row.icon)}"></span></button>'))
        return GridPage(
            view=self,
            columns=tuple((name, LEAN_CELLS.get(name)) for name, _ in list_columns),
            details=escape(f"{self.get_url('.details_view')}?id="),
            view_link=view_link,
            client=escape(f"{url_for('clients.details_view')}?id="),
            actions=tuple(actions),
            hidden=(f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'
                    f'<input type="hidden" name="url" value="{escape(return_url)}">'),
            checkbox=f' title="{escape(gettext("Select record"))}" />' if with_checkbox else None,
            zone=admin_zone(),
        )
