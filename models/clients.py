"""Clients (the people who order) and affiliates (clients who refer others)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, UTCDateTime, prefix_search_index, utcnow
from models.currency import Currency, default_currency_id
from models.vocab import ClientStatus


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (Index("ix_clients_last_name_first_name", "last_name", "first_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company_name: Mapped[str] = mapped_column(String(200), default="", index=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    address1: Mapped[str] = mapped_column(String(255), default="")
    # A server default, so writers that list their columns (seed-demo's batch inserts) need not name it.
    address2: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")  # ISO 3166-1 alpha-2
    phone: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default=ClientStatus.ACTIVE, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The client's saved card at the card gateway (Stripe: cus_... and pm_...), for Attempt Capture.
    gateway_customer_id: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))
    gateway_payment_method_id: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))
    # Money owed back to the client, kept for later invoices (a downgrade's prorated credit).
    credit_balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"),
                                                    server_default=text("0"))
    # Orders and invoices are in it; fixed once the client has an invoice (actions/clients.py).
    # Nullable only so the migration adds it without rebuilding the table; always written.
    currency_id: Mapped[int] = mapped_column(ForeignKey("currencies.id"), nullable=True,
                                             default=default_currency_id(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    currency: Mapped[Currency] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        return client_label(self.first_name, self.last_name, self.company_name)


def client_label(first_name: str, last_name: str, company_name: str) -> str:
    """A client as lists show it: "Ada Lovelace (Analytical Engines)"."""
    label = f"{first_name} {last_name}".strip()
    return f"{label} ({company_name})" if company_name else label


# Intelligent search: "ada", "ada lov", "lovelace", "ada@", "acme" (actions/search.py).
prefix_search_index("ix_clients_first_last_lower", Client.first_name, Client.last_name)
prefix_search_index("ix_clients_last_name_lower", Client.last_name)
prefix_search_index("ix_clients_email_lower", Client.email)
prefix_search_index("ix_clients_company_name_lower", Client.company_name)


class Affiliate(Base):
    __tablename__ = "affiliates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()

    def __str__(self) -> str:
        return f"#{self.id} {self.client}" if self.client else f"#{self.id}"
