"""The timeline: one row per change, kept after the order is deleted.

Most rows are about an order (its timeline on the order page); rows with no order are the back
office's own activity (a list exported, ...). Together they are the activity log."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class OrderEvent(Base):
    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_order_id_id", "order_id", "id"),
        # The activity log's filters (admin, verb, date) list newest first from these.
        Index("ix_order_events_actor_type_actor_id_id", "actor_type", "actor_id", "id"),
        Index("ix_order_events_verb_id", "verb", "id"),
        Index("ix_order_events_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key on purpose: the timeline (with a delete snapshot) outlives the order.
    order_id: Mapped[int | None] = mapped_column(Integer)
    actor_type: Mapped[str] = mapped_column(String(10))  # models.vocab.ActorType
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    verb: Mapped[str] = mapped_column(String(50))
    from_status: Mapped[str] = mapped_column(String(64), default="")
    to_status: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
