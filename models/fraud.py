"""Fraud protection: the fraud module's settings and every check's result (WHMCS tblfraud and the
order's "Fraud Check Results")."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, EncryptedText, UTCDateTime, utcnow

# WHMCS's MaxMind default: a risk score above 20 is fraud.
DEFAULT_THRESHOLD = Decimal(20)
# The setting naming the one active fraud module ("none": no checking).
ACTIVE_MODULE_SETTING = "fraud_module"


class FraudVerdict(StrEnum):
    PASSED = "passed"  # checked, under the threshold and no reject rule: the order stays Pending
    FRAUD = "fraud"  # over the threshold or a reject rule: the order is Fraud
    FAILED = "failed"  # the check could not run (service down, bad licence): Pending, flagged


class FraudService(StrEnum):
    """MaxMind minFraud's services; Insights and Factors add the IP, email and address checks."""

    SCORE = "score"
    INSIGHTS = "insights"
    FACTORS = "factors"


class FraudModuleSettings(Base):
    """One row per fraud module: its configuration. Which one runs is the fraud_module setting."""

    __tablename__ = "fraud_module_settings"

    module: Mapped[str] = mapped_column(String(50), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(20), default="")
    license_key: Mapped[str | None] = mapped_column(EncryptedText)  # never shown back, never logged
    service: Mapped[str] = mapped_column(String(20), default=FraudService.SCORE)
    # A score strictly above it is fraud; 0 turns the check off.
    threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=DEFAULT_THRESHOLD)
    reject_free_email: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_country_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_anonymous_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_high_risk_countries: Mapped[bool] = mapped_column(Boolean, default=False)
    high_risk_countries: Mapped[list] = mapped_column(JSON, default=list)  # ISO 3166 codes, upper case
    skip_existing_clients: Mapped[bool] = mapped_column(Boolean, default=True)
    skip_gateways: Mapped[list] = mapped_column(JSON, default=list)  # gateway system names
    timeout: Mapped[int] = mapped_column(Integer, default=10)  # seconds
    host: Mapped[str] = mapped_column(String(255), default="")  # "": the module's own service host

    def __str__(self) -> str:
        return self.module


class FraudCheck(Base):
    """One run of the fraud module for an order: at placement, or an admin's Run Fraud Check."""

    __tablename__ = "fraud_checks"
    __table_args__ = (Index("ix_fraud_checks_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(50))
    service: Mapped[str] = mapped_column(String(20), default="")
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    verdict: Mapped[str] = mapped_column(String(10))
    error: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # The readable fields of the answer (IP country and ISP, proxy, email and address checks).
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    raw: Mapped[dict] = mapped_column(JSON, default=dict)  # the module's answer, secrets taken out
    actor_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return f"Fraud check {self.id}"
