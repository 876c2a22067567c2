"""Dates a billing cycle moves: the same day N months on, or the month's last day when it is shorter
(31 January + 1 month = 28/29 February), as WHMCS bills."""

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
