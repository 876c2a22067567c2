"""The Add New Order page, its live total and client search, and the client summary page."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import BillingCycle, ClientStatus, Invoice, Order, OrderSource
from tests import factories


@pytest.fixture
def shop(session):
    product = factories.make_product(
        name="Starter",
        prices={BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "0.00")},
    )
    factories.make_tld(".com", register="12.00", addons=("1.00", "0.00", "0.00"))
    client = factories.make_client(first_name="Grace", last_name="Hopper", email="grace@example.com")
    session.commit()
    return product, client


def order_form(product, client, **extra):
    data = {
        "client_id": str(client.id),
        "payment_method": "banktransfer",
        "status": "Pending",
        "generate_invoice": "1",
        "products-0-product_id": str(product.id),
        "products-0-billing_cycle": "Monthly",
        "products-0-quantity": "2",
        "products-0-domain": "",
        "products-1-product_id": "",
        "domains-0-type": "Register",
        "domains-0-name": "example.com",
        "domains-0-period_years": "1",
        "domains-0-dns_management": "1",
    }
    data.update(extra)
    return data


def order_count(session) -> int:
    return session.scalar(select(func.count(Order.id)))


def test_page_shows_the_form_and_preselects_the_client(admin_client, shop):
    product, client = shop
    page = admin_client.get(f"/admin/add-order/?client_id={client.id}").get_data(as_text=True)
    assert f'<option value="{client.id}" selected>Grace Hopper &lt;grace@example.com&gt;</option>' in page
    for text in (
        "Payment Method",
        "Promotion Code",
        "Order Status",
        "Order Confirmation",
        "Generate Invoice",
        "Send Invoice Email",
        "Add Another Product",
        "Add Another Domain",
        "Starter",
        'name="csrf_token"',
    ):
        assert text in page


def test_submitting_places_the_order_and_opens_it(admin_client, session, shop, full_admin):
    product, client = shop
    response = admin_client.post("/admin/add-order/", data=order_form(product, client))
    order = session.scalars(select(Order)).one()
    assert response.status_code == 302 and response.location.endswith(f"/admin/orders/details/?id={order.id}")
    assert (order.client_id, order.placed_by_admin_id, order.source) == (
        client.id,
        full_admin.id,
        OrderSource.ADMIN,
    )
    assert order.ip_address == "127.0.0.1"
    assert order.amount == order.invoice.total == Decimal("43.00")  # 2 x (10 + 5) + 12 + 1 DNS
    assert len(order.services) == 2 and order.domains[0].dns_management


def test_errors_are_shown_next_to_the_fields_and_nothing_is_written(admin_client, session, shop):
    product, client = shop
    data = order_form(
        product,
        client,
        **{
            "products-0-billing_cycle": "Triennially",
            "products-0-quantity": "x",
            "domains-0-name": "bad_name.com",
            "promo_code": "NOPE",
        },
    )
    response = admin_client.post("/admin/add-order/", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("products-0-billing_cycle", "products-0-quantity", "domains-0-name", "promo_code"):
        assert f'data-error-for="{field}"' in page, field
    assert "Starter is not offered with the Triennially billing cycle." in page
    assert 'value="bad_name.com"' in page  # what the admin typed is kept
    assert order_count(session) == 0 and session.scalar(select(func.count(Invoice.id))) == 0


def test_error_on_a_later_row_points_at_that_row(admin_client, session, shop):
    product, client = shop
    data = order_form(
        product,
        client,
        **{
            "products-0-product_id": "",
            "products-3-product_id": str(product.id),
            "products-3-billing_cycle": "Biennially",
        },
    )
    page = admin_client.post("/admin/add-order/", data=data).get_data(as_text=True)
    assert 'data-error-for="products-3-billing_cycle"' in page


def test_closed_client_is_refused(admin_client, session, shop):
    product, client = shop
    client.status = ClientStatus.CLOSED
    session.commit()
    page = admin_client.post("/admin/add-order/", data=order_form(product, client)).get_data(as_text=True)
    assert "Unable to add order when client status is Closed" in page
    assert order_count(session) == 0


def test_live_total_is_priced_by_the_server(admin_client, session, shop):
    product, client = shop
    factories.make_promotion(code="HALF", value="50.00")
    session.commit()
    data = order_form(product, client, promo_code="HALF")
    preview = admin_client.post("/admin/add-order/preview/", data=data).get_json()
    assert (preview["subtotal"], preview["discount"], preview["total"]) == ("43.00", "21.50", "21.50")
    assert preview["errors"] == {} and len(preview["lines"]) == 3
    assert order_count(session) == 0
    bad = admin_client.post(
        "/admin/add-order/preview/", data={**data, "products-0-billing_cycle": "Triennially"}
    )
    assert "products-0-billing_cycle" in bad.get_json()["errors"]


@pytest.mark.parametrize("field, value", [
    ("products-0-billing_cycle", "Triennially"), ("products-0-quantity", "1000000000000000"),
    ("products-0-quantity", "abc"), ("products-0-price_override", "1e20"),
    ("products-0-price_override", "12.345"), ("products-0-product_id", "99999999999999999999"),
    ("client_id", "2147483648"),
])
def test_live_total_never_leaves_a_row_out_without_saying_so(admin_client, session, shop, field, value):
    product, client = shop
    session.commit()
    answer = admin_client.post("/admin/add-order/preview/", data={
        **order_form(product, client), field: value, "preview_seq": "7"}).get_json()
    assert answer["complete"] is False and answer["total"] is None and answer["subtotal"] is None
    assert answer["errors"][field]  # said next to the field
    assert answer["seq"] == 7  # echoed, so the page can drop an answer to an older request
    placed = admin_client.post("/admin/add-order/", data={**order_form(product, client), field: value})
    assert placed.status_code == 400 and order_count(session) == 0


def test_client_search(admin_client, session, shop):
    _, client = shop
    factories.make_client(first_name="Alan", last_name="Turing", email="alan@example.com")
    factories.make_client(first_name="Gone", last_name="Hopping", status=ClientStatus.CLOSED)
    session.commit()
    results = admin_client.get("/admin/add-order/clients/?q=hop").get_json()["results"]
    assert results == [{"id": client.id, "text": "Grace Hopper <grace@example.com>"}]


def test_needs_the_add_new_order_permission(client_as, support_admin, session, shop):
    product, client = shop
    support = client_as(support_admin)
    assert support.get("/admin/add-order/").status_code == 403
    assert support.post("/admin/add-order/", data=order_form(product, client)).status_code == 403
    assert support.post("/admin/add-order/preview/", data=order_form(product, client)).status_code == 403
    assert order_count(session) == 0


def test_anonymous_users_are_sent_to_login(anon_client):
    response = anon_client.get("/admin/add-order/")
    assert response.status_code == 302 and "/admin/login/" in response.location


def test_csrf_token_is_required(app_ctx, admin_client, session, shop):
    product, client = shop
    app_ctx.config["WTF_CSRF_ENABLED"] = True
    try:
        response = admin_client.post("/admin/add-order/", data=order_form(product, client))
    finally:
        app_ctx.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert order_count(session) == 0


def test_client_summary_lists_everything_and_links_to_add_new_order(admin_client, session, shop):
    product, client = shop
    order = factories.make_order(client=client, product=product, domains=["Active"])
    session.commit()
    page = admin_client.get(f"/admin/client-summary/{client.id}/").get_data(as_text=True)
    assert f'id="add-new-order" href="/admin/add-order/?client_id={client.id}"' in page
    for text in (
        str(order.order_number),
        order.services[0].domain,
        order.domains[0].name,
        f"<td>{order.invoice_id}</td>",
        "grace@example.com",
        "Email Log",
        "Notes",
    ):
        assert text in page, text
    assert admin_client.get("/admin/client-summary/999999/").status_code == 404


def test_client_summary_hides_add_new_order_without_the_permission(client_as, support_admin, shop):
    _, client = shop
    page = client_as(support_admin).get(f"/admin/client-summary/{client.id}/").get_data(as_text=True)
    assert "Grace Hopper" in page and 'id="add-new-order"' not in page
