"""Invoices, their lines, and money movements (payments in, refunds out)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, Rate, UTCDateTime, utcnow
from models.clients import Client
from models.currency import ONE, Currency, default_currency_id
from models.vocab import InvoiceStatus

# Every invoice status but Paid: what an order's payment status "Unpaid" means for its invoice.
UNPAID_CONDITION = f"status <> '{InvoiceStatus.PAID.value}'"


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        Index("ix_invoices_client_id_id", "client_id", "id"),
        # The orders list's payment status filter walks invoices newest-first within Paid / not Paid
        # (models/orders.py: invoice_payment_status_is), however rare either is.
        Index("ix_invoices_status_id", "status", "id"),
        Index("ix_invoices_unpaid_id", "id", sqlite_where=text(UNPAID_CONDITION),
              postgresql_where=text(UNPAID_CONDITION)),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    date_paid: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_cancelled: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_refunded: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_capture_attempt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.UNPAID, index=True)
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    credit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    tax: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    # The client's currency when the invoice was made, and that day's rate (as on orders).
    # Nullable only so the migration adds them without rebuilding the table; always written.
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), nullable=True,
                                             default=default_currency_id())
    currency_rate: Mapped[Decimal] = mapped_column(Rate(), nullable=True, default=ONE)
    payment_method: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Why the last Attempt Capture failed ("" once one succeeds): shown on the invoice and order pages.
    capture_error: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    # Bumped by every invoice action (actions.invoice_access): a form posted from an older page
    # (a double click, a second tab) is refused instead of paying or refunding twice.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()
    currency: Mapped[Currency] = relationship()
    items: Mapped[list["InvoiceItem"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceItem.id"
    )
    transactions: Mapped[list["Transaction"]] = relationship(
        back_populates="invoice", order_by="Transaction.id"
    )

    def derive_totals(self) -> None:
        """Subtotal, tax and total from the lines: never typed. Orderdesk has no tax rules yet, so
        tax is 0.00; credit applied is subtracted."""
        self.subtotal = sum((item.amount for item in self.items), Decimal("0.00"))
        self.tax = Decimal("0.00")
        self.total = self.subtotal + self.tax - (self.credit or Decimal("0.00"))

    @property
    def amount_paid(self) -> Decimal:
        return sum((t.amount_in for t in self.transactions), Decimal("0.00"))

    @property
    def amount_refunded(self) -> Decimal:
        return sum((t.amount_out for t in self.transactions), Decimal("0.00"))

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid + self.amount_refunded

    def __str__(self) -> str:
        return f"Invoice #{self.id}"


class InvoiceItem(Base):
    __tablename__ = "invoice_items"
    __table_args__ = (Index("ix_invoice_items_type_related_id", "type", "related_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(30))  # models.vocab.InvoiceItemType
    related_id: Mapped[int | None] = mapped_column(Integer)  # service/domain id, per type
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money())

    invoice: Mapped[Invoice] = relationship(back_populates="items")


class Transaction(Base):
    """A payment in (amount_in) or a refund out (amount_out, refund_of_id -> the payment)."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(100))
    date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    description: Mapped[str] = mapped_column(String(255), default="")
    amount_in: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_out: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    fees: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    transaction_id: Mapped[str] = mapped_column(String(255), default="", index=True)  # gateway's id
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), index=True)

    invoice: Mapped[Invoice | None] = relationship(back_populates="transactions")
    client: Mapped[Client] = relationship()
