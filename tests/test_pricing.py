"""Pricing table: every cycle, setup fees, overrides, the shortest-cycle fallback, quantities and
domains with periods and addons - checked to the cent on the order, its items and its invoice."""

from datetime import timedelta
from decimal import Decimal

from actions.actor import Actor
from actions.cart import Cart, CartDomain, CartProduct, PlaceOptions
from actions.place import place_order, preview_order
from models import BillingCycle, InvoiceItemType, Setting
from models.billing_dates import add_months
from tests import factories

ALL_CYCLES = {
    BillingCycle.ONE_TIME: ("99.00", "0.00"),
    BillingCycle.MONTHLY: ("10.00", "5.00"),
    BillingCycle.QUARTERLY: ("27.00", "5.00"),
    BillingCycle.SEMI_ANNUALLY: ("50.00", "2.50"),
    BillingCycle.ANNUALLY: ("96.00", "0.00"),
    BillingCycle.BIENNIALLY: ("180.00", "0.00"),
    BillingCycle.TRIENNIALLY: ("250.00", "0.01"),
}


def place(session, products=(), domains=(), **options):
    client = factories.make_client()
    cart = Cart(
        client_id=client.id, payment_method="banktransfer", products=list(products), domains=list(domains)
    )
    return place_order(session, cart, Actor.system(), PlaceOptions(**options))


def lines(order):
    return [(item.type, item.amount) for item in order.invoice.items]


def test_every_cycle_prices_price_and_setup_fee_as_separate_lines(session):
    product = factories.make_product(prices=ALL_CYCLES)
    for cycle, (price, setup) in ALL_CYCLES.items():
        order = place(session, [CartProduct(product.id, cycle)])
        expected = [(InvoiceItemType.HOSTING, Decimal(price))]
        if Decimal(setup):
            expected.append((InvoiceItemType.SETUP, Decimal(setup)))
        assert lines(order) == expected, cycle
        assert (
            order.amount == order.invoice.total == order.invoice.subtotal == Decimal(price) + Decimal(setup)
        )
        (service,) = order.services
        assert service.billing_cycle == cycle
        assert service.first_payment_amount == Decimal(price) + Decimal(setup)
        one_time = cycle == BillingCycle.ONE_TIME
        assert service.recurring_amount == (Decimal("0.00") if one_time else Decimal(price))
        today = order.date.date()
        assert service.next_due_date == (None if one_time else add_months(today, BillingCycle(cycle).months))


def test_price_override_replaces_price_and_setup_fee_for_first_and_recurring(session):
    product = factories.make_product(
        prices={BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "20.00")}
    )
    order = place(session, [CartProduct(product.id, BillingCycle.ANNUALLY, price_override=Decimal("42.50"))])
    assert lines(order) == [(InvoiceItemType.HOSTING, Decimal("42.50"))]
    assert order.amount == Decimal("42.50")
    assert order.services[0].recurring_amount == Decimal("42.50")
    assert order.services[0].billing_cycle == BillingCycle.ANNUALLY


def test_zero_override_makes_a_free_item(session):
    product = factories.make_product()
    order = place(session, [CartProduct(product.id, price_override=Decimal("0.00"))])
    assert order.amount == Decimal("0.00")
    assert lines(order) == [(InvoiceItemType.HOSTING, Decimal("0.00"))]


def test_shortest_configured_cycle_is_used_without_cycle_or_override(session):
    several = factories.make_product(
        prices={
            BillingCycle.ANNUALLY: ("96.00", "0.00"),
            BillingCycle.QUARTERLY: ("27.00", "3.00"),
            BillingCycle.ONE_TIME: ("500.00", "0.00"),
        }
    )
    only_once = factories.make_product(prices={BillingCycle.ONE_TIME: ("75.00", "0.00")})
    order = place(session, [CartProduct(several.id), CartProduct(only_once.id)])
    assert [s.billing_cycle for s in order.services] == [BillingCycle.QUARTERLY, BillingCycle.ONE_TIME]
    assert order.amount == Decimal("105.00")
    # An override without a cycle still bills on the shortest cycle.
    order = place(session, [CartProduct(several.id, price_override=Decimal("1.00"))])
    assert order.services[0].billing_cycle == BillingCycle.QUARTERLY
    assert order.amount == Decimal("1.00")


def test_quantity_creates_one_service_and_one_set_of_lines_each(session):
    product = factories.make_product(prices={BillingCycle.MONTHLY: ("10.00", "5.00")})
    order = place(session, [CartProduct(product.id, BillingCycle.MONTHLY, quantity=3, domain="Example.COM")])
    assert len(order.services) == 3
    assert all(s.domain == "example.com" for s in order.services)
    assert (
        lines(order)
        == [(InvoiceItemType.HOSTING, Decimal("10.00")), (InvoiceItemType.SETUP, Decimal("5.00"))] * 3
    )
    assert [item.related_id for item in order.invoice.items] == [s.id for s in order.services for _ in (1, 2)]
    assert order.amount == order.invoice.total == Decimal("45.00")


def test_domains_priced_per_period_with_addons_per_year(session):
    factories.make_tld(
        ".com",
        register="12.00",
        transfer="9.00",
        renew="14.00",
        years=(1, 2, 3),
        addons=("1.00", "2.00", "3.50"),
    )
    factories.make_tld(".co.uk", register="7.00", years=(1, 2))
    order = place(
        session,
        domains=[
            CartDomain("Register", "example.com", 2, dns_management=True, id_protection=True),
            CartDomain("Transfer", "moving.com", 1, epp_code="secret-code", email_forwarding=True),
            CartDomain("Register", "shop.co.uk", 2),
        ],
    )
    # 2 x 12 + 2 x (1.00 + 3.50); 9 + 2.00; 2 x 7
    assert lines(order) == [
        (InvoiceItemType.DOMAIN_REGISTER, Decimal("33.00")),
        (InvoiceItemType.DOMAIN_TRANSFER, Decimal("11.00")),
        (InvoiceItemType.DOMAIN_REGISTER, Decimal("14.00")),
    ]
    assert order.amount == order.invoice.total == Decimal("58.00")
    first, transfer, uk = order.domains
    assert (first.name, first.period_years, first.dns_management, first.id_protection) == (
        "example.com",
        2,
        True,
        True,
    )
    assert first.first_payment_amount == Decimal("33.00")
    assert first.recurring_amount == Decimal("37.00")  # renewal 2 x 14 + addons 9.00
    assert transfer.epp_code == "secret-code" and transfer.recurring_amount == Decimal("16.00")
    assert uk.recurring_amount == Decimal("14.00")  # no renew price: renews at the registration price
    assert first.next_due_date == add_months(order.date.date(), 24)
    assert "DNS Management" in order.invoice.items[0].description


def test_products_and_domains_together_and_invoice_due_date_uses_grace_setting(session):
    session.get(Setting, "order_days_grace").value = "7"
    product = factories.make_product(prices={BillingCycle.ANNUALLY: ("120.00", "10.00")})
    factories.make_tld(".net", register="15.00")
    order = place(
        session,
        [CartProduct(product.id, BillingCycle.ANNUALLY, quantity=2)],
        [CartDomain("Register", "example.net", 1)],
    )
    assert order.amount == Decimal("275.00")
    assert order.invoice.due_date == order.invoice.date + timedelta(days=7)
    assert order.invoice.date == order.date.date()


def test_without_invoice_the_order_amount_is_the_priced_total(session):
    product = factories.make_product(prices={BillingCycle.MONTHLY: ("10.00", "5.00")})
    order = place(session, [CartProduct(product.id, quantity=2)], generate_invoice=False)
    assert order.invoice is None
    assert order.amount == Decimal("30.00")


def test_preview_gives_the_same_total_as_placing_and_writes_nothing(session):
    product = factories.make_product(prices={BillingCycle.MONTHLY: ("10.00", "5.00")})
    factories.make_tld(".com", register="12.00", addons=("1.00", "0.00", "0.00"))
    client = factories.make_client()
    cart = Cart(
        client_id=client.id,
        payment_method="banktransfer",
        products=[CartProduct(product.id, quantity=2)],
        domains=[CartDomain("Register", "example.com", dns_management=True)],
    )
    quote = preview_order(session, cart)
    assert quote.errors == {}
    assert (quote.subtotal, quote.discount, quote.total) == (
        Decimal("43.00"),
        Decimal("0.00"),
        Decimal("43.00"),
    )
    assert not session.new and not session.dirty
    order = place_order(session, cart, Actor.system())
    assert order.amount == quote.total
