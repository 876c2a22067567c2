"""Orders list: columns, Search/Filter, the Orders menu with its pending badge and the quick status
dropdown. The order page and the bulk actions are mixed in (admin/order_page.py, order_bulk.py)."""

from flask import flash, g, url_for
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased, load_only

from actions.search import order_list_search
from admin.base import FilteredListLink, SecureModelView, capped_count, count_badge, has_permission
from admin.export import ExportValue
from admin.filters import (
    STATUS_BRANCHES,
    LiveOptions,
    list_order,
    list_order_attribute,
    newest_of_each_status,
    order_filters,
    order_statuses,
    status_group_titles,
)
from admin.fraud_panel import FraudPanelMixin
from admin.keyset import ListSort
from admin.lean_grid import GRID_ROW_COLUMNS, LeanGridMixin
from admin.list_views import GridToolsMixin
from admin.mass_mail import MassMailMixin
from admin.order_bulk import OrderBulkMixin
from admin.order_page import OrderPageMixin
from admin.review_queue import ReviewQueueMixin
from extensions import db
from models import Client, Currency, Invoice, Order, OrderStatus, Permission, to_default
from models.clients import client_label
from models.currency import ONE
from models.orders import payment_status_for

# The badge counts pending orders up to this many, then shows "999+": the COUNT on every page
# view reads at most this many index entries, however many orders wait.
PENDING_BADGE_CAP = 999


# Built once (the titles bound per request): every page's menu counts them.
_PENDING = select(Order.id).where(Order.status.in_(bindparam("pending_titles", expanding=True)))


def pending_orders_count() -> int:
    """Orders whose status counts as pending, up to PENDING_BADGE_CAP + 1: one indexed COUNT, at
    most once per request."""
    if not has_permission(Permission.VIEW_ORDERS):
        return 0
    return capped_count("pending_orders", _PENDING, PENDING_BADGE_CAP,
                        {"pending_titles": status_group_titles("pending")})


class PendingOrdersLabel(str):
    """The Orders menu title; rendered in the menu with a badge counting pending orders."""

    __slots__ = ()

    def __html__(self):
        return count_badge(self, pending_orders_count(), PENDING_BADGE_CAP, "pending-orders-badge",
                           "Pending orders")


_client = aliased(Client, name="export_client")
_invoice = aliased(Invoice, name="export_invoice")
_currency = aliased(Currency, name="export_currency")


def _in_default_currency(amount, rate):
    """The order's total in the default currency, at the rate recorded when it was placed."""
    return to_default(amount, rate or ONE)


class OrderView(ReviewQueueMixin, FraudPanelMixin, OrderPageMixin, MassMailMixin, OrderBulkMixin,
                LeanGridMixin, GridToolsMixin, SecureModelView):
    permission = Permission.VIEW_ORDERS
    create_permission = Permission.ADD_NEW_ORDER
    edit_permission = Permission.EDIT_ORDER
    delete_permission = Permission.DELETE_ORDER

    list_template = "admin/orders_list.html"
    order_list_template = "admin/order_list.html"
    column_list = ("id", "order_number", "date", "client", "payment_method", "amount",
                   "payment_status", "status")
    column_labels = {"id": "ID", "order_number": "Order #", "amount": "Total", "ip_address": "IP address",
                     "currency": "Currency", "amount_in_default": "Total in the default currency"}
    # The export adds each order's currency and its total converted with the rate of its day.
    column_export_list = (*column_list, "currency", "amount_in_default")
    # The grid renders these columns itself, links and badges included (admin/lean_grid.py); the
    # export writes plain values.
    column_formatters_export: dict = {}
    # Read as plain rows (admin/export.py): the related values through one outer join each.
    export_values = {
        "client": ExportValue((_client.first_name, _client.last_name, _client.company_name), client_label,
                              _client, _client.id == Order.client_id),
        "payment_status": ExportValue((_invoice.status,), payment_status_for, _invoice,
                                      _invoice.id == Order.invoice_id),
        "currency": ExportValue((_currency.code,), str, _currency, _currency.id == Order.currency_id),
        "amount_in_default": ExportValue((Order.amount, Order.currency_rate), _in_default_currency),
    }
    column_default_sort = ("id", True)
    column_sortable_list = ("id", "order_number", "date", "amount", "status")
    named_filter_urls = True
    column_filters = order_filters()
    # _apply_search sends each kind of term to its indexed lookup (search_placeholder says which).
    column_searchable_list = ("order_number", "ip_address")
    # Orders are placed, changed and deleted only through actions/ (the order page's forms and
    # buttons): no generic create, edit or delete form.
    allow_create = allow_edit = allow_delete = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Our list template adds the lean rows and "select all matching" on top of the list
        # template the list configuration chose (it extends that one).
        self.list_base_template = self.list_template
        self.list_template = self.order_list_template

    def get_query(self):
        # The grid's rows load only what a row shows and its actions read (admin/lean_grid.py):
        # not the notes, fraud output and promotion columns of 50 orders per page.
        return super().get_query().options(load_only(*GRID_ROW_COLUMNS))

    def create_blueprint(self, admin):
        # Called before the view joins the menu: create its category with the pending badge.
        if self.category and admin.get_category_menu_item(self.category) is None:
            admin.add_category(PendingOrdersLabel(self.category))
        return super().create_blueprint(admin)

    def list_sort(self, sort_column, sort_desc, filters):
        # A range or payment status filter lists in its index's order (filters.py: list_order),
        # newest/highest first; the first one leads. The admin's chosen order replaces it.
        if sort_column is None:
            for idx, _, value in filters or ():
                lead = list_order(self._filters[idx], value)
                if lead is not None:
                    name = list_order_attribute(self._filters[idx], lead)
                    return ListSort(name, lead, True, Order.id, row_attribute=name)
        return super().list_sort(sort_column, sort_desc, filters)

    def narrow_page(self, query, reach: int):
        """A page of a status group: each status's own first `reach` rows in list order (filters.py)."""
        titles = query.get_execution_options().get(STATUS_BRANCHES)
        if not titles:
            return query
        return query.filter(Order.id.in_(newest_of_each_status(query, titles, reach)))

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Each kind of term to its own indexed lookup (actions/search.py: order_list_search)."""
        found = order_list_search(db.session, search)
        if found.note and not g.get("order_search_noted"):  # said once, however often applied
            g.order_search_noted = True
            flash(found.note, "warning")
        query = query.filter(found.where)
        if count_query is not None:
            count_query = count_query.filter(found.where)
        return query, count_query, joins, count_joins

    def search_placeholder(self) -> str:
        return "Search: Order #, IP address, client name, email, domain"

    list_noun = "orders"

    def filter_title(self, filters):
        """The Orders menu's lists by their name: "Pending orders", "Fraud orders"."""
        if len(filters) != 1:
            return None
        (name, value), = filters.items()
        if name == "status_group_equals" and value in ("pending", "active", "cancelled"):
            return f"{value.capitalize()} orders"
        if name == "status_equals":  # a status that does not exist is a filter error, titled as one
            return f"{value} orders"
        return None

    def empty_hint(self):
        hint = Markup("Orders arrive from the storefront and the API")
        if has_permission(Permission.ADD_NEW_ORDER):
            hint += Markup(', or <a href="{}">add a new order</a>').format(url_for("add_order.index"))
        return hint + "."

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        for items in (groups or {}).values():
            for item in items:
                flt = self._filters[item["index"]]
                if isinstance(flt, LiveOptions):
                    item["options"] = flt.live_options()
        return groups

    def render(self, template, **kwargs):
        if template == self.list_template:
            kwargs["order_statuses"] = order_statuses()
        return super().render(template, **kwargs)


def _orders_link(name: str, **filter_args) -> FilteredListLink:
    return FilteredListLink(name, "Orders", "orders.index_view",
                            lambda: has_permission(Permission.VIEW_ORDERS), **filter_args)


def orders_menu() -> list[FilteredListLink]:
    return [
        _orders_link("Pending", flt0_status_group_equals="pending"),
        _orders_link("Active", flt0_status_group_equals="active"),
        _orders_link("Cancelled", flt0_status_group_equals="cancelled"),
        _orders_link("Fraud", flt0_status_equals=OrderStatus.FRAUD.value),
        _orders_link("Fraud check failed", flt0_fraud_check_failed_equals="1"),
        FilteredListLink("Review queue", "Orders", "orders.review_queue_view",
                         lambda: has_permission(Permission.VIEW_ORDER_DETAILS)),
    ]
