"""The outbox: every side effect is a row written in the same transaction as the change."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.vocab import SideEffectStatus


class SideEffect(Base):
    __tablename__ = "side_effects"
    __table_args__ = (
        Index("ix_side_effects_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_side_effects_order_id_id", "order_id", "id"),
        # A target's own effects (an invoice's captures and refunds, a service's terminate): the
        # invoice page and the actions look them up by target, which the outbox outgrows fast.
        Index("ix_side_effects_target_type_target_id_id", "target_type", "target_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Plain column: the history of what ran stays visible even after an order is deleted.
    order_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # models.vocab.SideEffectKind
    target_type: Mapped[str] = mapped_column(String(20), default="")  # service|domain|invoice|email
    target_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=SideEffectStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The insert sentinel (always set here, unique): SQLAlchemy can then insert many rows in one
    # statement on SQLite too and match each RETURNING id to its row (no schema change).
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True, insert_sentinel=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
