"""Amend order, the admin face (admin/amend_order.py): the page from the order page, its POST with
CSRF (the shipped default), the permission, hostile input answered with a message and nothing
changed (never a 500), and the diff on the order's timeline."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import Actor
from actions.amend_cart import current_amendment
from actions.cart import Cart, CartProduct
from actions.place import place_order
from admin.amend_order import amendment_form
from extensions import db
from models import BillingCycle, Invoice, Order, Transaction, utcnow
from tests import factories
from tests.test_amend_order import state
from tests.test_csrf_default import shipped_app


@pytest.fixture
def placed(session, full_admin):
    """Starter monthly: 10.00 + 5.00 setup = 15.00; Pro (20.00 monthly) is for sale too."""
    starter = factories.make_product(name="Starter", prices={
        BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "5.00")})
    pro = factories.make_product(name="Pro", prices={BillingCycle.MONTHLY: ("20.00", "0.00")})
    cart = Cart(client_id=factories.make_client().id, payment_method="banktransfer",
                products=[CartProduct(starter.id, BillingCycle.MONTHLY)])
    order = place_order(session, cart, Actor.admin(full_admin))
    session.commit()
    return order, starter, pro


def posted(order, **changes) -> dict:
    """The page's form as it would be posted, with `changes` on top."""
    form = amendment_form(current_amendment(db.session, order))
    data = {key: form.getlist(key) for key in form}
    data["expected_version"] = str(order.version)
    data.update(changes)
    return data


def test_amend_through_the_page_with_csrf(app_ctx, database_url, placed, full_admin):
    order, _, pro = placed
    order_id = order.id
    data = posted(order, **{"products-0-billing_cycle": "Annually", "products-1-product_id": str(pro.id),
                            "products-1-billing_cycle": "Monthly", "products-1-quantity": "1"})
    app = shipped_app(database_url)
    with app.app_context():
        admin = app.test_client(user=full_admin)
        details = admin.get(f"/admin/orders/details/?id={order_id}").get_data(as_text=True)
        assert f'href="/admin/amend-order/{order_id}/"' in details

        page = admin.get(f"/admin/amend-order/{order_id}/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'name="products-0-service_id"' in html and 'name="expected_version"' in html
        before = state()
        assert admin.post(f"/admin/amend-order/{order_id}/", data=data).status_code == 400  # no token
        assert state() == before

        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        done = admin.post(f"/admin/amend-order/{order_id}/", data={**data, "csrf_token": token})
        assert done.status_code == 302
        assert done.headers["Location"].endswith(f"/admin/orders/details/?id={order_id}")
        db.session.expire_all()
        amended = db.session.get(Order, order_id)
        # By hand: Starter annually 100.00 + 5.00 setup, Pro monthly 20.00 = 125.00.
        assert [(i.description, i.amount) for i in amended.invoice.items] == [
            ("Shared Hosting - Starter (Annually)", Decimal("100.00")),
            ("Setup Fee: Shared Hosting - Starter", Decimal("5.00")),
            ("Shared Hosting - Pro (Monthly)", Decimal("20.00"))]
        assert amended.amount == amended.invoice.total == Decimal("125.00")

        timeline = admin.get(f"/admin/orders/details/?id={order_id}").get_data(as_text=True)
        assert "Order amended: 1 invoice line(s) removed, 2 added." in timeline
        assert "Total: $15.00 USD → $125.00 USD" in timeline
        db.session.remove()


def test_the_permission(client_as, placed, support_admin, sales_admin):
    order, _, _ = placed
    assert client_as(support_admin).get(f"/admin/amend-order/{order.id}/").status_code == 403
    refused = client_as(support_admin).post(f"/admin/amend-order/{order.id}/", data=posted(order))
    assert refused.status_code == 403
    assert client_as(sales_admin).get(f"/admin/amend-order/{order.id}/").status_code == 200


def test_a_paid_order_is_not_offered_and_refused(session, admin_client, placed):
    order, _, _ = placed
    data = posted(order, **{"products-0-billing_cycle": "Annually"})
    session.add(Transaction(client_id=order.client_id, invoice_id=order.invoice_id, gateway="banktransfer",
                            amount_in=Decimal("1.00"), transaction_id="t-1", date=utcnow()))
    session.commit()
    details = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="amend-order"' not in details
    assert admin_client.get(f"/admin/amend-order/{order.id}/").status_code == 302
    before = state()
    answer = admin_client.post(f"/admin/amend-order/{order.id}/", data=data, follow_redirects=True)
    assert answer.status_code == 200 and "has a payment recorded on it" in answer.get_data(as_text=True)
    assert state() == before


@pytest.mark.parametrize("changes, message", [
    ({"products-0-quantity": "-3"}, "Quantity must be between"),
    ({"products-0-quantity": "99999999999999999999"}, "Quantity must be a whole number"),
    ({"products-0-price_override": "1e30"}, "price override"),
    ({"products-0-price_override": "-1.00"}, "cannot be negative"),
    ({"products-0-billing_cycle": "Fortnightly"}, "not offered with the Fortnightly billing cycle"),
    ({"products-0-service_id": "abc"}, "Service"),
    ({"products-1-product_id": "999999"}, "Unknown product"),
    ({"products-0-product_id": "999999"}, "remove it and add a new line instead"),
    ({"products-0-addon_ids": "12x"}, "Addon"),
    ({"domains-0-name": "bad..name", "domains-0-type": "Register"}, "not a valid domain name"),
    ({"promo_code": "NOPE"}, "does not exist"),
])
def test_hostile_input_is_answered_with_a_message(session, admin_client, placed, changes, message):
    order, _, _ = placed
    before = state()
    answer = admin_client.post(f"/admin/amend-order/{order.id}/", data=posted(order, **changes))
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert state() == before


def test_another_clients_service_and_odd_urls(session, admin_client, placed):
    order, _, _ = placed
    other = factories.make_order()
    session.commit()
    before = state()
    answer = admin_client.post(f"/admin/amend-order/{order.id}/",
                               data=posted(order, **{"products-0-service_id": str(other.services[0].id)}))
    assert answer.status_code == 400 and "is not an item of order" in answer.get_data(as_text=True)
    stale = admin_client.post(f"/admin/amend-order/{order.id}/",
                              data=posted(order, expected_version="0"), follow_redirects=True)
    assert "out of date" in stale.get_data(as_text=True)
    for url in ("/admin/amend-order/99999999999999999999/", "/admin/amend-order/424242/"):
        assert admin_client.get(url).status_code == 302
    assert admin_client.get("/admin/amend-order/").status_code == 404
    assert state() == before
    assert session.scalar(select(Invoice.total).where(Invoice.id == order.invoice_id)) == Decimal("15.00")


def test_the_orders_own_problems_show_at_the_top(session, admin_client, placed):
    from models import ClientStatus

    order, _, _ = placed
    data = posted(order, **{"products-0-billing_cycle": "Annually"})
    order.client.status = ClientStatus.CLOSED
    session.commit()
    before = state()
    answer = admin_client.post(f"/admin/amend-order/{order.id}/", data=data)
    assert answer.status_code == 400
    assert 'data-error-for="client_id"' in answer.get_data(as_text=True)
    assert state() == before


def test_a_kept_services_answers_are_checked_and_shown(session, admin_client, placed):
    from models import CustomField

    order, starter, _ = placed
    data = posted(order, **{"products-0-billing_cycle": "Annually"})
    field = CustomField(applies_to="product", product=starter, name="Hostname", required=True)
    session.add(field)  # required since the order was placed: the kept service has no answer
    session.commit()
    before = state()
    answer = admin_client.post(f"/admin/amend-order/{order.id}/", data=data)
    assert answer.status_code == 400
    assert f'data-error-for="products-0-customfield-{field.id}"' in answer.get_data(as_text=True)
    assert state() == before
