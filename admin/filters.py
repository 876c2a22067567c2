"""Order list filters (Search/Filter tab and the Orders menu). Each one narrows on an indexed column.

A range filter (date, total) also lists in its column's order, newest/highest first, then by id:
the (column, id) index then yields a page without sorting every matching row. The id-first order
would make the database either sort the whole range or walk all orders to find it. Such a filter
names its column in `index_order` (list_order); OrderView applies it, and an explicit sort by the admin wins.
A filter that leads by a joined table's column also names, in `index_row_attribute`, the order's
attribute equal to it (list_order_attribute), where keyset paging reads a listed row's position.

With named_filter_urls the URL keys are "<name>_<operation>", e.g. ?flt0_status_group_equals=pending.
"""

import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from flask_admin.model.filters import BaseDateBetweenFilter
from sqlalchemy import false, func, select, union_all
from sqlalchemy.orm import aliased

from admin.presentation import per_request
from extensions import db, read_columns
from models import (
    Client,
    Invoice,
    Order,
    OrderStatusDefinition,
    PaymentStatus,
    Product,
    Service,
    payment_status_is,
)
from models.bounds import is_id
from models.catalog import product_label
from models.orders import invoice_payment_status_is

STATUS_GROUPS = {
    "pending": OrderStatusDefinition.include_in_pending,
    "active": OrderStatusDefinition.include_in_active,
    "cancelled": OrderStatusDefinition.include_in_cancelled,
}


def list_order(flt, value):
    """The column a filter lists by, newest/highest first (its `index_order`: an Order attribute's
    name, a column, or a method of the value giving either), or None."""
    order = getattr(flt, "index_order", None)
    if callable(order):
        order = order(value)
    return getattr(Order, order) if isinstance(order, str) else order


def list_order_attribute(flt, lead) -> str:
    """The order's own attribute holding the lead column's value (where a listed row keeps its
    position): the filter's `index_row_attribute` when it leads by a joined table's column, else
    the column's own name."""
    return getattr(flt, "index_row_attribute", None) or lead.key


class LiveOptions:
    """Options read from the database on every page view (the view's filter cache is built once)."""

    def live_options(self) -> list[tuple[str, str]]:
        raise NotImplementedError


# The statements every list page sends are built once (building one costs about as much as
# running it).
_ORDER_STATUSES = select(OrderStatusDefinition).order_by(OrderStatusDefinition.sort_order,
                                                         OrderStatusDefinition.id)
_PRODUCT_OPTIONS = select(Product.id, Product.group_name, Product.name).order_by(Product.group_name,
                                                                                 Product.name)


def order_statuses() -> list[OrderStatusDefinition]:
    """Every order status, core and custom, in the configured sort order: read once per request
    (the list's filter options, its quick status menu and the pending badge share it)."""
    return per_request("order_statuses", lambda: db.session.scalars(_ORDER_STATUSES).all())


def status_group_titles(group: str) -> list[str]:
    """The titles of the statuses in a group ("pending", ...), as values for `status IN (...)`.

    Values, not a subquery: the planner then sees how many orders have each title (for one title,
    the usual Pending list, it walks the (status, id) index) instead of guessing and scanning orders.
    """
    flag = STATUS_GROUPS[group].key
    return [status.title for status in order_statuses() if getattr(status, flag)]


class StatusFilter(FilterEqual, LiveOptions):
    def __init__(self):
        super().__init__(Order.status, "Status")

    def live_options(self):
        return [(status.title, status.title) for status in order_statuses()]


class StatusGroupFilter(BaseSQLAFilter):
    """Pending/Active/Cancelled lists include every status flagged for them (custom ones too)."""

    def __init__(self):
        super().__init__(Order.status, "Status group",
                         options=[(key, key.title()) for key in STATUS_GROUPS])

    def validate(self, value):
        return value in STATUS_GROUPS

    def apply(self, query, value, alias=None):
        titles = status_group_titles(value)
        query = query.filter(Order.status.in_(titles))
        if len(titles) > 1:  # the list then reads each status's own index (newest_of_each_status)
            query = query.execution_options(**{STATUS_BRANCHES: tuple(titles)})
        return query

    def operation(self):
        return "equals"


# Set on a list query whose status filter names several statuses: the titles, one branch each.
STATUS_BRANCHES = "orderdesk_status_branches"


def newest_of_each_status(query, titles, reach: int):
    """The ids of the first `reach` rows of the (filtered, sorted) list query within each status,
    as one UNION ALL: the page lies among them, whatever the share of each status.

    `status IN (a, b)` has no index giving rows in list order (the (status, ...) index orders each
    status apart), so the database either walks the list order checking each row's status - all of
    the table when the statuses are rare - or collects every matching row and sorts it. One branch
    per status reads that status's (status, <sort column>, id) index in order and stops at `reach`.
    """
    ids = query.enable_eagerloads(False).with_entities(Order.id)
    branches = [select(ids.filter(Order.status == title).limit(reach).subquery().c.id) for title in titles]
    return union_all(*branches)


class OrderIdFilter(IntEqualFilter):
    def __init__(self):
        super().__init__(Order.id, "Order ID")

    def validate(self, value):
        return is_id(value.strip())


class OrderNumberFilter(IntEqualFilter):
    def __init__(self):
        super().__init__(Order.order_number, "Order #")


class DateRangeFilter(BaseSQLAFilter, BaseDateBetweenFilter):
    """Whole UTC days, both ends included: "2024-01-01 to 2024-01-31"."""

    def __init__(self, column=Order.date, index_order: str | None = "date"):
        super().__init__(column, "Date", data_type="daterangepicker")
        self.index_order = index_order  # an Order column the list then follows, or None

    def apply(self, query, value, alias=None):
        start, end = (datetime.combine(day, datetime.min.time(), tzinfo=UTC) for day in value)
        return query.filter(self.column >= start, self.column < end + timedelta(days=1))


# A client filter resolves to at most this many client ids, given to the orders query as values.
CLIENTS_RESOLVED = 1000


class ClientFilter(BaseSQLAFilter):
    """A client id, an email address, or a name (first and last, last only, or company).

    A name or email is looked up first and its client ids given as values: `client_id IN (ids)`
    reads (client_id, id) for those clients alone. Left as a subquery, PostgreSQL cannot tell how
    many orders it matches and walks the orders newest-first checking each one's client.
    """

    def __init__(self):
        super().__init__(Order.client_id, "Client")

    def apply(self, query, value, alias=None):
        value = value.strip()
        if value.isdigit():
            return query.filter(Order.client_id == int(value) if is_id(value) else false())
        clients = select(Client.id).where(self.client_match(value))
        # No ORDER BY: with one, SQLite walks every client in id order instead of the name indexes.
        ids = db.session.scalars(clients.limit(CLIENTS_RESOLVED + 1)).all()
        if len(ids) > CLIENTS_RESOLVED:  # a very common name: the subquery, as many clients as match
            return query.filter(Order.client_id.in_(clients))
        return query.filter(Order.client_id.in_(ids) if ids else false())

    @staticmethod
    def client_match(value: str):
        if "@" in value:
            return Client.email.in_({value, value.lower()})
        words = value.split()
        variants = lambda word: {word, word.lower(), word.title()}  # noqa: E731
        match = Client.last_name.in_(variants(value)) | Client.company_name.in_(variants(value))
        if len(words) >= 2:
            match |= Client.first_name.in_(variants(words[0])) & Client.last_name.in_(
                variants(" ".join(words[1:])))
        return match

    def operation(self):
        return "is"


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(value) from None


class AmountAtLeastFilter(BaseSQLAFilter):
    index_order = "amount"

    def __init__(self):
        super().__init__(Order.amount, "Total")

    def clean(self, value):
        return _decimal(value)

    def apply(self, query, value, alias=None):
        return query.filter(Order.amount >= value)

    def operation(self):
        return "at least"


class AmountAtMostFilter(AmountAtLeastFilter):
    def apply(self, query, value, alias=None):
        return query.filter(Order.amount <= value)

    def operation(self):
        return "at most"


# Set on a list query once a payment status filter has joined the order's invoice.
INVOICE_JOINED = "orderdesk_invoice_joined"


class PaymentStatusFilter(BaseSQLAFilter):
    """Paid / Unpaid / No Invoice, from the order's first invoice (as Order.payment_status).

    Lists by that invoice, newest first (index_order): Paid and Unpaid join the invoice and walk
    the invoices of that payment status in id order (invoice_payment_status_is), each probing its
    order - as few rows as the page needs whether 1 % or 99 % of the invoices are unpaid. An
    EXISTS per order would walk the orders instead: all of them when the status is rare.
    """

    def __init__(self):
        super().__init__(Order.invoice_id, "Payment status",
                         options=[(status.value, status.value) for status in PaymentStatus])

    def validate(self, value):
        return value in set(PaymentStatus)

    def apply(self, query, value, alias=None):
        if value == PaymentStatus.NO_INVOICE:
            return query.filter(payment_status_is(value))
        if not query.get_execution_options().get(INVOICE_JOINED):  # a second payment status filter
            query = query.join(Invoice, Invoice.id == Order.invoice_id).execution_options(
                **{INVOICE_JOINED: True})
        return query.filter(invoice_payment_status_is(value))

    def index_order(self, value):
        return None if value == PaymentStatus.NO_INVOICE else Invoice.id

    index_row_attribute = "invoice_id"  # equal to the lead Invoice.id by apply's join

    def operation(self):
        return "equals"


class IpAddressFilter(FilterEqual):
    def __init__(self):
        super().__init__(Order.ip_address, "IP address")

    def validate(self, value):
        try:
            ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return True

    def clean(self, value):
        return value.strip()


# Set on a list query once a product filter has joined the product's services (SQLite).
PRODUCT_JOINED = "orderdesk_product_joined"


class ProductFilter(BaseSQLAFilter, LiveOptions):
    """Orders having a service of this product.

    PostgreSQL: `id IN (the product's services' order ids)`, which it answers by merging the two id
    orders (a common product) or from the product's few services (a rare one). SQLite builds that
    IN list whole - every service of the product, 250,000 for a common one at 1,000,000 orders -
    before taking a page; there the orders are instead joined to the product's services, one per
    order (its first), and listed by the service's order id (index_order): the (product_id,
    order_id) index walked in order, stopping at the page, whatever the product's share. A second
    product filter on the same list is an IN again (one join of services per query)."""

    index_row_attribute = "id"  # equal to the lead Service.order_id by apply's join (SQLite)

    def __init__(self):
        super().__init__(Order.id, "Product")

    def live_options(self):
        return [(str(product_id), product_label(group, name))
                for product_id, group, name in read_columns(_PRODUCT_OPTIONS)]

    def validate(self, value):
        return is_id(value)

    def apply(self, query, value, alias=None):
        product = int(value)
        if not self._joins_services(query):
            return query.filter(Order.id.in_(select(Service.order_id).where(Service.product_id == product)))
        other = aliased(Service)
        first = select(func.min(other.id)).where(other.product_id == product,
                                                 other.order_id == Service.order_id)
        return (query.join(Service, Service.order_id == Order.id)
                .filter(Service.product_id == product, Service.id == first.scalar_subquery())
                .execution_options(**{PRODUCT_JOINED: True}))

    @staticmethod
    def _joins_services(query) -> bool:
        return db.engine.dialect.name == "sqlite" and not query.get_execution_options().get(PRODUCT_JOINED)

    def index_order(self, value):
        return Service.order_id if db.engine.dialect.name == "sqlite" else None

    def operation(self):
        return "equals"


class FraudCheckFailedFilter(BaseSQLAFilter):
    """Orders whose last fraud check could not run (they wait in Pending unscreened)."""

    def __init__(self):
        super().__init__(Order.fraud_check_failed, "Fraud check failed", options=[("1", "Yes"), ("0", "No")])

    def validate(self, value):
        return value in ("1", "0")

    def apply(self, query, value, alias=None):
        return query.filter(Order.fraud_check_failed.is_(value == "1"))

    def operation(self):
        return "equals"


def order_filters() -> list[BaseSQLAFilter]:
    return [
        OrderIdFilter(), OrderNumberFilter(), DateRangeFilter(), ClientFilter(), AmountAtLeastFilter(),
        AmountAtMostFilter(), PaymentStatusFilter(), StatusFilter(), StatusGroupFilter(),
        IpAddressFilter(), ProductFilter(), FraudCheckFailedFilter(),
    ]
