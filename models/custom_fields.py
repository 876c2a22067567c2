"""Custom fields (WHMCS tblcustomfields / tblcustomfieldsvalues): extra questions a product asks
for each service bought (a root-login preference, a hostname) or every client answers (a VAT
number), and their answers.

A field belongs to a product (`applies_to` "product", `product_id` set) or to clients
(`applies_to` "client"). Its answers are one row each in `custom_field_values`, for a service or
for a client. A password field's answer lives in `secret` (encrypted at rest, rotated with the
other secrets); every other type's in `value`.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from models.base import Base, EncryptedText, UTCDateTime, utcnow
from models.catalog import Product
from models.clients import Client
from models.orders import Service


class CustomFieldType(StrEnum):
    """WHMCS's field types (text, textarea, dropdown, tickbox, password, link)."""

    TEXT = "text"
    TEXTAREA = "textarea"
    DROPDOWN = "dropdown"
    TICKBOX = "tickbox"
    PASSWORD = "password"
    LINK = "link"


class CustomFieldOwner(StrEnum):
    PRODUCT = "product"
    CLIENT = "client"


# Bounds (DESIGN.md §7): a pattern is compiled and checked when saved; a value longer than its
# bound is refused before any pattern sees it, so matching time stays bounded too.
MAX_FIELD_NAME = 100
MAX_PATTERN_LENGTH = 255
MAX_OPTIONS_LENGTH = 2000
MAX_VALUE_LENGTH = 1000  # text, link, password, dropdown
MAX_TEXTAREA_LENGTH = 10_000  # no pattern check beyond MAX_VALUE_LENGTH characters (see validation)
MAX_FIELDS_PER_OWNER = 100


class CustomField(Base):
    __tablename__ = "custom_fields"
    __table_args__ = (
        CheckConstraint(
            "(applies_to = 'product' AND product_id IS NOT NULL) OR "
            "(applies_to = 'client' AND product_id IS NULL)",
            name="owner_matches",
        ),
        # The order form and the placement read a product's fields in their order: one index walk.
        Index("ix_custom_fields_product_id_sort_order", "product_id", "sort_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applies_to: Mapped[str] = mapped_column(String(20), default=CustomFieldOwner.PRODUCT)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(MAX_FIELD_NAME))
    field_type: Mapped[str] = mapped_column(String(20), default=CustomFieldType.TEXT)
    description: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[str] = mapped_column(Text, default="")  # dropdown choices, comma-separated (WHMCS)
    validation: Mapped[str] = mapped_column(String(MAX_PATTERN_LENGTH), default="")  # regex; "" = none
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    admin_only: Mapped[bool] = mapped_column(Boolean, default=False)
    show_on_order_form: Mapped[bool] = mapped_column(Boolean, default=True)
    show_on_invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product | None] = relationship()

    @property
    def choices(self) -> list[str]:
        return [c.strip() for c in self.options.split(",") if c.strip()]

    @property
    def is_secret(self) -> bool:
        return self.field_type == CustomFieldType.PASSWORD

    def __str__(self) -> str:
        return self.name


class CustomFieldValue(Base):
    """One answer: a product field's for one service, or a client field's for one client."""

    __tablename__ = "custom_field_values"
    __table_args__ = (
        UniqueConstraint("field_id", "service_id", name="uq_custom_field_values_field_service"),
        UniqueConstraint("field_id", "client_id", name="uq_custom_field_values_field_client"),
        CheckConstraint("(service_id IS NULL) <> (client_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(Text, default="")
    secret: Mapped[str | None] = mapped_column(EncryptedText)  # a password field's answer

    field: Mapped[CustomField] = relationship()
    service: Mapped[Service | None] = relationship(
        backref=backref("custom_field_values", order_by="CustomFieldValue.id", cascade="all, delete-orphan")
    )
    client: Mapped[Client | None] = relationship(
        backref=backref("custom_field_values", order_by="CustomFieldValue.id", cascade="all, delete-orphan")
    )

    @property
    def answer(self) -> str:
        """The value in clear (a password's decrypted): for module calls and validation only."""
        return (self.secret or "") if self.field.is_secret else self.value
