"""Key/value settings, email templates and the email log."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.vocab import EmailStatus

# Defaults for the settings table; values are strings, parsed by whoever reads them. Only settings
# something reads are here (fraud screening and the automation sweeps add theirs with their code).
DEFAULT_SETTINGS = {
    "company_name": "Orderdesk Demo Hosting",  # email merge fields
    "order_days_grace": "0",  # days from placement to the first invoice's due date
    "show_notes_on_checkout": "1",  # the order page shows the client's notes ("0": hidden)
    # The first default currency is made from these three (ensure_reference_data, the currencies
    # migration); from then on currencies are rows edited under Setup > Currencies (models/currency.py).
    "currency": "USD",
    "currency_prefix": "$",
    "currency_suffix": " USD",
    "fraud_module": "none",  # the one active fraud module (Setup > Fraud Protection)
    # The daily automation (actions/renewals.py, actions/auto_cancel.py, jobs/daily.py).
    "invoice_generation_days": "14",  # renewal invoices this many days before the due date
    "cancel_unpaid_orders_after_days": "0",  # Pending orders with an unpaid invoice; "0": off
    # Paid in full (actions/paid_setup.py). WHMCS's "Only Auto Provision for Existing": "1" leaves a
    # new client's paid order for review, nothing set up.
    "auto_provision_existing_only": "0",
    # "Accept orders automatically once their invoice is paid and every item is set up" ("1": on).
    "auto_accept_paid_orders": "0",
    # Where a downgrade's prorated credit goes when it is applied: "credit" (the client's credit
    # balance) or "refund" (back on the service's latest payments; what they cannot take, as credit).
    "downgrade_credit_method": "credit",
}


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.key


class EmailTemplate(Base):
    __tablename__ = "email_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # "Order Confirmation"
    type: Mapped[str] = mapped_column(String(20), default="general")  # general|product|admin|domain
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)  # Jinja, WHMCS merge field names
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self) -> str:
        return self.name


class EmailLog(Base):
    __tablename__ = "email_log"
    __table_args__ = (
        Index("ix_email_log_client_id_id", "client_id", "id"),
        Index("ix_email_log_order_id_id", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(100), default="")
    to: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=EmailStatus.QUEUED)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
