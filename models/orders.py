"""Orders, their configurable statuses, and the items inside them (services and domains)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, EncryptedText, Money, Rate, UTCDateTime, prefix_search_index, utcnow
from models.billing import Invoice
from models.catalog import Product, Server
from models.clients import Affiliate, Client
from models.currency import ONE, Currency, default_currency_id
from models.vocab import (
    DomainOrderType,
    DomainStatus,
    InvoiceItemType,
    InvoiceStatus,
    OrderKind,
    OrderSource,
    OrderStatus,
    PaymentStatus,
    ServiceStatus,
)


class OrderStatusDefinition(Base):
    """A row per order status: the four core ones (fixed titles) plus custom ones."""

    __tablename__ = "order_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(64), unique=True)
    color: Mapped[str] = mapped_column(String(7), default="#888888")
    include_in_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    include_in_active: Mapped[bool] = mapped_column(Boolean, default=False)
    include_in_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_core: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self) -> str:
        return self.title


# WHMCS's default rows (reference/whmcs-order-management.md §1.1).
CORE_ORDER_STATUSES = [
    dict(title=OrderStatus.PENDING, color="#cc0000", include_in_pending=True, sort_order=10),
    dict(title=OrderStatus.ACTIVE, color="#779500", include_in_active=True, sort_order=20),
    dict(title=OrderStatus.CANCELLED, color="#888888", include_in_cancelled=True, sort_order=30),
    dict(title=OrderStatus.FRAUD, color="#000000", sort_order=40),
]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_id", "status", "id"),
        Index("ix_orders_client_id_id", "client_id", "id"),
        # A date or total filter lists in that column's order, then id: one index walk, no sort.
        Index("ix_orders_date_id", "date", "id"),
        Index("ix_orders_amount_id", "amount", "id"),
        # A status with a date range, or sorted by total: the status's orders already in that order,
        # however few of them there are (admin/filters.py).
        Index("ix_orders_status_date_id", "status", "date", "id"),
        Index("ix_orders_status_amount_id", "status", "amount", "id"),
        # The list's "Fraud check failed" filter (models/fraud.py).
        Index("ix_orders_fraud_check_failed_id", "fraud_check_failed", "id"),
        CheckConstraint("order_number BETWEEN 1000000000 AND 9999999999", name="order_number_10_digits"),
        # Ids are never reused on SQLite either: "your first order will be ID 1, the second ID 2".
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_number: Mapped[int] = mapped_column(BigInteger, unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(
        ForeignKey("order_statuses.title", onupdate="CASCADE"), default=OrderStatus.PENDING
    )
    promo_code: Mapped[str] = mapped_column(String(100), default="")
    promo_type: Mapped[str] = mapped_column(String(20), default="")
    promo_value: Mapped[Decimal | None] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    # The client's currency and its rate on the day of placement: the dashboard and exports
    # convert the amount to the default currency with this rate, whatever the rate is today.
    # Nullable only so the migration adds them without rebuilding the table; always written.
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), nullable=True,
                                             default=default_currency_id())
    currency_rate: Mapped[Decimal] = mapped_column(Rate(), nullable=True, default=ONE)
    payment_method: Mapped[str] = mapped_column(String(100), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="", index=True)
    affiliate_id: Mapped[int | None] = mapped_column(ForeignKey("affiliates.id"), index=True)
    fraud_module: Mapped[str] = mapped_column(String(50), default="")
    fraud_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    fraud_output: Mapped[dict | None] = mapped_column(JSON)
    # The last fraud check could not run: the order waits in Pending for a human (actions/fraud_*.py).
    fraud_check_failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str] = mapped_column(Text, default="")  # the client's notes at checkout
    admin_notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20), default=OrderSource.ADMIN)
    # A new sale, or an upgrade / downgrade of a live service (its ServiceUpgrade row says which).
    kind: Mapped[str] = mapped_column(String(10), default=OrderKind.NEW, server_default=OrderKind.NEW.value)
    placed_by_admin_id: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic lock: an UPDATE carries "WHERE version = :seen"; a stale one raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}

    client: Mapped[Client] = relationship()
    currency: Mapped[Currency] = relationship()
    invoice: Mapped[Invoice | None] = relationship()
    affiliate: Mapped[Affiliate | None] = relationship()
    status_definition: Mapped[OrderStatusDefinition] = relationship(viewonly=True)
    services: Mapped[list["Service"]] = relationship(back_populates="order", order_by="Service.id")
    domains: Mapped[list["Domain"]] = relationship(back_populates="order", order_by="Domain.id")

    @property
    def payment_status(self) -> str:
        return payment_status_of(self.invoice)

    def __str__(self) -> str:
        return f"Order #{self.order_number}"


def payment_status_of(invoice: Invoice | None) -> str:
    return payment_status_for(invoice.status if invoice is not None else None)


def payment_status_for(invoice_status: str | None) -> str:
    """The payment status of an order whose first invoice has this status (None: no invoice)."""
    if invoice_status is None:
        return PaymentStatus.NO_INVOICE
    return PaymentStatus.PAID if invoice_status == InvoiceStatus.PAID else PaymentStatus.UNPAID


def payment_status_is(status: str) -> ColumnElement[bool]:
    """payment_status_of as SQL on orders (the list's filter, the API, exports): the order's first
    invoice is Paid / not Paid / absent."""
    if status == PaymentStatus.NO_INVOICE:
        return Order.invoice_id.is_(None)
    paid = select(Invoice.id).where(Invoice.id == Order.invoice_id, Invoice.status == InvoiceStatus.PAID)
    paid = paid.exists()
    if status == PaymentStatus.PAID:
        return paid
    if status == PaymentStatus.UNPAID:
        return Order.invoice_id.is_not(None) & ~paid
    raise ValueError(f"Unknown payment status {status!r}")


def invoice_payment_status_is(status: str) -> ColumnElement[bool]:
    """payment_status_is for a query that joins the order's first invoice (Paid or Unpaid; "No
    Invoice" joins nothing): the invoice's own condition, which the (status, id) index and the
    partial index of unpaid invoices answer in invoice id order."""
    if status == PaymentStatus.PAID:
        return Invoice.status == InvoiceStatus.PAID
    if status == PaymentStatus.UNPAID:
        return Invoice.status != InvoiceStatus.PAID
    raise ValueError(f"No invoice to join for payment status {status!r}")


# Which invoice lines bill a service and which a domain (their related_id is the item's id).
ITEM_LINE_TYPES = {
    "service": frozenset({InvoiceItemType.HOSTING, InvoiceItemType.SETUP, InvoiceItemType.PROMO_HOSTING}),
    "domain": frozenset({InvoiceItemType.DOMAIN_REGISTER, InvoiceItemType.DOMAIN_TRANSFER,
                         InvoiceItemType.PROMO_DOMAIN}),
}


def item_payment_status(order: "Order", item: "Service | Domain") -> str:
    """An item is billed on its order's first invoice; one without a line there has no invoice."""
    kind = "service" if isinstance(item, Service) else "domain"
    lines = order.invoice.items if order.invoice else []
    billed = any(line.related_id == item.id and line.type in ITEM_LINE_TYPES[kind] for line in lines)
    return payment_status_of(order.invoice if billed else None)


class Service(Base):
    """A product/service bought in an order (WHMCS tblhosting)."""

    __tablename__ = "services"
    # The orders list's product filter reads order ids straight from this index.
    __table_args__ = (Index("ix_services_product_id_order_id", "product_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    server_id: Mapped[int | None] = mapped_column(ForeignKey("servers.id"), index=True)
    domain: Mapped[str] = mapped_column(String(255), default="", index=True)
    username: Mapped[str] = mapped_column(String(100), default="", index=True)
    password: Mapped[str | None] = mapped_column(EncryptedText)
    billing_cycle: Mapped[str] = mapped_column(String(20))
    first_payment_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    recurring_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id"))
    registration_date: Mapped[date | None] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date, index=True)
    # The start of the next period not yet invoiced (WHMCS nextinvoicedate): the daily renewal run
    # invoices it and moves it on; next_due_date moves when that invoice is paid.
    next_invoice_date: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default=ServiceStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order | None] = relationship(back_populates="services")
    client: Mapped[Client] = relationship()
    product: Mapped[Product] = relationship()
    server: Mapped[Server | None] = relationship()

    def __str__(self) -> str:
        name = self.product.name if self.product else "Service"
        return f"{name} - {self.domain}" if self.domain else name


# Intelligent search by hostname and username (actions/search.py).
prefix_search_index("ix_services_domain_lower", Service.domain)
prefix_search_index("ix_services_username_lower", Service.username)


class Domain(Base):
    """A domain registration or transfer bought in an order (WHMCS tbldomains)."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(10), default=DomainOrderType.REGISTER)
    period_years: Mapped[int] = mapped_column(Integer, default=1)
    epp_code: Mapped[str | None] = mapped_column(EncryptedText)
    registrar: Mapped[str] = mapped_column(String(50), default="")
    dns_management: Mapped[bool] = mapped_column(Boolean, default=False)
    email_forwarding: Mapped[bool] = mapped_column(Boolean, default=False)
    id_protection: Mapped[bool] = mapped_column(Boolean, default=False)
    first_payment_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    recurring_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id"))
    registration_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date, index=True)
    next_invoice_date: Mapped[date | None] = mapped_column(Date, index=True)  # as Service's
    status: Mapped[str] = mapped_column(String(24), default=DomainStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order | None] = relationship(back_populates="domains")
    client: Mapped[Client] = relationship()

    def __str__(self) -> str:
        return self.name


prefix_search_index("ix_domains_name_lower", Domain.name)  # intelligent search
