"""Multiple currencies: a EUR client's order is priced from EUR prices, recorded in EUR with the
rate of the day, invoiced and emailed (through a real SMTP server) in EUR; a client's currency is
fixed once invoiced; a product without a EUR price is refused; the dashboard and the export
convert to the default currency with the rate each invoice or order recorded."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.add_payment import add_payment
from actions.cart import Cart, CartDomain, CartProduct, PlacementError
from actions.client_currency import change_client_currency
from actions.daily_stats import rebuild_daily_stats
from actions.errors import TransitionError
from actions.place import place_order
from extensions import db
from jobs.daily import run_daily
from models import (
    BillingCycle,
    Client,
    DailyRevenue,
    Invoice,
    Order,
    OrderStatus,
    Permission,
    PromotionAmount,
    Service,
    ServiceStatus,
    TldPrice,
    default_currency,
)
from tests import factories
from tests.api_support import INVOICE_API_PERMISSIONS, Api, ensure_gateway, make_credential
from tests.test_place_emails import by_subject, text

MONTHLY = BillingCycle.MONTHLY


@pytest.fixture
def eur(session):
    return factories.make_currency("EUR", rate="0.920000", prefix="€", suffix=" EUR")


@pytest.fixture
def eur_client(session, eur):
    client = factories.make_client(first_name="Émilie", last_name="Du Châtelet", email="emilie@example.fr")
    change_client_currency(session, client, eur.id)
    session.flush()
    return client


def starter(eur, with_eur: bool = True):
    """USD 10.00 + 5.00 setup; EUR 9.00 + 4.00 setup when `with_eur`."""
    product = factories.make_product(name="Starter", prices={MONTHLY: ("10.00", "5.00")})
    if with_eur:
        factories.add_prices(product, eur, {MONTHLY: ("9.00", "4.00")})
    return product


def eur_cart(client, product, **kw) -> Cart:
    return Cart(client_id=client.id, payment_method="banktransfer", ip_address="198.51.100.7",
                products=[CartProduct(product.id, MONTHLY, domain="emilie.example")], **kw)


def test_eur_order_priced_invoiced_and_emailed_in_eur(session, smtp, full_admin, eur, eur_client):
    product = starter(eur)
    tld = factories.make_tld(".com", register="12.00")
    tld.prices.append(TldPrice(years=1, currency_id=eur.id, register_price=Decimal("11.00")))
    promotion = factories.make_promotion("TWO", type="Fixed Amount", value="3.00",  # 3.00 USD
                                         applies_to_products=[product.id])
    promotion.amounts.append(PromotionAmount(currency_id=eur.id, value=Decimal("2.00")))  # 2.00 EUR
    session.flush()
    cart = eur_cart(eur_client, product, domains=[CartDomain("Register", "chatelet.com", 1)],
                    promo_code="TWO")

    order = place_order(session, cart, Actor.admin(full_admin))
    order_id, invoice_id = order.id, order.invoice_id
    session.commit()  # embedded mode: the emails are sent right after the commit

    order, invoice = session.get(Order, order_id), session.get(Invoice, invoice_id)
    # EUR prices only: 9.00 + 4.00 setup - 2.00 (the promotion's EUR amount) + 11.00 for the domain.
    assert order.amount == invoice.total == Decimal("22.00")
    assert (order.currency.code, order.currency_rate) == ("EUR", Decimal("0.920000"))
    assert (invoice.currency.code, invoice.currency_rate) == ("EUR", Decimal("0.920000"))
    assert order.promo_value == Decimal("2.00")
    assert sorted(line.amount for line in invoice.items) == [  # promotion, setup fee, domain, price
        Decimal("-2.00"), Decimal("4.00"), Decimal("9.00"), Decimal("11.00")]

    mail = by_subject(smtp)
    confirmation = text(mail["Order Confirmation"][0])
    assert "Starter - emilie.example (Monthly): 11.00 EUR" in confirmation
    assert "Domain Register: chatelet.com (1 year(s)): 11.00 EUR" in confirmation
    assert "Total: 22.00 EUR" in confirmation and "USD" not in confirmation
    invoice_mail = text(mail["Customer Invoice"][0])
    assert "Amount Due: 22.00 EUR" in invoice_mail and "USD" not in invoice_mail


def test_admin_pages_show_the_orders_currency(session, admin_client, eur, eur_client, full_admin):
    order = place_order(session, eur_cart(eur_client, starter(eur)), Actor.admin(full_admin))
    session.commit()
    page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert "<th>Total</th><td>€13.00 EUR</td>" in page and "$13.00" not in page
    invoice = admin_client.get(f"/admin/invoices/details/?id={order.invoice_id}").get_data(as_text=True)
    assert 'id="invoice-total">€13.00 EUR<' in invoice
    summary = admin_client.get(f"/admin/client-summary/{eur_client.id}/").get_data(as_text=True)
    assert 'id="client-currency">EUR<' in summary and "€13.00 EUR" in summary
    grid = admin_client.get("/admin/orders/").get_data(as_text=True)
    assert "€13.00 EUR" in grid


def test_a_product_without_eur_prices_is_refused_and_nothing_written(session, full_admin, eur, eur_client):
    product = starter(eur, with_eur=False)  # USD only
    session.commit()
    with pytest.raises(PlacementError) as refused:
        place_order(session, eur_cart(eur_client, product), Actor.admin(full_admin))
    assert refused.value.errors["products-0-billing_cycle"] == [
        "Starter has no EUR pricing: it cannot be ordered for a client who pays in EUR."]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_addons_options_and_promotions_need_their_eur_amounts(session, full_admin, eur, eur_client):
    product = starter(eur)
    addon = factories.make_addon(products=[product], prices={MONTHLY: ("2.00", "0.00")}, name="Backups")
    factories.make_promotion("FIVE", type="Fixed Amount", value="5.00")  # no EUR amount
    factories.make_promotion("TENPC", type="Percentage", value="10.00")  # a percentage is everywhere
    session.commit()
    cart = eur_cart(eur_client, product)
    cart.products[0].addon_ids = [addon.id]
    with pytest.raises(PlacementError) as refused:
        place_order(session, cart, Actor.admin(full_admin))
    assert refused.value.errors["products-0-addon_ids"] == [
        "Backups has no pricing in this client's currency."]
    session.rollback()

    with pytest.raises(PlacementError) as refused:
        place_order(session, eur_cart(eur_client, product, promo_code="FIVE"), Actor.admin(full_admin))
    assert refused.value.errors["promo_code"] == ["Promotion code FIVE has no amount in EUR."]
    session.rollback()
    order = place_order(session, eur_cart(eur_client, product, promo_code="TENPC"), Actor.admin(full_admin))
    assert order.amount == Decimal("11.70")  # 13.00 EUR less 10%


def test_a_clients_currency_is_fixed_once_it_has_an_invoice(session, admin_client, eur):
    client = factories.make_client()
    usd = default_currency(session)
    change_client_currency(session, client, eur.id)  # no invoice yet: allowed
    change_client_currency(session, client, usd.id)
    factories.make_order(client=client)
    session.commit()

    with pytest.raises(TransitionError) as refused:
        change_client_currency(session, client, eur.id)
    assert "already has invoices in USD" in refused.value.message
    session.rollback()

    # The client form says so and changes nothing, not even the other fields posted with it.
    response = admin_client.post(f"/admin/clients/edit/?id={client.id}", data={
        "first_name": "Changed", "last_name": client.last_name, "email": client.email,
        "country": client.country, "status": client.status, "currency_choice": str(eur.id)},
        follow_redirects=True)
    shown = response.get_data(as_text=True)
    assert "already has invoices in USD: their currency can no longer change." in shown
    session.expire_all()
    stored = session.get(Client, client.id)
    assert (stored.currency_id, stored.first_name) == (usd.id, "Ada")


def test_dashboard_and_export_convert_with_the_recorded_rate(session, admin_client, full_admin, eur,
                                                              eur_client):
    order = place_order(session, eur_cart(eur_client, starter(eur)), Actor.admin(full_admin))  # 13.00 EUR
    usd_order = factories.make_order()  # 15.00 USD
    session.commit()
    eur.rate = Decimal("0.500000")  # today's rate moves on; the order keeps 0.92
    session.commit()
    paid_at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    add_payment(session, order.invoice_id, Actor.admin(full_admin), amount=Decimal("13.00"),
                gateway="banktransfer", paid_on=paid_at, confirmation_email=False)
    add_payment(session, usd_order.invoice_id, Actor.admin(full_admin), amount=Decimal("15.00"),
                gateway="banktransfer", paid_on=paid_at, confirmation_email=False)
    session.commit()
    # 13.00 EUR / 0.92 = 14.1304... -> 14.13 USD; plus 15.00 USD.
    expected = Decimal("14.13") + Decimal("15.00")
    assert session.get(DailyRevenue, paid_at.date()).paid_in == expected
    rebuild_daily_stats(session)  # the set-based rebuild agrees with the running figures
    session.commit()
    assert session.get(DailyRevenue, paid_at.date()).paid_in == expected

    csv_text = admin_client.get("/admin/orders/export/csv/").get_data(as_text=True).lstrip("\ufeff")
    rows = {int(r["Order #"]): r for r in csv.DictReader(io.StringIO(csv_text))}
    eur_row, usd_row = rows[order.order_number], rows[usd_order.order_number]
    assert (eur_row["Currency"], eur_row["Total"], eur_row["Total in the default currency"]) == (
        "EUR", "13.00", "14.13")
    assert (usd_row["Currency"], usd_row["Total in the default currency"]) == ("USD", "15.00")


def test_existing_rows_and_new_clients_default_to_the_default_currency(session):
    client = factories.make_client()
    product = factories.make_product()
    db.session.flush()
    usd = default_currency(session)
    assert client.currency_id == usd.id and {p.currency_id for p in product.prices} == {usd.id}


def test_api_add_order_prices_in_the_clients_currency_and_reports_it(app_ctx, session, eur, eur_client):
    ensure_gateway()
    product = starter(eur)
    credential, secret = make_credential([*INVOICE_API_PERMISSIONS, Permission.LIST_INVOICES])
    session.commit()
    api = Api(app_ctx.test_client(), credential.identifier, secret)
    body = api.ok("AddOrder", [("pid[0]", str(product.id)), ("billingcycle[0]", "monthly")],
                  clientid=eur_client.id, paymentmethod="mailin")
    order = session.get(Order, body["orderid"])
    assert (order.amount, order.currency.code) == (Decimal("13.00"), "EUR")
    (listed,) = api.ok("GetOrders", id=order.id)["orders"]["order"]
    assert (listed["amount"], listed["currencycode"], listed["currencyprefix"]) == ("13.00", "EUR", "€")
    invoice = api.ok("GetInvoice", invoiceid=body["invoiceid"])
    assert (invoice["total"], invoice["currencycode"], invoice["currencysuffix"]) == ("13.00", "EUR", " EUR")
    client = api.ok("GetClientsDetails", clientid=eur_client.id)
    assert (client["client"]["currency"], client["client"]["currency_code"]) == (eur.id, "EUR")

    address = dict(firstname="Ada", lastname="Lovelace", address1="1 St", city="London", state="LDN",
                   postcode="N1", country="GB", phonenumber="+44.2079460000")
    added = api.ok("AddClient", email="ada@example.com", currency=eur.id, **address)
    assert session.get(Client, added["clientid"]).currency.code == "EUR"
    assert api.error("AddClient", email="bob@example.com", currency=99999, **address) == "Invalid currency"

    usd_only = factories.make_product(name="Legacy")
    session.commit()
    message = api.error("AddOrder", [("pid[0]", str(usd_only.id))], clientid=eur_client.id,
                        paymentmethod="mailin")
    assert "Legacy has no EUR pricing" in message


def test_a_renewal_invoice_is_in_the_clients_currency_at_the_days_rate(session, eur, eur_client):
    order = factories.make_order(client=eur_client, status=OrderStatus.ACTIVE,
                                 services=(ServiceStatus.ACTIVE,), invoice_status="Paid", paid=True)
    service = session.scalar(select(Service).where(Service.order_id == order.id))
    today = date(2026, 12, 1)
    service.next_invoice_date = service.next_due_date = today
    eur.rate = Decimal("0.950000")
    session.commit()
    run_daily(session, today)
    renewal = session.scalar(select(Invoice).where(Invoice.client_id == eur_client.id,
                                                   Invoice.id != order.invoice_id))
    assert (renewal.currency.code, renewal.currency_rate) == ("EUR", Decimal("0.950000"))
