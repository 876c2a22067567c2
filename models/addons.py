"""Product addons (WHMCS tbladdons / tblhostingaddons): the catalog and the ordered addon items.

An addon is sold per billing cycle (price + setup fee), to the products listed in
`addon_products`. Ordered, it is an order item of its own (`service_addons`), attached to the
service it was bought with, with the service vocabulary for its status, its own invoice lines and
recurring amount. `module` "" means no server-module commands: accepting activates it, cancelling
ends it at once; otherwise its create / terminate run through the outbox like a service's.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from models.base import Base, Money, UTCDateTime, utcnow
from models.catalog import Product, price_label
from models.clients import Client
from models.currency import Currency, default_currency_id
from models.orders import Order, Service, payment_status_of
from models.vocab import AutoSetup, InvoiceItemType, ServiceStatus

addon_products = Table(
    "addon_products",
    Base.metadata,
    Column("addon_id", ForeignKey("addons.id", ondelete="CASCADE"), primary_key=True),
    # Which addons a product offers: the order form's lookup, by product.
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Addon(Base):
    __tablename__ = "addons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    module: Mapped[str] = mapped_column(String(50), default="")  # server module; "" = none
    auto_setup: Mapped[str] = mapped_column(String(20), default=AutoSetup.ON_ACCEPT)
    welcome_email: Mapped[str] = mapped_column(String(100), default="")  # email template; "" = none
    show_on_order_form: Mapped[bool] = mapped_column(Boolean, default=True)  # False: admin-only
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prices: Mapped[list["AddonPrice"]] = relationship(
        back_populates="addon", cascade="all, delete-orphan", order_by="AddonPrice.id"
    )
    products: Mapped[list[Product]] = relationship(secondary=addon_products, order_by=Product.id)

    def __str__(self) -> str:
        return self.name


class AddonPrice(Base):
    """One billing cycle an addon is sold on; a cycle without a row is not offered."""

    __tablename__ = "addon_prices"
    __table_args__ = (
        UniqueConstraint("addon_id", "cycle", "currency_id", name="uq_addon_prices_addon_cycle_currency"),
        CheckConstraint("price >= 0 AND setup_fee >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(20))
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), default=default_currency_id())
    price: Mapped[Decimal] = mapped_column(Money())
    setup_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    addon: Mapped[Addon] = relationship(back_populates="prices")
    currency: Mapped[Currency] = relationship()

    def __str__(self) -> str:
        return price_label(self)


class ServiceAddon(Base):
    """An addon bought in an order, attached to its service (WHMCS tblhostingaddons)."""

    __tablename__ = "service_addons"
    # The Addons grid lists newest first, filtered by status or addon: one index walk each.
    __table_args__ = (
        Index("ix_service_addons_status_id", "status", "id"),
        Index("ix_service_addons_addon_id_id", "addon_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    addon_id: Mapped[int] = mapped_column(ForeignKey("addons.id"))
    billing_cycle: Mapped[str] = mapped_column(String(20))
    first_payment_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    recurring_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    promotion_id: Mapped[int | None] = mapped_column(ForeignKey("promotions.id"))
    registration_date: Mapped[date | None] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default=ServiceStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order | None] = relationship(backref=backref("addons", order_by="ServiceAddon.id"))
    service: Mapped[Service] = relationship(backref=backref("addons", order_by="ServiceAddon.id"))
    client: Mapped[Client] = relationship()
    addon: Mapped[Addon] = relationship()

    def __str__(self) -> str:
        return self.addon.name if self.addon else "Addon"


# The invoice lines that bill an ordered addon (their related_id is the service_addons id).
ADDON_LINE_TYPES = frozenset({InvoiceItemType.ADDON, InvoiceItemType.PROMO_ADDON})


def addon_payment_status(order: Order, item: ServiceAddon) -> str:
    lines = order.invoice.items if order.invoice else []
    billed = any(line.related_id == item.id and line.type in ADDON_LINE_TYPES for line in lines)
    return payment_status_of(order.invoice if billed else None)
