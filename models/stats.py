"""Daily figures for the dashboard, kept current by the same transactions that change orders and
payments (actions/daily_stats.py), so the dashboard never scans orders.

    DailyOrderCount   (day, status) -> how many orders placed that day have that status now
    DailyRevenue      day -> money received (payments in) and given back (refunds out) that day
Days are UTC days.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Money


class DailyOrderCount(Base):
    __tablename__ = "daily_order_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)


class DailyRevenue(Base):
    __tablename__ = "daily_revenue"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    paid_in: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    refunded: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
