"""Issue 13, "Friendlier details": the rendered pages, on SQLite and PostgreSQL.

Money with the default currency, one date-time format in the admin's time zone, gateways by
display name, the readable timeline, list titles, row-action tooltips, bulk actions under the
grid, confirmations, unavailable actions with their reason, the invoice's link to its order and
empty states. (Affiliates and the search suggestions: tests/test_affiliates_and_suggestions.py.)
"""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

from actions.transitions import TRANSITIONS
from extensions import db
from models import AdminUser, InvoiceStatus, Order, OrderStatus, default_currency
from models.currency import Currency, CurrencyFormat
from tests import factories

LIST = "/admin/orders/"


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def order_page(client, order) -> str:
    return page(client, f"{LIST}details/?id={order.id}")


def test_currency_formats_code_prefix_and_suffix():
    usd = Currency(code="USD", prefix="$", suffix=" USD", format=CurrencyFormat.COMMAS)
    assert usd.format_amount(Decimal("1234.5")) == "$1,234.50 USD"
    assert usd.format_amount(Decimal("-10")) == "-$10.00 USD"
    assert usd.format_amount(None) == ""
    # no prefix or suffix: the code
    assert Currency(code="EUR", prefix="", suffix="", format=2).format_amount(Decimal("0.5")) == "0.50 EUR"
    assert Currency(code="GBP", prefix="£", suffix="", format=2).format_amount(
        Decimal("99999999999999.99")) == "£99,999,999,999,999.99"
    # WHMCS's four formats: 1234.56, 1,234.56, 1.234,56, 1,234
    shown = [Currency(code="EUR", prefix="", suffix=" €", format=f).format_amount(Decimal("1234.56"))
             for f in CurrencyFormat]
    assert shown == ["1234.56 €", "1,234.56 €", "1.234,56 €", "1,235 €"]


def test_money_shows_the_default_currency_in_the_grid_and_on_the_page(admin_client, session):
    order = factories.make_order()  # one service of 15.00
    session.commit()
    assert "$15.00 USD" in page(admin_client, LIST)
    html = order_page(admin_client, order)
    summary = html[html.index('id="order-summary"'):html.index("</table>", html.index('id="order-summary"'))]
    assert "<th>Total</th><td>$15.00 USD</td>" in summary
    assert re.search(r'id="service-\d+".*?\$15\.00 USD', html, re.S)

    # The currency row is the one source: a euro business writes its amounts its way.
    default = default_currency(session)
    default.code, default.prefix, default.suffix = "EUR", "", " €"
    session.commit()
    assert "15.00 €" in page(admin_client, LIST) and "$15.00" not in page(admin_client, LIST)
    invoice_html = page(admin_client, f"/admin/invoices/details/?id={order.invoice_id}")
    assert "15.00 €" in invoice_html


def test_times_show_in_the_admins_time_zone_without_fractions(admin_client, full_admin, session):
    order = factories.make_order(date=datetime(2026, 7, 1, 10, 30, 15, 123456, tzinfo=UTC))
    session.commit()
    html = order_page(admin_client, order)
    assert "2026-07-01 10:30:15 UTC" in html
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", html), "no fractions of a second anywhere"

    # The admin's own profile setting: the same moment in Paris (summer time, UTC+2).
    response = admin_client.post("/admin/profile/", data={"time_zone": "Europe/Paris"}, follow_redirects=True)
    assert "Times are now shown in Europe/Paris." in response.get_data(as_text=True)
    assert db.session.get(AdminUser, full_admin.id).time_zone == "Europe/Paris"
    assert "2026-07-01 12:30:15 CEST" in order_page(admin_client, order)
    grid = page(admin_client, LIST)
    assert "2026-07-01 12:30:15 CEST" in grid and not re.search(r"\d\d:\d\d:\d\d\.\d", grid)


def test_an_unknown_time_zone_is_refused_and_nothing_changes(admin_client, full_admin, session):
    response = admin_client.post("/admin/profile/", data={"time_zone": "Mars/Olympus"}, follow_redirects=True)
    assert "is not a time zone name" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AdminUser, full_admin.id).time_zone == "UTC"
    assert 'id="profile-form"' in page(admin_client, "/admin/profile/")


def test_the_profile_needs_a_login(anon_client):
    assert anon_client.get("/admin/profile/").status_code == 302


def test_gateways_show_by_display_name(admin_client, session):
    order = factories.make_order(paid=True)
    session.commit()
    grid = page(admin_client, LIST)
    row = grid[grid.index(f"details/?id={order.id}"):]
    row = row[:row.index("</tr>")]
    assert "Bank Transfer" in row and "banktransfer" not in row
    assert '<span id="order-payment-method">Bank Transfer</span>' in order_page(admin_client, order)
    invoice_html = page(admin_client, f"/admin/invoices/details/?id={order.invoice_id}")
    transactions = invoice_html[invoice_html.index('id="invoice-transactions"'):]
    assert "<td>Bank Transfer</td>" in transactions


def test_the_timeline_reads_as_sentences_with_before_and_after(admin_client, session):
    order = factories.make_order()
    session.commit()
    response = admin_client.post(f"{LIST}order/cancel/", follow_redirects=True, data={
        "id": order.id, "expected_version": order.version, "url": f"{LIST}details/?id={order.id}"})
    html = response.get_data(as_text=True)
    timeline = html[html.index('id="timeline"'):]
    assert '<span class="event-sentence">Order cancelled.</span>' in timeline
    assert "<li>Order: Pending → Cancelled</li>" in timeline
    assert re.search(r"<li>Service #\d+: Pending → Cancelled</li>", timeline)
    assert re.search(r"<li>Invoice #\d+: Unpaid → Cancelled</li>", timeline)
    # The JSON is still there, folded.
    assert "<details class=\"small\"><summary>Details</summary><pre" in timeline
    assert "&#34;services&#34;" in timeline or '"services"' in timeline


def test_list_titles_name_the_filter_that_is_on(admin_client, session):
    factories.make_order()
    session.commit()

    def title(query=""):
        html = page(admin_client, LIST + query)
        return re.search(r'<h4 id="list-title">(.*?)</h4>', html).group(1), re.search(
            r"<title>(.*?)</title>", html, re.S).group(1).strip()

    assert title() == ("All orders", "All orders - Orderdesk")
    assert title("?flt0_status_group_equals=pending")[0] == "Pending orders"
    assert title("?flt0_status_group_equals=cancelled")[0] == "Cancelled orders"
    assert title("?flt0_status_equals=Fraud")[0] == "Fraud orders"
    assert title("?flt0_ip_address_equals=203.0.113.7")[0].startswith("Orders matching ")
    assert title("?search=203.0.113.7")[0] == "Orders matching search “203.0.113.7”"
    assert title("?flt0_nonsense=1")[0] == "Orders: a filter could not be applied"
    assert re.search(r'<h4 id="list-title">All clients</h4>', page(admin_client, "/admin/clients/"))


def test_row_actions_have_tooltips_and_bulk_actions_are_also_under_the_grid(admin_client, session):
    factories.make_order()
    session.commit()
    html = page(admin_client, LIST)
    table = html[html.index("model-list"):html.index("</table>", html.index("model-list"))]
    cells = re.findall(r'<td class="list-buttons-column">(.*?)</td>', table, re.S)
    assert cells
    for cell in cells:  # every icon-only row action has a tooltip (title) and a label for readers
        for button in re.findall(r"<(?:button|a)\b[^>]*>", cell):
            assert 'title="' in button, button
    assert 'title="Accept Order"' in table and 'aria-label="Cancel Order"' in table
    bottom = html[html.index('id="bulk-actions-bottom"'):]
    bottom = bottom[:bottom.index('id="action_form"')]
    assert bottom.index("With selected") < bottom.index("dropdown-menu")
    for row in TRANSITIONS.values():
        if row.bulk:
            assert f'data-model-action="bulk_{row.action}"' in bottom


def test_every_order_action_and_bulk_change_asks_first(admin_client, session):
    for row in TRANSITIONS.values():
        assert row.confirm, row.action
        assert not row.bulk or row.bulk_confirm, row.action
    factories.make_order()
    session.commit()
    html = page(admin_client, LIST)
    confirmations = json.loads(re.search(r'id="actions-confirmation-data" class="d-none">(.*?)</div>',
                                         html).group(1))
    for row in TRANSITIONS.values():
        if row.bulk:
            assert confirmations[f"bulk_{row.action}"] == row.bulk_confirm

    order = factories.make_order()
    session.commit()
    details = order_page(admin_client, order)
    accept = re.search(r'<button[^>]*data-verb="accept"[^>]*>', details).group(0)
    assert f'data-confirm="Accept order #{order.order_number}?"' in accept
    status = re.search(r'<button[^>]*id="change-status"[^>]*>', details).group(0)
    assert f'data-confirm="Change the status of order #{order.order_number}?"' in status
    # The bulk status page asks again, naming the status chosen.
    chosen = admin_client.post(f"{LIST}action/", data={"action": "bulk_change_status", "rowid": [order.id],
                                                       "url": LIST}).get_data(as_text=True)
    assert "Set the status of 1 selected order(s) to " in chosen


def test_an_unavailable_action_says_why_where_its_button_would_be(admin_client, session):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.PAID, paid=True)
    session.commit()
    html = order_page(admin_client, order)
    actions = html[html.index('id="order-actions"'):html.index("<h5>Side effects</h5>")]
    delete = re.search(r'<span class="unavailable-action[^"]*" data-unavailable="delete".*?</small>', actions,
                       re.S).group(0)
    assert 'title="Delete Order: The invoice has payments that are not refunded' in delete
    assert "disabled" in delete
    assert 'data-verb="delete"' not in actions  # no live Delete button
    accept = re.search(r'data-unavailable="accept".*?</small>', actions, re.S).group(0)
    assert "Only pending orders can be accepted; this order is Cancelled" in accept


def test_the_invoice_page_links_back_to_its_order(admin_client, session):
    order = factories.make_order()
    session.commit()
    html = page(admin_client, f"/admin/invoices/details/?id={order.invoice_id}")
    assert (f'<p id="invoice-order">Invoice of <a href="/admin/orders/details/?id={order.id}">'
            f"order #{order.order_number}</a></p>") in html


def test_empty_lists_say_what_to_do_next(admin_client, session):
    html = page(admin_client, LIST)
    assert '<span id="empty-list">No orders yet.</span>' in html
    assert 'add a new order</a>' in html and 'href="/admin/add-order/"' in html
    factories.make_order()
    session.commit()
    filtered = page(admin_client, LIST + "?flt0_status_equals=Fraud")
    assert "No orders match." in filtered and 'href="/admin/orders/" id="clear-filters"' in filtered
    assert db.session.query(Order).count() == 1
