"""The export holds exactly the orders the grid lists for the same filters and search: compared by
order number against every page of the list itself (not against what the test expects)."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from extensions import db
from models import Order, OrderStatus, utcnow
from tests import factories

ROW = re.compile(r'<input[^>]*class="action-checkbox"[^>]*value="(\d+)"')
WINDOW = f"{utcnow() - timedelta(days=30):%Y-%m-%d} to {utcnow() - timedelta(days=8):%Y-%m-%d}"


@pytest.fixture
def book(session):
    statuses = [OrderStatus.PENDING, OrderStatus.ACTIVE, OrderStatus.CANCELLED, OrderStatus.FRAUD]
    for n in range(60):
        order = factories.make_order(status=statuses[n % 4], domains=["Pending"] if n % 3 == 0 else ())
        order.date = utcnow() - timedelta(days=n)
        order.ip_address = f"198.51.100.{n % 7}"
    session.commit()


def grid_numbers(client, query: str) -> set[int]:
    ids: list[int] = []
    for page in range(20):
        html = client.get(f"/admin/orders/?{query}&page={page}").get_data(as_text=True)
        found = [int(i) for i in ROW.findall(html)]
        if not found or set(found) <= set(ids):  # past the end the list shows its last page again
            break
        ids += found
    assert len(ids) == len(set(ids))
    return set(db.session.scalars(select(Order.order_number).where(Order.id.in_(ids))))


def export_numbers(client, query: str) -> set[int]:
    text = client.get(f"/admin/orders/export/csv/?{query}").get_data(as_text=True).lstrip("\ufeff")
    numbers = [int(row["Order #"]) for row in csv.DictReader(io.StringIO(text))]
    assert len(numbers) == len(set(numbers))
    return set(numbers)


@pytest.mark.parametrize("query", [
    "flt0_status_group_equals=pending",
    "flt0_status_equals=Active",
    f"flt0_date_between={WINDOW}",
    "flt0_status_group_equals=cancelled&search=198.51.100.3",
    f"flt0_total_at_least={Decimal('20.00')}",
    "sort=3&desc=1",
])
def test_export_rows_are_the_grids_rows(admin_client, book, query):
    listed = grid_numbers(admin_client, query)
    exported = export_numbers(admin_client, query)
    assert exported == listed
    assert 0 < len(listed) < 60 or query.startswith("sort")
