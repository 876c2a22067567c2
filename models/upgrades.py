"""Upgrade / downgrade orders (WHMCS tblupgrades): what an order of kind "upgrade" changes on a live
service, priced when it was ordered (actions.upgrade_quote) and applied once paid or accepted
(actions.apply_upgrade)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, UTCDateTime, utcnow
from models.catalog import Product
from models.orders import Order, Service
from models.vocab import UpgradeStatus


class ServiceUpgrade(Base):
    __tablename__ = "service_upgrades"
    __table_args__ = (CheckConstraint("charge >= 0 AND credit >= 0", name="amounts_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    old_product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    new_product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    old_cycle: Mapped[str] = mapped_column(String(20))
    new_cycle: Mapped[str] = mapped_column(String(20))
    # [{option_id, choice_id, quantity}]: every option of the new product, as the service will have it.
    new_options: Mapped[list] = mapped_column(JSON, default=list)
    old_recurring_amount: Mapped[Decimal] = mapped_column(Money())
    new_recurring_amount: Mapped[Decimal] = mapped_column(Money())
    days_remaining: Mapped[int] = mapped_column(Integer)
    days_in_cycle: Mapped[int] = mapped_column(Integer)
    charge: Mapped[Decimal] = mapped_column(Money())  # what the upgrade invoice bills
    credit: Mapped[Decimal] = mapped_column(Money())  # what a downgrade gives back when applied
    credit_method: Mapped[str] = mapped_column(String(10))  # models.vocab.DowngradeCredit
    new_next_due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=UpgradeStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    service: Mapped[Service] = relationship()
    old_product: Mapped[Product] = relationship(foreign_keys=[old_product_id])
    new_product: Mapped[Product] = relationship(foreign_keys=[new_product_id])

    def __str__(self) -> str:
        return f"Upgrade of service {self.service_id}"
