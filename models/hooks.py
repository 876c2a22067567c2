"""Event hooks: the endpoints an admin configures, and the log of every delivery attempt.

A delivery itself is a side effect (kind hook_delivery, target the endpoint) recorded in the same
transaction as the change it announces (actions.hook_events, docs/hooks.md)."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, EncryptedText, UTCDateTime, utcnow


class HookEndpoint(Base):
    __tablename__ = "hook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(255), default="")
    events: Mapped[list] = mapped_column(JSON, default=list)  # actions.hook_events.EVENT_TYPES
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The HMAC key receivers verify with: generated, encrypted at rest, shown once.
    secret: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The endpoints list's failure badge: reset by the next delivery that succeeds.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HookDelivery(Base):
    """One attempt to deliver one event to one endpoint (never the secret, never the body)."""

    __tablename__ = "hook_deliveries"
    __table_args__ = (Index("ix_hook_deliveries_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Plain columns: the log outlives a deleted endpoint.
    endpoint_id: Mapped[int] = mapped_column(Integer)
    side_effect_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
