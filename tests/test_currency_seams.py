"""Where multiple currencies meet amending and upgrading: a EUR client's pending order amended (a
cycle changed, a product added) is re-priced from EUR prices and its invoice stays in EUR; a EUR
service's upgrade order and invoice are in EUR, prorated from EUR prices; the amend and upgrade
pages write amounts in the order's / service's currency, not the default one."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import Actor
from actions.amend_cart import Amendment, current_amendment
from actions.amend_order import amend_order
from actions.cart import Cart, CartDomain, CartProduct
from actions.client_currency import change_client_currency
from actions.errors import TransitionError
from actions.place import place_order
from actions.upgrade_service import order_upgrade
from admin.timeline import describe
from extensions import db
from models import BillingCycle, Currency, Order, OrderEvent, OrderStatus, ServiceStatus, TldPrice, utcnow
from tests import factories

D = Decimal
M, A = BillingCycle.MONTHLY, BillingCycle.ANNUALLY
ADMIN = Actor.system("Test admin")


@pytest.fixture
def eur(session):
    return factories.make_currency("EUR", rate="0.920000", prefix="€", suffix=" EUR")


@pytest.fixture
def eur_client(session, eur):
    client = factories.make_client(first_name="Émilie", last_name="Du Châtelet")
    change_client_currency(session, client, eur.id)
    session.flush()
    return client


@pytest.fixture
def group(eur):
    """USD: Small 10.00 + 5.00 (100.00 a year), Large 25.00 + 5.00; EUR: 9.00 + 4.00 (90.00 a
    year) and 22.00 + 3.00. Both in one group (Shared Hosting)."""
    small = factories.make_product(name="Small", prices={M: ("10.00", "5.00"), A: ("100.00", "5.00")})
    large = factories.make_product(name="Large", prices={M: ("25.00", "5.00")})
    factories.add_prices(small, eur, {M: ("9.00", "4.00"), A: ("90.00", "4.00")})
    factories.add_prices(large, eur, {M: ("22.00", "3.00")})
    return small, large


@pytest.fixture
def eur_order(session, eur_client, group, full_admin):
    """Small monthly (9.00 + 4.00) and chatelet.com for a year (EUR 11.00, USD 12.00): 24.00 EUR."""
    small, _ = group
    tld = factories.make_tld(".com", register="12.00")
    tld.prices.append(TldPrice(years=1, currency_id=eur_client.currency_id, register_price=D("11.00")))
    cart = Cart(client_id=eur_client.id, payment_method="banktransfer", ip_address="198.51.100.7",
                products=[CartProduct(small.id, M, domain="emilie.example")],
                domains=[CartDomain("Register", "chatelet.com", 1)])
    order = place_order(session, cart, Actor.admin(full_admin))
    session.commit()
    assert order.amount == D("24.00") and order.currency.code == "EUR"
    return order


def test_a_eur_order_reads_back_at_its_eur_prices_without_an_override(session, eur_order):
    # EUR 9.00 is the catalog's price in the order's currency: no override (not "9.00 != USD 10.00").
    amendment = current_amendment(session, eur_order)
    assert [line.price_override for line in amendment.products] == [None]
    assert [(d.price_override, d.renewal_override) for d in amendment.domains] == [(None, None)]


def test_amending_a_eur_order_reprices_in_eur_and_the_invoice_stays_in_eur(session, eur_order, group):
    small, large = group
    amendment = current_amendment(session, eur_order)
    amendment.products[0].billing_cycle = A
    amendment.products.append(CartProduct(large.id, M, domain="second.example"))
    amendment.service_ids.append(None)
    amend_order(session, eur_order, amendment, ADMIN)
    session.commit()
    order = session.get(Order, eur_order.id)
    # Small yearly 90.00 + 4.00 setup, Large 22.00 + 3.00 setup, the domain 11.00: all EUR.
    assert order.amount == order.invoice.total == D("130.00")
    assert (order.currency.code, order.invoice.currency.code) == ("EUR", "EUR")
    assert sorted(i.amount for i in order.invoice.items) == [
        D("3.00"), D("4.00"), D("11.00"), D("22.00"), D("90.00")]
    event = session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                    OrderEvent.verb == "order_amended"))
    changes = describe(event, order.currency_id).changes
    assert "Total: €24.00 EUR → €130.00 EUR" in changes
    assert "Added: Shared Hosting - Small - emilie.example (Annually) €90.00 EUR" in changes


def eur_service(eur_client, small, eur, due: date):
    order = factories.make_order(status=OrderStatus.ACTIVE, services=(ServiceStatus.ACTIVE,),
                                 client=eur_client, product=small, currency_id=eur.id)
    service = order.services[0]
    service.next_due_date = service.next_invoice_date = due
    service.recurring_amount = D("9.00")
    db.session.commit()
    return service


def test_a_eur_services_upgrade_is_ordered_and_invoiced_in_eur(session, admin_client, eur, eur_client, group):
    small, large = group
    service = eur_service(eur_client, small, eur, date(2026, 4, 15))
    order = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=date(2026, 4, 5))
    session.commit()
    # (22.00 - 9.00) x 10/31 = 4.1935.. -> 4.19 EUR (USD prices would give 4.84).
    assert order.invoice.total == order.amount == D("4.19")
    assert (order.currency.code, order.currency_rate) == ("EUR", D("0.920000"))
    assert (order.invoice.currency.code, order.invoice.currency_rate) == ("EUR", D("0.920000"))
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    row = page.split('id="order-upgrade"')[1].split("</tr>")[0]
    assert "(Monthly, €9.00 EUR)" in row and "(Monthly, €22.00 EUR)" in row and "charge €4.19 EUR" in row


def test_the_upgrade_and_amend_pages_write_eur(session, admin_client, eur, eur_client, group, eur_order):
    small, large = group
    amend = admin_client.get(f"/admin/amend-order/{eur_order.id}/")
    assert amend.status_code == 200
    assert "total €24.00 EUR" in amend.get_data(as_text=True)

    service = eur_service(eur_client, small, eur, utcnow().date() + timedelta(days=15))
    page = admin_client.get("/admin/service-upgrade/", query_string={
        "id": service.id, "product_id": large.id, "cycle": M}).get_data(as_text=True)
    assert "recurring €9.00 EUR" in page
    assert 'id="quote-new-price">€22.00 EUR<' in page and "(now €9.00 EUR)" in page
    assert 'id="quote-charge">€' in page and "$" not in page.split('id="upgrade-quote"')[1]


def test_upgrading_a_eur_service_to_a_product_without_eur_prices_is_refused(session, admin_client, eur,
                                                                            eur_client, group):
    small, _ = group
    usd_only = factories.make_product(name="Huge", prices={M: ("99.00", "0.00")})
    service = eur_service(eur_client, small, eur, utcnow().date() + timedelta(days=15))
    orders = session.query(Order).count()
    query = {"id": service.id, "product_id": usd_only.id, "cycle": M}
    preview = admin_client.get("/admin/service-upgrade/", query_string=query)
    assert preview.status_code == 400 and "Huge has no EUR pricing" in preview.get_data(as_text=True)
    placed = admin_client.post("/admin/service-upgrade/order/", data={**query, "expected_amount": "0.00"})
    assert placed.status_code == 400 and "Huge has no EUR pricing" in placed.get_data(as_text=True)
    assert session.query(Order).count() == orders


def test_the_upgrade_messages_name_the_services_currency(session, admin_client, eur, eur_client, group):
    small, large = group
    service = eur_service(eur_client, small, eur, utcnow().date() + timedelta(days=15))
    query = {"id": service.id, "product_id": large.id, "cycle": M}
    stale = admin_client.post("/admin/service-upgrade/order/", data={**query, "expected_amount": "1.00"})
    assert stale.status_code == 400 and "(€1.00 EUR then, €" in stale.get_data(as_text=True)
    preview = admin_client.get("/admin/service-upgrade/", query_string=query).get_data(as_text=True)
    amount = preview.split('name="expected_amount" value="')[1].split('"')[0]
    placed = admin_client.post("/admin/service-upgrade/order/", data={**query, "expected_amount": amount},
                               follow_redirects=True)
    assert f"placed for €{amount} EUR: its invoice is" in placed.get_data(as_text=True)


def test_the_default_currency_no_longer_changes_once_orders_record_rates(session, admin_client, eur,
                                                                         eur_order):
    # The EUR order recorded 0.92 against USD: under EUR its export "in the default currency" would
    # divide 24.00 EUR by 0.92 and call the result (26.09, dollars) euros.
    before = {c.code: (c.rate, c.is_default) for c in session.scalars(select(Currency))}
    response = admin_client.post(f"/admin/currencies/edit/?id={eur.id}", data={
        "code": "EUR", "prefix": "€", "suffix": " EUR", "format": "2", "rate": "0.92", "is_default": "y"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "the default currency can no longer change" in text
    db.session.expire_all()
    assert {c.code: (c.rate, c.is_default) for c in db.session.scalars(select(Currency))} == before


def test_a_used_currencys_code_no_longer_changes(session, admin_client, eur, eur_order):
    form = {"code": "GBP", "prefix": "€", "suffix": " EUR", "format": "2", "rate": "0.92"}
    text = admin_client.post(f"/admin/currencies/edit/?id={eur.id}", data=form).get_data(as_text=True)
    assert "EUR is used by clients: its code can no longer change." in text
    db.session.expire_all()
    assert db.session.get(Currency, eur.id).code == "EUR"
    unused = factories.make_currency("CHF", rate="0.880000", prefix="", suffix="")
    session.commit()
    response = admin_client.post(f"/admin/currencies/edit/?id={unused.id}",
                                 data={**form, "code": "SEK", "prefix": "", "suffix": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Currency, unused.id).code == "SEK"


def test_an_upgrade_order_is_not_amended(session, admin_client, eur, eur_client, group):
    small, large = group
    service = eur_service(eur_client, small, eur, date(2026, 4, 15))
    order = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=date(2026, 4, 5))
    session.commit()
    lines = [(i.type, i.amount) for i in order.invoice.items]
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="amend-order"' not in page
    refused = admin_client.get(f"/admin/amend-order/{order.id}/", follow_redirects=True)
    assert "An upgrade order cannot be amended" in refused.get_data(as_text=True)
    with pytest.raises(TransitionError, match="An upgrade order cannot be amended"):
        amend_order(session, order.id, Amendment(products=[CartProduct(small.id, M)], service_ids=[None]),
                    ADMIN)
    session.rollback()
    assert [(i.type, i.amount) for i in session.get(Order, order.id).invoice.items] == lines
