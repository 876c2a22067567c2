"""Order list filters (Search/Filter tab and the Orders menu). Each one narrows on an indexed column.

A range filter (date, total) also lists in its column's order, newest/highest first, then by id:
the (column, id) index then yields a page without sorting every matching row. The id-first order
would make the database either sort the whole range or walk all orders to find it. Such a filter
names its column in `index_order`; OrderView applies it, and an explicit sort by the admin wins.

With named_filter_urls the URL keys are "<name>_<operation>", e.g. ?flt0_status_group_equals=pending.
"""

import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, IntEqualFilter
from flask_admin.model.filters import BaseDateBetweenFilter
from sqlalchemy import false, select

from extensions import db
from models import (
    Client,
    Order,
    OrderStatusDefinition,
    PaymentStatus,
    Product,
    Service,
    payment_status_is,
)
from models.bounds import is_id

STATUS_GROUPS = {
    "pending": OrderStatusDefinition.include_in_pending,
    "active": OrderStatusDefinition.include_in_active,
    "cancelled": OrderStatusDefinition.include_in_cancelled,
}


class LiveOptions:
    """Options read from the database on every page view (the view's filter cache is built once)."""

    def live_options(self) -> list[tuple[str, str]]:
        raise NotImplementedError


def order_statuses() -> list[OrderStatusDefinition]:
    """Every order status, core and custom, in the configured sort order."""
    order = (OrderStatusDefinition.sort_order, OrderStatusDefinition.id)
    return db.session.scalars(select(OrderStatusDefinition).order_by(*order)).all()


def status_group_titles(group: str) -> list[str]:
    """The titles of the statuses in a group ("pending", ...), as values for `status IN (...)`.

    Values, not a subquery: the planner then sees how many orders have each title (for one title,
    the usual Pending list, it walks the (status, id) index) instead of guessing and scanning orders.
    """
    return db.session.scalars(select(OrderStatusDefinition.title).where(STATUS_GROUPS[group].is_(True))).all()


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
        return query.filter(Order.status.in_(status_group_titles(value)))

    def operation(self):
        return "equals"


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


class ClientFilter(BaseSQLAFilter):
    """A client id, an email address, or a name (first and last, last only, or company)."""

    def __init__(self):
        super().__init__(Order.client_id, "Client")

    def apply(self, query, value, alias=None):
        value = value.strip()
        if value.isdigit():
            return query.filter(Order.client_id == int(value) if is_id(value) else false())
        if "@" in value:
            clients = select(Client.id).where(Client.email.in_({value, value.lower()}))
        else:
            words = value.split()
            variants = lambda word: {word, word.lower(), word.title()}  # noqa: E731
            match = Client.last_name.in_(variants(value)) | Client.company_name.in_(variants(value))
            if len(words) >= 2:
                match |= Client.first_name.in_(variants(words[0])) & Client.last_name.in_(
                    variants(" ".join(words[1:])))
            clients = select(Client.id).where(match)
        return query.filter(Order.client_id.in_(clients))

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


class PaymentStatusFilter(BaseSQLAFilter):
    """Paid / Unpaid / No Invoice, from the order's first invoice (as Order.payment_status)."""

    def __init__(self):
        super().__init__(Order.invoice_id, "Payment status",
                         options=[(status.value, status.value) for status in PaymentStatus])

    def validate(self, value):
        return value in set(PaymentStatus)

    def apply(self, query, value, alias=None):
        return query.filter(payment_status_is(value))

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


class ProductFilter(BaseSQLAFilter, LiveOptions):
    """Orders having a service of this product."""

    def __init__(self):
        super().__init__(Order.id, "Product")

    def live_options(self):
        products = db.session.scalars(select(Product).order_by(Product.group_name, Product.name))
        return [(str(product.id), str(product)) for product in products]

    def validate(self, value):
        return is_id(value)

    def apply(self, query, value, alias=None):
        orders = select(Service.order_id).where(Service.product_id == int(value))
        return query.filter(Order.id.in_(orders))

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
