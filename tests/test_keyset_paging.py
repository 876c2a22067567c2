"""Keyset paging (admin/keyset.py): walking Older from the first page to the last, and Newer back,
shows every row of a filtered list exactly once and in order, for every sortable column in both
directions, ties in the sort column and NULLs included; a page reached by position runs as many
statements as the first page; a cursor that cannot be used is said and the first page shown, with
the URL's filter kept; bulk "all matching" and saved views ignore the position."""

import html as html_lib
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from actions.saved_views import view_query
from admin import list_cursor
from admin.orders import OrderView
from extensions import db
from models import Client, Order, Service
from tests import factories
from tests.sql_support import recorded_statements

PAGE = 3
IP = "198.51.100.4"


def _view(app, endpoint):
    return next(view for admin in app.extensions["admin"] for view in admin._views
                if getattr(view, "endpoint", None) == endpoint)


@pytest.fixture
def short_pages(app_ctx, monkeypatch):
    """Pages of 3 and a single numbered page on the lists under test: the walk goes by position."""
    for endpoint in ("orders", "services", "clients"):
        monkeypatch.setattr(_view(app_ctx, endpoint), "page_size", PAGE)
        monkeypatch.setattr(_view(app_ctx, endpoint), "cheap_pages", 1)


@pytest.fixture
def tied_orders(session, short_pages):
    """14 orders on one IP (the filter) with ties in every sortable column but id and order #, and
    4 on another IP that the filter leaves out."""
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    client = factories.make_client()
    orders = []
    for i in range(18):
        order = factories.make_order(client=client, status=("Pending", "Active", "Fraud")[i % 3])
        order.ip_address = IP if i % 4 != 3 else "192.0.2.9"
        order.amount = Decimal(("5.00", "12.50", "5.00", "80.00")[i % 4])
        order.date = when - timedelta(days=i // 3)  # three orders a day
        orders.append(order)
    session.commit()
    return [order for order in orders if order.ip_address == IP]


def _ids(response) -> list[int]:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [int(i) for i in re.findall(r'class="col-id">\s*(?:<a [^>]*>)?(\d+)\s*<', html)]


def _link(response, link_id: str) -> str | None:
    match = re.search(rf'<a class="page-link" id="{link_id}" href="([^"]+)"', response.get_data(as_text=True))
    return html_lib.unescape(match.group(1)) if match else None


def _walk(web, url: str, query: dict, link_id: str = "pager-next") -> tuple[list[list[int]], object]:
    """Every page from `url` following `link_id` until it is disabled: ([ids per page], last response)."""
    response = web.get(url, query_string=query or None)
    pages = [_ids(response)]
    while (following := _link(response, link_id)) is not None:
        response = web.get(following)
        pages.append(_ids(response))
        assert len(pages) < 50, "the walk does not end"
    return pages, response


def _expected(rows, attribute: str, descending: bool) -> list[int]:
    """The rows in the list's order: the column, then id, both descending or ascending; NULLs where
    the database puts them (PostgreSQL: larger than any value, SQLite: smaller)."""
    nulls_large = db.engine.dialect.name == "postgresql"

    def key(row):
        value = getattr(row, attribute)
        return (value is None) == nulls_large, value if value is not None else 0, row.id

    return [row.id for row in sorted(rows, key=key, reverse=descending)]


def _sort_arg(app, endpoint: str, column: str) -> int:
    return [name for name, _ in _view(app, endpoint)._list_columns].index(column)


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("column", OrderView.column_sortable_list)
def test_older_then_newer_walk_every_filtered_order_once_in_order(admin_client, app_ctx, tied_orders,
                                                                   column, descending):
    query = {"flt0_ip_address_equals": IP, "sort": _sort_arg(app_ctx, "orders", column)}
    if descending:
        query["desc"] = 1
    expected = _expected(tied_orders, column, descending)

    pages, last = _walk(admin_client, "/admin/orders/", query)
    assert [i for page in pages for i in page] == expected
    assert all(len(page) == PAGE for page in pages[:-1]) and len(pages) == -(-len(expected) // PAGE)

    back = [_ids(last)]
    response = last
    while (previous := _link(response, "pager-previous")) is not None:
        response = admin_client.get(previous)
        back.append(_ids(response))
    assert back[::-1] == pages  # Newer retraces the same pages


def test_search_and_a_range_filters_own_order_walk_too(admin_client, tied_orders):
    """The search box, and a total filter that lists highest first (its index order) when no
    column is chosen."""
    pages, _ = _walk(admin_client, "/admin/orders/", {"search": IP})
    assert [i for page in pages for i in page] == _expected(tied_orders, "id", True)
    query = {"flt0_ip_address_equals": IP, "flt1_total_at_least": "1"}
    pages, _ = _walk(admin_client, "/admin/orders/", query)
    assert [i for page in pages for i in page] == _expected(tied_orders, "amount", True)


def test_the_oldest_page_and_newer_from_it(admin_client, tied_orders):
    first = admin_client.get("/admin/orders/", query_string={"flt0_ip_address_equals": IP})
    oldest = _link(first, "pager-last")
    assert "cursor=last" in oldest and "flt0_ip_address_equals" in oldest
    pages, _ = _walk(admin_client, oldest, {}, link_id="pager-previous")
    expected = _expected(tied_orders, "id", True)
    assert pages[0] == expected[-PAGE:] and _link(admin_client.get(oldest), "pager-next") is None
    assert [i for page in pages[::-1] for i in page] == expected


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
def test_a_sort_column_with_nulls_and_ties(admin_client, app_ctx, session, short_pages, descending):
    """Services by next due date: some none, some on the same day."""
    for _ in range(4):
        factories.make_order(services=["Pending"] * 3)
    services = session.query(Service).order_by(Service.id).all()
    for i, service in enumerate(services):
        service.next_due_date = None if i % 3 == 0 else date(2026, 5, 1) + timedelta(days=i % 2)
    session.commit()
    query = {"sort": _sort_arg(app_ctx, "services", "next_due_date")}
    if descending:
        query["desc"] = 1
    pages, _ = _walk(admin_client, "/admin/services/", query)
    assert [i for page in pages for i in page] == _expected(services, "next_due_date", descending)


def test_a_page_by_position_runs_the_statements_of_the_first_page(admin_client, app_ctx, tied_orders):
    query = {"flt0_ip_address_equals": IP, "sort": _sort_arg(app_ctx, "orders", "amount"), "desc": 1}
    pages, _ = _walk(admin_client, "/admin/orders/", query)
    deep = _link(pages and admin_client.get("/admin/orders/", query_string=query), "pager-next")
    oldest = _link(admin_client.get("/admin/orders/", query_string=query), "pager-last")
    for url in (deep, oldest):
        with recorded_statements(db.engine) as first:
            admin_client.get("/admin/orders/", query_string=query)
        with recorded_statements(db.engine) as by_position:
            response = admin_client.get(url)
        assert _ids(response) in (pages[1], _expected(tied_orders, "amount", True)[-PAGE:])
        assert len(by_position) == len(first), ([s for s, _ in first], [s for s, _ in by_position])


def _signed(payload) -> str:
    return list_cursor._serializer().dumps(payload)


def _older_cursor(web, query) -> str:
    link = _link(web.get("/admin/orders/", query_string=query), "pager-next")
    return re.search(r"cursor=([^&]+)", link).group(1)


@pytest.mark.parametrize("name, cursor, message", [
    ("garbage", lambda valid: "not-a-cursor", "not one this list made"),
    ("tampered", lambda valid: valid[:-3] + ("AAA" if not valid.endswith("AAA") else "BBB"),
     "not one this list made"),
    ("huge", lambda valid: "x" * 5000, "too long"),
    ("another list", lambda valid: _signed(["clients", "id", 1, "after", "3", "3"]), "another list"),
    ("another sort", lambda valid: _signed(["orders", "amount", 1, "after", "5.00", "3"]), "another sort"),
    ("not sortable", lambda valid: _signed(["orders", "client_id", 1, "after", "1", "3"]), "another sort"),
    ("huge id", lambda valid: _signed(["orders", "id", 1, "after", "9" * 40, "9" * 40]), "Its row id"),
    ("id beyond INTEGER", lambda valid: _signed(["orders", "id", 1, "after", "2147483648", "2147483648"]),
     "Its row id"),
    ("no direction", lambda valid: _signed(["orders", "id", 1, "sideways", "3", "3"]), "no direction"),
    ("wrong shape", lambda valid: _signed({"id": 3}), "not one this list made"),
    ("wrong type", lambda valid: _signed(["orders", "id", 1, "after", ["3"], {"x": 1}]), "Its row id"),
])
def test_a_cursor_that_cannot_be_used_says_so_and_shows_the_first_page_of_the_same_filter(
        admin_client, tied_orders, name, cursor, message):
    query = {"flt0_ip_address_equals": IP}
    valid = _older_cursor(admin_client, query)
    response = admin_client.get("/admin/orders/", query_string={**query, "cursor": cursor(valid)})
    text = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert message in text and "Showing the first page." in text
    assert _ids(response) == _expected(tied_orders, "id", True)[:PAGE]  # the filter kept, first page


def test_a_cursor_with_nul_is_refused_like_any_address_parameter(admin_client, tied_orders):
    valid = _older_cursor(admin_client, {"flt0_ip_address_equals": IP})
    response = admin_client.get("/admin/orders/", query_string={"cursor": valid + "\x00"})
    assert response.status_code == 400 and "contains NUL" in response.get_data(as_text=True)


def test_a_wrong_value_for_the_sort_column_is_refused(admin_client, app_ctx, tied_orders):
    query = {"flt0_ip_address_equals": IP, "sort": _sort_arg(app_ctx, "orders", "amount")}
    for value in ("abc", "1e400", "NaN", "12.345", "9" * 30, None):
        cursor = _signed(["orders", "amount", 0, "after", value, "3"])
        response = admin_client.get("/admin/orders/", query_string={**query, "cursor": cursor})
        assert "Its sort value" in html_lib.unescape(response.get_data(as_text=True)), value
        assert _ids(response) == _expected(tied_orders, "amount", False)[:PAGE]


def test_a_cursor_from_a_deleted_row_says_so(admin_client, session, short_pages):
    clients = [factories.make_client() for _ in range(7)]
    session.commit()
    first = admin_client.get("/admin/clients/")
    older = _link(first, "pager-next")
    assert _ids(admin_client.get(older)) == [c.id for c in clients][::-1][PAGE:2 * PAGE]
    deleted = _ids(first)[-1]  # Older continues from this client
    session.delete(session.get(Client, deleted))
    session.commit()
    response = admin_client.get(older)
    assert "no longer exists" in html_lib.unescape(response.get_data(as_text=True))
    remaining = [c.id for c in clients if c.id != deleted][::-1]
    assert _ids(response) == remaining[:PAGE]


def test_select_all_matching_ignores_the_page_it_is_asked_on(admin_client, tied_orders):
    query = {"flt0_ip_address_equals": IP}
    cursor = _older_cursor(admin_client, query)
    response = admin_client.get("/admin/orders/", query_string={**query, "cursor": cursor, "all_matching": 1})
    count = re.search(r'id="matching-count">(\d+)<', response.get_data(as_text=True)).group(1)
    assert int(count) == len(tied_orders) == db.session.query(Order).filter(Order.ip_address == IP).count()


def test_a_saved_view_does_not_keep_the_position(admin_client, tied_orders):
    cursor = _older_cursor(admin_client, {"flt0_ip_address_equals": IP})
    assert view_query(f"flt0_ip_address_equals={IP}&cursor={cursor}&page=2") == f"flt0_ip_address_equals={IP}"


def test_row_links_come_back_to_the_page_reached_by_position(admin_client, tied_orders):
    cursor = _older_cursor(admin_client, {"flt0_ip_address_equals": IP})
    query = {"flt0_ip_address_equals": IP, "cursor": cursor}
    response = admin_client.get("/admin/orders/", query_string=query)
    back = re.findall(r'name="url" value="([^"]+)"|[?&]url=([^&"]+)', response.get_data(as_text=True))
    back = [a or b for a, b in back]
    assert back and all("cursor" in html_lib.unescape(url) for url in back)


def test_a_status_group_and_a_payment_status_walk_too(admin_client, session, tied_orders):
    """A status group of two statuses (read a branch per status: filters.newest_of_each_status) in
    id order, and Unpaid, which lists by the invoice's id newest first (the payment status filter's
    index order) - here made unlike the orders' own order."""
    from sqlalchemy import select

    from admin.filters import status_group_titles
    from models import Invoice, OrderStatusDefinition

    fraud = session.scalar(select(OrderStatusDefinition).where(OrderStatusDefinition.title == "Fraud"))
    fraud.include_in_cancelled = True  # the team counts Fraud as cancelled: two statuses in the group
    session.flush()
    titles = status_group_titles("cancelled")
    assert len(titles) >= 2
    for n, order in enumerate(tied_orders):
        order.status = titles[n % 2] if n % 3 else "Active"
    invoices = [session.get(Invoice, order.invoice_id) for order in tied_orders]
    for order, invoice in zip(tied_orders, invoices[::-1], strict=True):  # newest order, oldest invoice
        order.invoice_id = invoice.id
    for invoice in invoices[1::3]:
        invoice.status = "Paid"
    session.commit()

    group = {"flt0_ip_address_equals": IP, "flt1_status_group_equals": "cancelled"}
    pages, _ = _walk(admin_client, "/admin/orders/", group)
    in_group = [order for order in tied_orders if order.status in titles]
    assert [i for page in pages for i in page] == _expected(in_group, "id", True)

    unpaid = {"flt0_ip_address_equals": IP, "flt1_payment_status_equals": "Unpaid"}
    pages, last = _walk(admin_client, "/admin/orders/", unpaid)
    paid = {invoice.id for invoice in invoices[1::3]}
    open_orders = [order for order in tied_orders if order.invoice_id not in paid]
    assert [i for page in pages for i in page] == _expected(open_orders, "invoice_id", True)
    back = [_ids(last)]
    while (previous := _link(last, "pager-previous")) is not None:
        last = admin_client.get(previous)
        back.append(_ids(last))
    assert back[::-1] == pages


def test_a_product_walks_each_of_its_orders_once(admin_client, session, tied_orders):
    """The product filter (on SQLite a join of the product's services, listed by their order id):
    an order with two services of the product is listed once, one without it not at all; Older,
    Newer and the oldest page, a second product filter and a sort by total agree."""
    vps, other = factories.make_product(name="VPS"), factories.make_product(name="Other")
    for n, order in enumerate(tied_orders):
        order.services[0].product = vps if n % 3 else other
        if n % 2:  # a second service of the product
            factories.make_order(client=order.client).services[0].order = order
            order.services[-1].product = vps
    session.commit()
    having = [order for order in tied_orders if any(s.product_id == vps.id for s in order.services)]
    query = {"flt0_ip_address_equals": IP, "flt1_product_equals": vps.id}
    pages, last = _walk(admin_client, "/admin/orders/", query)
    assert [i for page in pages for i in page] == _expected(having, "id", True)
    back = [_ids(last)]
    while (previous := _link(last, "pager-previous")) is not None:
        last = admin_client.get(previous)
        back.append(_ids(last))
    assert back[::-1] == pages
    oldest = _link(admin_client.get("/admin/orders/", query_string=query), "pager-last")
    assert _ids(admin_client.get(oldest)) == _expected(having, "id", True)[-PAGE:]

    both = {**query, "flt2_product_equals": other.id}
    pages, _ = _walk(admin_client, "/admin/orders/", both)
    expected = [order for order in having if any(s.product_id == other.id for s in order.services)]
    assert [i for page in pages for i in page] == _expected(expected, "id", True) != []
    by_total = {**query, "sort": _sort_arg(admin_client.application, "orders", "amount")}
    pages, _ = _walk(admin_client, "/admin/orders/", by_total)
    assert [i for page in pages for i in page] == _expected(having, "amount", False)
