"""What is sold and how: products and prices, servers, TLDs, promotions, payment gateways."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, EncryptedText, Money, UTCDateTime, utcnow
from models.currency import Currency, default_currency_id
from models.vocab import AutoSetup, ProductType


class Server(Base):
    __tablename__ = "servers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    module: Mapped[str] = mapped_column(String(50), default="manual")
    url: Mapped[str] = mapped_column(String(500), default="")  # webhook endpoint
    secret: Mapped[str | None] = mapped_column(EncryptedText)  # webhook HMAC secret
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.name


def product_label(group_name: str | None, name: str) -> str:
    """How a product is named in lists: "Hosting - Starter"."""
    return f"{group_name} - {name}" if group_name else name


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("stock_quantity >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str] = mapped_column(String(100), default="")
    type: Mapped[str] = mapped_column(String(30), default=ProductType.SHARED_HOSTING)
    description: Mapped[str] = mapped_column(Text, default="")
    module: Mapped[str] = mapped_column(String(50), default="manual")  # server module name
    default_server_id: Mapped[int | None] = mapped_column(ForeignKey("servers.id"), index=True)
    auto_setup: Mapped[str] = mapped_column(String(20), default=AutoSetup.ON_ACCEPT)
    welcome_email: Mapped[str] = mapped_column(String(100), default="")  # email template name
    requires_domain: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_control: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_quantity: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    default_server: Mapped[Server | None] = relationship()
    prices: Mapped[list["ProductPrice"]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductPrice.id"
    )

    def __str__(self) -> str:
        return product_label(self.group_name, self.name)


class ProductPrice(Base):
    """One enabled billing cycle of a product; a cycle without a row is not offered."""

    __tablename__ = "product_prices"
    __table_args__ = (
        UniqueConstraint("product_id", "cycle", "currency_id",
                         name="uq_product_prices_product_cycle_currency"),
        CheckConstraint("price >= 0 AND setup_fee >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(20))
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), default=default_currency_id())
    price: Mapped[Decimal] = mapped_column(Money())
    setup_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    product: Mapped[Product] = relationship(back_populates="prices")
    currency: Mapped[Currency] = relationship()

    def __str__(self) -> str:
        return price_label(self)


def price_label(row) -> str:
    """A price row as the catalog lists show it: "Monthly: EUR 5.00 + 0.00 setup"."""
    code = row.currency.code if row.currency else ""
    return f"{row.cycle}: {code} {row.price} + {row.setup_fee} setup"


class Tld(Base):
    __tablename__ = "tlds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(63), unique=True)  # ".com"
    auto_registrar: Mapped[str] = mapped_column(String(50), default="")  # "" = none
    dns_management_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    email_forwarding_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    id_protection_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    epp_required: Mapped[bool] = mapped_column(Boolean, default=True)

    prices: Mapped[list["TldPrice"]] = relationship(
        back_populates="tld", cascade="all, delete-orphan", order_by="TldPrice.years"
    )

    def __str__(self) -> str:
        return self.extension


class TldPrice(Base):
    __tablename__ = "tld_prices"
    __table_args__ = (
        UniqueConstraint("tld_id", "years", "currency_id", name="uq_tld_prices_tld_years_currency"),
        CheckConstraint("years BETWEEN 1 AND 10", name="years_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tld_id: Mapped[int] = mapped_column(ForeignKey("tlds.id", ondelete="CASCADE"))
    years: Mapped[int] = mapped_column(Integer)
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), default=default_currency_id())
    register_price: Mapped[Decimal | None] = mapped_column(Money())  # None = not offered
    transfer_price: Mapped[Decimal | None] = mapped_column(Money())
    renew_price: Mapped[Decimal | None] = mapped_column(Money())

    tld: Mapped[Tld] = relationship(back_populates="prices")
    currency: Mapped[Currency] = relationship()


class Promotion(Base):
    """Every WHMCS promotion field (reference/whmcs-order-management.md §5.2)."""

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("max_uses = 0 OR uses <= max_uses", name="uses_within_max"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    recur_for: Mapped[int] = mapped_column(Integer, default=0)  # 0 = forever when recurring
    applies_to_products: Mapped[list] = mapped_column(JSON, default=list)  # product ids; empty=all
    applies_to_tlds: Mapped[list] = mapped_column(JSON, default=list)  # ".com", ...
    applies_to_addons: Mapped[list] = mapped_column(JSON, default=list)  # addon ids
    requires_products: Mapped[list] = mapped_column(JSON, default=list)
    requires_tlds: Mapped[list] = mapped_column(JSON, default=list)
    requires_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    cycles: Mapped[list] = mapped_column(JSON, default=list)  # allowed cycles; empty=all
    start_date: Mapped[date | None] = mapped_column(Date)
    expiration_date: Mapped[date | None] = mapped_column(Date)
    max_uses: Mapped[int] = mapped_column(Integer, default=0)  # 0 = unlimited
    uses: Mapped[int] = mapped_column(Integer, default=0)
    apply_once: Mapped[bool] = mapped_column(Boolean, default=False)
    new_signups: Mapped[bool] = mapped_column(Boolean, default=False)
    once_per_client: Mapped[bool] = mapped_column(Boolean, default=False)
    existing_client: Mapped[bool] = mapped_column(Boolean, default=False)
    upgrades: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")

    amounts: Mapped[list["PromotionAmount"]] = relationship(
        back_populates="promotion", cascade="all, delete-orphan", order_by="PromotionAmount.id")

    def __str__(self) -> str:
        return self.code


class PromotionAmount(Base):
    """A Fixed Amount or Price Override promotion's value in a currency other than the default
    (whose value is Promotion.value). Without a row, the promotion does not apply in that currency."""

    __tablename__ = "promotion_amounts"
    __table_args__ = (
        UniqueConstraint("promotion_id", "currency_id", name="uq_promotion_amounts_promotion_currency"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"))
    value: Mapped[Decimal] = mapped_column(Money())

    promotion: Mapped[Promotion] = relationship(back_populates="amounts")
    currency: Mapped[Currency] = relationship()


class Gateway(Base):
    __tablename__ = "gateways"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # system name, e.g. "banktransfer"
    display_name: Mapped[str] = mapped_column(String(100))
    module: Mapped[str] = mapped_column(String(50))
    settings: Mapped[str | None] = mapped_column(EncryptedText)  # JSON: api keys etc.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return self.display_name
