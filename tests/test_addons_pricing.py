"""Product addons in place_order: prices per cycle with setup fees, first payment vs recurring,
promotions on addons, quantity N, and refusals that write nothing - checked to the cent."""

from decimal import Decimal

import pytest

from actions.actor import Actor
from actions.cart import Cart, CartProduct, PlacementError, PlaceOptions
from actions.place import place_order, preview_order
from models import BillingCycle, InvoiceItemType, ServiceAddon, ServiceStatus
from models.billing_dates import add_months
from tests import factories
from tests.test_transitions import table_snapshot

D = Decimal
PRODUCT_PRICES = {BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "0.00")}
BACKUPS = {BillingCycle.MONTHLY: ("3.00", "1.50"), BillingCycle.ANNUALLY: ("30.00", "0.00")}


def cart_for(products, promo_code: str = "") -> Cart:
    client = factories.make_client()
    return Cart(client_id=client.id, payment_method="banktransfer", products=list(products),
                promo_code=promo_code)


def place(session, products, promo_code: str = "", **options):
    return place_order(session, cart_for(products, promo_code), Actor.system(), PlaceOptions(**options))


def lines(order):
    return [(item.type, item.related_id, item.amount) for item in order.invoice.items]


# (service cycle, addon prices, expected addon cycle, price line, setup line or None, recurring)
TABLE = [
    (BillingCycle.MONTHLY, BACKUPS, BillingCycle.MONTHLY, "3.00", "1.50", "3.00"),
    (BillingCycle.ANNUALLY, BACKUPS, BillingCycle.ANNUALLY, "30.00", None, "30.00"),
    # Not sold on the service's cycle but One Time: billed once, nothing recurring.
    (BillingCycle.MONTHLY, {BillingCycle.ONE_TIME: ("25.00", "4.00")}, BillingCycle.ONE_TIME, "25.00", "4.00",
     "0.00"),
    (BillingCycle.ANNUALLY, {BillingCycle.ONE_TIME: ("0.00", "0.00"), BillingCycle.MONTHLY: ("1.00", "0.00")},
     BillingCycle.ONE_TIME, "0.00", None, "0.00"),
]


@pytest.mark.parametrize(("cycle", "prices", "addon_cycle", "price", "setup", "recurring"), TABLE)
def test_addon_price_per_cycle_with_setup_fee(session, cycle, prices, addon_cycle, price, setup, recurring):
    product = factories.make_product(prices=PRODUCT_PRICES)
    addon = factories.make_addon([product], prices)
    order = place(session, [CartProduct(product.id, cycle, addon_ids=[addon.id])])

    (service,) = order.services
    (item,) = order.addons
    assert item.service_id == service.id and item.addon_id == addon.id and item.client_id == order.client_id
    assert item.status == ServiceStatus.PENDING and item.billing_cycle == addon_cycle
    first = D(price) + D(setup or "0")
    assert item.first_payment_amount == first
    assert item.recurring_amount == D(recurring)
    months = BillingCycle(addon_cycle).months
    today = order.date.date()
    assert item.next_due_date == (add_months(today, months) if months else None)

    product_price, product_setup = PRODUCT_PRICES[cycle]
    expected = [(InvoiceItemType.HOSTING, service.id, D(product_price))]
    if D(product_setup):
        expected.append((InvoiceItemType.SETUP, service.id, D(product_setup)))
    expected.append((InvoiceItemType.ADDON, item.id, D(price)))
    if setup:
        expected.append((InvoiceItemType.ADDON, item.id, D(setup)))
    assert lines(order) == expected
    assert order.amount == order.invoice.total == D(product_price) + D(product_setup) + first
    # The service's own amounts do not include its addons: each is billed and renewed on its own.
    assert service.first_payment_amount == D(product_price) + D(product_setup)
    assert order.payment_status == "Unpaid"


def test_preview_prices_the_same_as_placing(session):
    product = factories.make_product(prices=PRODUCT_PRICES)
    backups = factories.make_addon([product], BACKUPS)
    licence = factories.make_addon([product], {BillingCycle.MONTHLY: ("12.34", "0.66")})
    line = CartProduct(product.id, BillingCycle.MONTHLY, quantity=2, addon_ids=[backups.id, licence.id])
    cart = cart_for([line])
    quote = preview_order(session, cart)
    assert not quote.errors
    assert quote.total == 2 * (D("15.00") + D("4.50") + D("13.00")) == D("65.00")
    order = place_order(session, cart, Actor.system())
    assert order.amount == quote.total


def test_quantity_copies_the_addons_to_each_service(session):
    product = factories.make_product(prices=PRODUCT_PRICES)
    backups = factories.make_addon([product], BACKUPS)
    licence = factories.make_addon([product], {BillingCycle.MONTHLY: ("7.00", "0.00")})
    order = place(session, [CartProduct(product.id, BillingCycle.MONTHLY, quantity=3,
                                        addon_ids=[backups.id, licence.id])])
    assert len(order.services) == 3
    for service in order.services:
        assert [a.addon_id for a in service.addons] == [backups.id, licence.id]
    assert len(order.addons) == 6
    assert order.amount == 3 * (D("15.00") + D("4.50") + D("7.00")) == D("79.50")
    assert sum(a.recurring_amount for a in order.addons) == 3 * D("10.00")


# (promotion fields, discount off: the service's first payment, the addon's; the addon's recurring amount)
PROMOTIONS = [
    (dict(type="Percentage", value="10.00"), "1.50", "0.45", "3.00"),  # nothing listed: every item
    (dict(type="Percentage", value="10.00", applies_to_addons=["ADDON"]), "0.00", "0.45", "3.00"),
    (dict(type="Percentage", value="10.00", recurring=True, applies_to_addons=["ADDON"]), "0.00", "0.45",
     "2.70"),
    (dict(type="Fixed Amount", value="2.00", applies_to_addons=["ADDON"]), "0.00", "2.00", "3.00"),
    (dict(type="Free Setup", value="0.00", applies_to_addons=["ADDON"]), "0.00", "1.50", "3.00"),
    (dict(type="Price Override", value="1.00", recurring=True, applies_to_addons=["ADDON"]), "0.00",
     "2.00", "1.00"),
    # Only the product listed: the addon pays in full.
    (dict(type="Percentage", value="50.00", applies_to_products=["PRODUCT"]), "7.50", "0.00", "3.00"),
    # Apply once: the service takes it, the addon does not.
    (dict(type="Fixed Amount", value="1.00", apply_once=True), "1.00", "0.00", "3.00"),
]


@pytest.mark.parametrize(("fields", "service_off", "addon_off", "addon_recurring"), PROMOTIONS)
def test_promotions_apply_to_addons(session, fields, service_off, addon_off, addon_recurring):
    product = factories.make_product(prices=PRODUCT_PRICES)
    addon = factories.make_addon([product], BACKUPS)
    fields = dict(fields)
    for key in ("applies_to_addons", "applies_to_products"):
        if key in fields:
            fields[key] = [addon.id if v == "ADDON" else product.id for v in fields[key]]
    promotion = factories.make_promotion(**fields)
    line = CartProduct(product.id, BillingCycle.MONTHLY, addon_ids=[addon.id])
    order = place(session, [line], promotion.code)

    (service,), (item,) = order.services, order.addons
    assert service.first_payment_amount == D("15.00") - D(service_off)
    assert item.first_payment_amount == D("4.50") - D(addon_off)
    assert item.recurring_amount == D(addon_recurring)
    assert item.promotion_id == (promotion.id if D(addon_off) else None)
    promo_lines = [(t, r, a) for t, r, a in lines(order) if t == InvoiceItemType.PROMO_ADDON]
    assert promo_lines == ([(InvoiceItemType.PROMO_ADDON, item.id, -D(addon_off))] if D(addon_off) else [])
    assert order.amount == D("19.50") - D(service_off) - D(addon_off)


def test_a_promotion_for_addons_only_applies_when_the_addon_is_ordered(session):
    product = factories.make_product(prices=PRODUCT_PRICES)
    addon = factories.make_addon([product], BACKUPS)
    promotion = factories.make_promotion(applies_to_addons=[addon.id])
    with pytest.raises(PlacementError) as caught:
        place(session, [CartProduct(product.id, BillingCycle.MONTHLY)], promotion.code)
    assert "does not apply" in " ".join(caught.value.errors["promo_code"])


def refusal_cases(product, other_product):
    mine = factories.make_addon([product], BACKUPS, name="Backups")
    theirs = factories.make_addon([other_product], BACKUPS, name="Control Panel")
    retired = factories.make_addon([product], BACKUPS, name="Old Backups", retired=True)
    quarterly_only = factories.make_addon([product], {BillingCycle.QUARTERLY: ("9.00", "0.00")}, name="Qtr")
    return [
        ([999999], "Unknown addon 999999."),
        ([theirs.id], "Control Panel is not available for"),
        ([retired.id], "Old Backups is retired"),
        ([quarterly_only.id], "Qtr is not offered with the Monthly billing cycle."),
        ([mine.id, mine.id], "An addon is listed twice"),
    ]


def test_refusals_name_the_addon_and_change_nothing(session):
    product = factories.make_product(prices=PRODUCT_PRICES)
    other = factories.make_product(prices=PRODUCT_PRICES)
    cases = refusal_cases(product, other)
    client = factories.make_client()
    session.commit()
    for addon_ids, message in cases:
        cart = Cart(client_id=client.id, payment_method="banktransfer",
                    products=[CartProduct(product.id, BillingCycle.MONTHLY, addon_ids=addon_ids)])
        assert message in " ".join(preview_order(session, cart).errors["products-0-addon_ids"])
        before = table_snapshot(session)
        with pytest.raises(PlacementError) as caught:
            place_order(session, cart, Actor.system())
        session.rollback()
        assert message in " ".join(caught.value.errors["products-0-addon_ids"]), addon_ids
        assert table_snapshot(session) == before, addon_ids
        assert session.query(ServiceAddon).count() == 0
