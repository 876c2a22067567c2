"""Configurable options (WHMCS tblproductconfiggroups, tblproductconfigoptions(sub), tblhostingconfigoptions).

An option group is linked to products (many-to-many). Its options are of four types:
    dropdown, radio   the client picks one choice; the choice's price applies
    yes/no            one choice ("Yes") whose price applies when ticked (quantity 1), else nothing
    quantity          one choice whose price is per unit, quantity between min and max
Each choice is priced per billing cycle (price + setup fee), in the product cycle vocabulary; a
cycle without a row costs nothing on that cycle. The values an ordered service carries are rows of
`service_config_options` (one per option of its product), priced into the service's amounts.
"""

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from models.base import Base, Money
from models.catalog import Product, price_label
from models.currency import Currency, default_currency_id
from models.orders import Service


class ConfigOptionType(StrEnum):
    DROPDOWN = "Dropdown"
    RADIO = "Radio"
    YES_NO = "Yes/No"
    QUANTITY = "Quantity"


# The types whose value is a count (priced per unit) rather than a choice id.
COUNTED_TYPES = frozenset({ConfigOptionType.YES_NO, ConfigOptionType.QUANTITY})

config_option_group_products = Table(
    "config_option_group_products",
    Base.metadata,
    Column("group_id", ForeignKey("config_option_groups.id", ondelete="CASCADE"), primary_key=True),
    # Which groups a product has: the cart's lookup, by product.
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ConfigOptionGroup(Base):
    __tablename__ = "config_option_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    options: Mapped[list["ConfigOption"]] = relationship(
        back_populates="group", cascade="all, delete-orphan",
        order_by="[ConfigOption.sort_order, ConfigOption.id]",
    )
    products: Mapped[list[Product]] = relationship(
        secondary=config_option_group_products, order_by=Product.id,
        backref=backref("config_option_groups", order_by="ConfigOptionGroup.id"),
    )

    def __str__(self) -> str:
        return self.name


class ConfigOption(Base):
    __tablename__ = "config_options"
    __table_args__ = (
        CheckConstraint("min_quantity >= 0 AND max_quantity >= min_quantity", name="quantity_bounds"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("config_option_groups.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20), default=ConfigOptionType.DROPDOWN)
    # Quantity options only: the bounds a cart's count must stay within.
    min_quantity: Mapped[int] = mapped_column(Integer, default=0)
    max_quantity: Mapped[int] = mapped_column(Integer, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    group: Mapped[ConfigOptionGroup] = relationship(back_populates="options")
    choices: Mapped[list["ConfigOptionChoice"]] = relationship(
        back_populates="option", cascade="all, delete-orphan",
        order_by="[ConfigOptionChoice.sort_order, ConfigOptionChoice.id]",
    )

    def __str__(self) -> str:
        return self.name


class ConfigOptionChoice(Base):
    """A sub-option: one entry of a dropdown or radio; the single priced unit of yes/no and quantity."""

    __tablename__ = "config_option_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("config_options.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    option: Mapped[ConfigOption] = relationship(back_populates="choices")
    prices: Mapped[list["ConfigOptionPrice"]] = relationship(
        back_populates="choice", cascade="all, delete-orphan", order_by="ConfigOptionPrice.id"
    )

    def __str__(self) -> str:
        return self.name


class ConfigOptionPrice(Base):
    __tablename__ = "config_option_prices"
    __table_args__ = (
        UniqueConstraint("choice_id", "cycle", "currency_id",
                         name="uq_config_option_prices_choice_cycle_currency"),
        CheckConstraint("price >= 0 AND setup_fee >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("config_option_choices.id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(20))
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), default=default_currency_id())
    price: Mapped[Decimal] = mapped_column(Money())
    setup_fee: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    choice: Mapped[ConfigOptionChoice] = relationship(back_populates="prices")
    currency: Mapped[Currency] = relationship()

    def __str__(self) -> str:
        return price_label(self)


class ServiceConfigOption(Base):
    """The value a service has for one option (WHMCS tblhostingconfigoptions): the choice for
    dropdown / radio, the count for yes/no (0 or 1) and quantity."""

    __tablename__ = "service_config_options"
    __table_args__ = (
        UniqueConstraint("service_id", "option_id", name="uq_service_config_options_service_option"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("config_options.id"), index=True)
    choice_id: Mapped[int] = mapped_column(ForeignKey("config_option_choices.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    service: Mapped[Service] = relationship(
        backref=backref("config_options", order_by="ServiceConfigOption.id", cascade="all, delete-orphan")
    )
    option: Mapped[ConfigOption] = relationship()
    choice: Mapped[ConfigOptionChoice] = relationship()

    @property
    def value(self) -> str | int:
        """What WHMCS's `configoptions` param carries: the choice's name, or the count."""
        return self.quantity if self.option.type in COUNTED_TYPES else self.choice.name

    @property
    def shown(self) -> str:
        return describe_value(self.option, self.choice, self.quantity)

    def __str__(self) -> str:
        return f"{self.option.name}: {self.shown}"


def describe_value(option: ConfigOption, choice: "ConfigOptionChoice", quantity: int) -> str:
    """How a value reads on the invoice and the order page ("RAM: 4 GB", "Backups: Yes", "IPs: 3 x IP")."""
    if option.type == ConfigOptionType.YES_NO:
        return "Yes" if quantity else "No"
    if option.type == ConfigOptionType.QUANTITY:
        return f"{quantity} x {choice.name}"
    return choice.name
