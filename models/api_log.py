"""The API request log: one row per call to /includes/api.php (never secrets or card data)."""

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class ApiLogEntry(Base):
    __tablename__ = "api_log"
    # The admin's filters (credential, action, result, IP) each list newest first from one index.
    __table_args__ = (
        Index("ix_api_log_credential_id_id", "credential_id", "id"),
        Index("ix_api_log_action_id", "action", "id"),
        Index("ix_api_log_result_id", "result", "id"),
        Index("ix_api_log_ip_address_id", "ip_address", "id"),
        Index("ix_api_log_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(64), default="")  # lower-cased, as WHMCS prints it
    # No foreign keys: the log outlives revoked and deleted credentials and admins.
    credential_id: Mapped[int | None] = mapped_column(Integer)
    admin_user_id: Mapped[int | None] = mapped_column(Integer)  # legacy username + md5 logins
    caller: Mapped[str] = mapped_column(String(255), default="")  # identifier or admin email, once known
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    result: Mapped[str] = mapped_column(String(10))  # success | error
    http_status: Mapped[int] = mapped_column(Integer, default=200)
    message: Mapped[str] = mapped_column(String(500), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(Integer, index=True)

    def __str__(self) -> str:
        return f"{self.action} {self.result}"
