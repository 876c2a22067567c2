"""The orders list does bounded work at any size: numbered pages while they are cheap, then pages
by position (admin/keyset.py), range filters in index order, a capped pending badge, status groups
compared by title."""

import re
from decimal import Decimal

import pytest
from flask_admin.contrib.sqla.filters import BaseSQLAFilter

from admin import orders
from admin.filters import PaymentStatusFilter
from admin.orders import OrderView
from extensions import db
from models import Client, Invoice, Order
from tests import factories
from tests.sql_support import recorded_statements


@pytest.fixture
def small_pages(app_ctx, monkeypatch):
    """The orders view with pages of 2 and page links for the first 2 pages only, so five orders
    reach past the numbered pages."""
    view = next(view for admin in app_ctx.extensions["admin"] for view in admin._views
                if isinstance(view, OrderView))
    monkeypatch.setattr(view, "page_size", 2)
    monkeypatch.setattr(view, "cheap_pages", 2)
    return [factories.make_order().order_number for _ in range(5)][::-1]  # newest first


def _page(web, **query) -> tuple[list[int], str]:
    response = web.get("/admin/orders/", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [int(n) for n in re.findall(r'class="col-order_number">\s*(?:<a [^>]*>)?(\d+)\s*<', html)], html


def _older(html: str) -> str | None:
    match = re.search(r'<a class="page-link" id="pager-next" href="([^"]+)"', html)
    return match and match.group(1).replace("&amp;", "&")


def test_numbered_pages_then_older_by_position_reach_the_oldest_order(admin_client, small_pages):
    """No page is refused: past the numbered pages, Older continues from the last row shown."""
    rows, html = _page(admin_client)
    assert rows == small_pages[:2]
    assert 'id="pager-page-2"' in html and "page=1" in _older(html)  # a numbered page while cheap

    rows, html = _page(admin_client, page=1)
    assert rows == small_pages[2:4]
    assert 'id="pager-page-3"' not in html and "cursor=" in _older(html)  # beyond them: by position
    response = admin_client.get(_older(html))
    rows = [int(n) for n in re.findall(r'class="col-order_number">\s*(?:<a [^>]*>)?(\d+)\s*<',
                                       response.get_data(as_text=True))]
    assert rows == small_pages[4:]
    assert 'id="pager-next" href' not in response.get_data(as_text=True)  # the oldest: no Older


def test_a_hand_typed_page_is_bounded_not_refused(admin_client, small_pages):
    rows, html = _page(admin_client, page=2)  # beyond the page links, still served by number
    assert rows == small_pages[4:] and "Narrow the list" not in html
    rows, _ = _page(admin_client, page=-3)
    assert rows == small_pages[:2]


def test_a_page_past_the_end_or_the_bound_says_so_and_shows_the_last_page(admin_client, small_pages):
    """Never an empty page without a word: the list's last page (its last 2 rows, by position)."""
    rows, html = _page(admin_client, page=3)  # 5 orders at 2 a page: page 4 has none
    assert rows == small_pages[3:] and "Page 4 is past the end of this list: showing its last page." in html
    assert "‹ Newer and Older › page on from any page." in html
    assert 'id="pager-next" href' not in html and 'id="pager-previous" href' in html
    rows, html = _page(admin_client, page=500000)  # past models.bounds.MAX_LIST_PAGE: no OFFSET run
    assert rows == small_pages[3:] and "Pages by number go up to 10,001: showing its last page." in html
    rows, html = _page(admin_client, page=3, flt0_status_equals="Active")  # nothing matches at all
    assert rows == [] and "past the end of this list: showing its first page." in html


@pytest.mark.parametrize("endpoint", ["clients", "services", "invoices"])
def test_other_lists_say_a_page_past_the_end_too(admin_client, app_ctx, endpoint):
    factories.make_order()
    db.session.commit()
    response = admin_client.get(f"/admin/{endpoint}/", query_string={"page": 700000})
    assert response.status_code == 200
    assert "Pages by number go up to 10,001: showing its first page." in response.get_data(as_text=True)


def test_range_filters_list_in_their_index_order_unless_the_admin_sorts(admin_client, session):
    """A date or total filter lists newest/highest first (its (column, id) index order)."""
    cheap, dear, middle = orders = [factories.make_order() for _ in range(3)]
    for order, total in zip(orders, ("5.00", "90.00", "40.00"), strict=True):
        order.amount = Decimal(total)
    session.commit()
    numbers = [order.order_number for order in (cheap, dear, middle)]
    rows, _ = _page(admin_client, flt0_total_at_least="1")
    assert rows == [dear.order_number, middle.order_number, cheap.order_number]
    rows, _ = _page(admin_client, flt0_total_at_least="1", sort=0)  # the admin sorts by ID, ascending
    assert rows == numbers


def test_pending_badge_counts_up_to_its_cap(admin_client, session, monkeypatch):
    """The menu badge's COUNT runs on every page view, so it stops at the cap and shows "N+"."""
    monkeypatch.setattr(orders, "PENDING_BADGE_CAP", 2)
    factories.make_order()
    factories.make_order()
    session.commit()
    assert re.search(r'id="pending-orders-badge"[^>]*>2<', _page(admin_client)[1])
    factories.make_order()
    session.commit()
    assert re.search(r'id="pending-orders-badge"[^>]*>2\+<', _page(admin_client)[1])


def test_status_group_filter_names_its_statuses(admin_client, session):
    """The Pending list compares status with the group's titles (index-friendly), not a subquery."""
    pending, active = factories.make_order(), factories.make_order(status="Active")
    session.commit()
    with recorded_statements(db.engine) as captured:
        rows, _ = _page(admin_client, flt0_status_group_equals="pending")
    statements = [statement for statement, _ in captured]
    assert rows == [pending.order_number] and active.order_number not in rows
    listing = [s for s in statements if "FROM orders" in s and "LIMIT" in s and "count(" not in s]
    assert listing and all("order_statuses" not in s for s in listing), listing


def test_a_filter_leading_by_a_joined_column_names_the_order_attribute_holding_it(app_ctx, monkeypatch):
    """Keyset paging reads a listed row's position from the attribute the filter declares beside its
    index_order (admin/filters.py), for any filter: not from a rule in the view."""
    view = next(view for admin in app_ctx.extensions["admin"] for view in admin._views
                if isinstance(view, OrderView))
    payment = next(i for i, flt in enumerate(view._filters) if isinstance(flt, PaymentStatusFilter))
    unpaid = view.list_sort(None, None, [(payment, "Payment status", "Unpaid")])
    assert (unpaid.column, unpaid.row_attribute) == (Invoice.id, "invoice_id")

    class ByClient(BaseSQLAFilter):  # a filter of tomorrow, listing by its client
        index_row_attribute = "client_id"

        def index_order(self, value):
            return Client.id

    monkeypatch.setattr(view, "_filters", [ByClient(Order.client_id, "Client")])
    by_client = view.list_sort(None, None, [(0, "Client", "1")])
    assert (by_client.column, by_client.row_attribute, by_client.descending) == (Client.id, "client_id", True)
