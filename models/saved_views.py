"""Saved views: a grid's filters, search, sort and page size under a name, for one admin or the team."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class SavedView(Base):
    __tablename__ = "saved_views"
    __table_args__ = (
        UniqueConstraint("admin_id", "endpoint", "name", name="uq_saved_views_admin_endpoint_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(50), index=True)  # the list: "orders", "clients", ...
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text, default="")  # the list's query string, re-encoded
    shared: Mapped[bool] = mapped_column(Boolean, default=False)  # the whole team sees it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.name
