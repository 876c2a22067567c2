"""The admin home: the dashboard. Like every admin URL it needs a login; each figure needs the
permission of the list it links to.

Every figure is a bounded query: the daily tables (models/stats.py, kept current by the
transactions that change orders and payments) for the charts, capped COUNTs on an index for the
counters (the menu badges' own helper), one index lookup for the oldest pending order. Nothing
scans the orders. Charts are server-side SVG drawn by pygal, with no script and nothing fetched
from elsewhere; under each chart its figures per day, folded, as a table (the exact numbers, which
the script-free SVG does not show on hover).

A month is drawn as a bar per day. Longer periods are drawn as stacked areas, one path per series:
pygal draws a bar as a group of six nodes (the rect and the data its script would read), so 365
days of four statuses were ~9,000 nodes and most of the page's time (6x the orders list at
1,000,000 orders); the areas show the same figures per day at a fraction of the cost.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pygal
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from markupsafe import Markup
from pygal.style import Style
from sqlalchemy import select

from admin.base import capped_count, has_permission
from admin.filters import order_statuses, status_group_titles
from admin.orders import PENDING_BADGE_CAP, pending_orders_count
from admin.side_effects import can_view_side_effects, failed_side_effects_count
from extensions import db
from models import (
    DailyOrderCount,
    DailyRevenue,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Permission,
    utcnow,
)
from models.base import ZERO

PERIODS = (30, 90, 365)
COUNT_CAP = 999
BARS_UP_TO_DAYS = 31  # a bar per day while bars are wide enough to read; stacked areas beyond


def _chart_class(days: int, stacked: bool):
    """The pygal chart for a period: bars for a month, filled lines without dots beyond."""
    if days <= BARS_UP_TO_DAYS:
        return (pygal.StackedBar if stacked else pygal.Bar), {}
    # The y axis from zero as bars have it; a date label every week (90 days) or month (365).
    return (pygal.StackedLine if stacked else pygal.Line), {
        "fill": True, "show_dots": False, "include_x_axis": True, "x_labels_major_every": days // 12}


def _chart(chart_class, title: str, colors=None, **config):
    style = Style(background="transparent", plot_background="transparent",
                  colors=tuple(colors) if colors else Style.colors, font_family="inherit")
    return chart_class(title=title, style=style, js=[], disable_xml_declaration=True, height=300,
                       show_x_labels=True, x_label_rotation=45, show_minor_x_labels=False,
                       legend_at_bottom=True, truncate_legend=-1, **config)


def _svg(chart) -> Markup:
    """The chart's SVG without pygal's config script: the page runs no chart code (tooltips are the
    SVG's own <title> elements), so nothing is needed from elsewhere and nothing inline runs."""
    return Markup(re.sub(r"<script\b.*?</script>", "", chart.render(is_unicode=True), flags=re.S))


def _days(start, end) -> list:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def orders_per_day(start, end) -> tuple[list, dict[str, list[int]]]:
    """Orders placed per day by their status now, from the daily counts."""
    days = _days(start, end)
    index = {day: n for n, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    rows = db.session.execute(select(DailyOrderCount.day, DailyOrderCount.status, DailyOrderCount.orders)
                              .where(DailyOrderCount.day >= start, DailyOrderCount.day <= end,
                                     DailyOrderCount.orders > 0))
    for day, status, orders in rows:
        series.setdefault(status, [0] * len(days))[index[day]] = orders
    return days, series


def revenue_per_day(start, end) -> tuple[list, list[Decimal]]:
    days = _days(start, end)
    index = {day: n for n, day in enumerate(days)}
    net = [ZERO] * len(days)
    rows = db.session.execute(select(DailyRevenue.day, DailyRevenue.paid_in, DailyRevenue.refunded)
                              .where(DailyRevenue.day >= start, DailyRevenue.day <= end))
    for day, paid_in, refunded in rows:
        net[index[day]] = paid_in - refunded
    return days, net


def oldest_pending():
    titles = status_group_titles("pending")
    return db.session.scalar(select(Order.date).where(Order.status.in_(titles)).order_by(Order.id).limit(1))


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        period = request.args.get("days", "30")
        days = int(period) if period in {str(p) for p in PERIODS} else 30
        today = utcnow().date()
        start = today - timedelta(days=days - 1)
        context = {"days": days, "periods": PERIODS, "today": today}
        if has_permission(Permission.VIEW_ORDERS):
            oldest = oldest_pending()
            context.update(
                pending=pending_orders_count(), pending_cap=PENDING_BADGE_CAP,
                oldest_pending_age=(utcnow() - oldest) if oldest else None,
                fraud_today=db.session.scalar(select(DailyOrderCount.orders).where(
                    DailyOrderCount.day == today, DailyOrderCount.status == OrderStatus.FRAUD)) or 0,
                **self._orders_chart(start, today),
            )
        if has_permission(Permission.LIST_INVOICES):
            overdue = select(Invoice.id).where(Invoice.status == InvoiceStatus.UNPAID,
                                               Invoice.due_date < today)
            context.update(overdue_invoices=capped_count("overdue_invoices", overdue, COUNT_CAP),
                           count_cap=COUNT_CAP, **self._revenue_chart(start, today))
        if can_view_side_effects():
            context["failed_side_effects"] = failed_side_effects_count()
        return self.render("admin/dashboard.html", **context)

    def _orders_chart(self, start, end) -> dict:
        days, series = orders_per_day(start, end)
        colors = {status.title: status.color for status in order_statuses()}
        chart_class, config = _chart_class(len(days), stacked=True)
        chart = _chart(chart_class, "Orders placed per day, by status now",
                       colors=[colors.get(status, "#888888") for status in series], **config)
        chart.x_labels = [day.strftime("%d %b") for day in days]
        for status, counts in series.items():
            chart.add(status, counts)
        rows = [(day, [counts[n] for counts in series.values()]) for n, day in enumerate(days)]
        return {"orders_chart": _svg(chart), "orders_table": (list(series), rows[::-1])}

    def _revenue_chart(self, start, end) -> dict:
        days, net = revenue_per_day(start, end)
        chart_class, config = _chart_class(len(days), stacked=False)
        chart = _chart(chart_class, "Money received per day (payments less refunds)", colors=["#28a745"],
                       show_legend=False, **config)
        chart.x_labels = [day.strftime("%d %b") for day in days]
        chart.add("Received", [float(amount) for amount in net])  # bar heights; the table is exact
        return {"revenue_chart": _svg(chart), "revenue_table": list(zip(days, net, strict=True))[::-1]}
