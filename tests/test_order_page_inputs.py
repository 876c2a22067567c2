"""The order page's forms with wrong and hostile input, and its smaller forms (payment method,
notes setting): a clear message and nothing changed, never a 500 or a silent change."""

import pytest
from sqlalchemy import select

from extensions import db
from models import Affiliate, Gateway, Order, OrderEvent, OrderStatus, Setting
from tests import factories
from tests.test_order_page import PAGE, page, state


def form(order, **data):
    return {"id": order.id, "expected_version": order.version, "url": PAGE.format(order.id), **data}


@pytest.mark.parametrize("version", ["", "abc", "-1", "1.0", "99999999999999999999", "\u0661"])
def test_an_unreadable_version_is_refused_as_out_of_date(admin_client, session, version):
    order = factories.make_order()
    session.commit()
    before = state(order.id)
    response = admin_client.post("/admin/orders/order/cancel/", follow_redirects=True,
                                 data=form(order, expected_version=version))
    assert response.status_code == 200
    assert "This page is out of date" in response.get_data(as_text=True)
    assert state(order.id) == before


@pytest.mark.parametrize("affiliate_id", ["abc", "-3", "1.5", "99999999999999999999", "999999"])
def test_an_unreadable_or_unknown_affiliate_changes_nothing(admin_client, session, affiliate_id):
    affiliate = Affiliate(client=factories.make_client())
    session.add(affiliate)
    order = factories.make_order(affiliate=affiliate)
    session.commit()
    before = state(order.id)
    html = admin_client.post("/admin/orders/order/affiliate/", follow_redirects=True,
                             data=form(order, affiliate_id=affiliate_id)).get_data(as_text=True)
    assert "Affiliate" in html and "error" in html
    assert state(order.id) == before  # the affiliate is kept, not cleared


def test_an_empty_affiliate_removes_it(admin_client, session):
    order = factories.make_order(affiliate=Affiliate(client=factories.make_client()))
    session.commit()
    admin_client.post("/admin/orders/order/affiliate/", data=form(order, affiliate_id=""))
    db.session.expire_all()
    assert db.session.get(Order, order.id).affiliate_id is None


@pytest.mark.parametrize("raw_id", ["999999", "2147483648", "abc", ""])
def test_acting_on_an_order_that_is_gone_says_so(admin_client, session, raw_id):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status="Cancelled")
    session.commit()
    response = admin_client.post("/admin/orders/order/delete/", follow_redirects=True,
                                 data=form(order, id=raw_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ("no longer exists" in html) if raw_id else ("No order was given" in html)


def test_deleted_in_another_tab_then_acted_on(admin_client, session):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status="Cancelled")
    session.commit()
    stale = form(order)
    admin_client.post("/admin/orders/order/delete/", data=stale)
    html = admin_client.post("/admin/orders/order/set_pending/", follow_redirects=True,
                             data=stale).get_data(as_text=True)
    assert f"Order {order.id} no longer exists" in html


def test_change_the_payment_method_through_the_action(admin_client, session):
    session.add(Gateway(name="stripe", display_name="Stripe", module="stripe"))
    order = factories.make_order()
    session.commit()
    assert 'name="payment_method"' in page(admin_client, order.id)
    html = admin_client.post("/admin/orders/order/payment-method/", follow_redirects=True,
                             data=form(order, payment_method="stripe")).get_data(as_text=True)
    assert "payment method updated" in html
    db.session.expire_all()
    stored = db.session.get(Order, order.id)
    assert (stored.payment_method, stored.invoice.payment_method) == ("stripe", "stripe")
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.verb == "payment_method_changed"))
    assert event.details == {"from": "banktransfer", "to": "stripe", "invoice_id": stored.invoice_id}


@pytest.mark.parametrize("gateway", ["stripe-typo", "", "x" * 500, "banktransfer\x00"])
def test_an_unknown_payment_method_is_refused(admin_client, session, gateway):
    order = factories.make_order()
    session.commit()
    before = (state(order.id), db.session.get(Order, order.id).payment_method)
    response = admin_client.post("/admin/orders/order/payment-method/", follow_redirects=True,
                                 data=form(order, payment_method=gateway))
    assert response.status_code in (200, 400)
    db.session.expire_all()
    assert (state(order.id), db.session.get(Order, order.id).payment_method) == before


def test_a_paid_invoice_keeps_the_method_it_was_paid_with(admin_client, session):
    session.add(Gateway(name="stripe", display_name="Stripe", module="stripe"))
    order = factories.make_order(invoice_status="Paid", paid=True)
    session.commit()
    admin_client.post("/admin/orders/order/payment-method/", data=form(order, payment_method="stripe"))
    db.session.expire_all()
    stored = db.session.get(Order, order.id)
    assert (stored.payment_method, stored.invoice.payment_method) == ("stripe", "banktransfer")


def test_the_client_notes_follow_the_setting(admin_client, session):
    order = factories.make_order(notes="Please call me first")
    session.commit()
    assert "Please call me first" in page(admin_client, order.id)
    db.session.get(Setting, "show_notes_on_checkout").value = "0"
    session.commit()
    assert "Please call me first" not in page(admin_client, order.id)


def test_order_id_and_number_link_to_the_order_page(admin_client, session):
    order = factories.make_order()
    session.commit()
    html = admin_client.get("/admin/orders/").get_data(as_text=True)
    link = f'<a href="/admin/orders/details/?id={order.id}">'
    assert f"{link}{order.id}</a>" in html and f"{link}{order.order_number}</a>" in html
