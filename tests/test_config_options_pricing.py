"""Configurable options in place_order: each option type priced per cycle with setup fees, quantity
at min and max, first payment vs recurring, promotions, quantity N, defaults, and refusals that write
nothing - checked to the cent."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.cart import Cart, CartProduct, PlacementError
from actions.place import place_order, preview_order
from models import Base, BillingCycle, ConfigOptionType, InvoiceItemType
from tests import factories

D = Decimal
M, A = BillingCycle.MONTHLY, BillingCycle.ANNUALLY
PRODUCT_PRICES = {M: ("10.00", "5.00"), A: ("100.00", "0.00")}
OPTIONS = [
    ("RAM", ConfigOptionType.DROPDOWN, {"2 GB": {M: ("0.00", "0.00"), A: ("0.00", "0.00")},
                                        "4 GB": {M: ("4.00", "2.00"), A: ("40.00", "0.00")}}, 0, 0),
    ("OS", ConfigOptionType.RADIO, {"Ubuntu": {},  # no price row: free on every cycle
                                    "Windows": {M: ("15.00", "10.00"), A: ("150.00", "25.00")}}, 0, 0),
    ("Backups", ConfigOptionType.YES_NO,
     {"Daily backups": {M: ("2.50", "1.00"), A: ("25.00", "0.00")}}, 0, 0),
    ("IPs", ConfigOptionType.QUANTITY, {"IP": {M: ("1.25", "0.50"), A: ("12.00", "3.00")}}, 1, 8),
]


def catalog():
    product = factories.make_product(prices=PRODUCT_PRICES)
    group = factories.make_option_group([product], OPTIONS)
    by_name = {o.name: o for o in group.options}
    return product, by_name


def values(options, **chosen) -> dict:
    """{option id: value} from RAM="4 GB" / Backups=1 / IPs=3 (choice names for dropdown / radio)."""
    out = {}
    for name, value in chosen.items():
        option = options[name]
        if option.type in (ConfigOptionType.DROPDOWN, ConfigOptionType.RADIO):
            value = next(c.id for c in option.choices if c.name == value)
        out[option.id] = value
    return out


def cart_for(products, promo_code: str = "") -> Cart:
    client = factories.make_client()
    return Cart(client_id=client.id, payment_method="banktransfer", products=list(products),
                promo_code=promo_code)


# (cycle, chosen values, price the options add, setup fee they add)
TABLE = [
    # Nothing chosen: the defaults (first choice, no, the minimum quantity of 1 IP).
    (M, {}, "1.25", "0.50"),
    (A, {}, "12.00", "3.00"),
    (M, dict(RAM="4 GB"), "5.25", "2.50"),
    (A, dict(RAM="4 GB"), "52.00", "3.00"),
    (M, dict(OS="Windows"), "16.25", "10.50"),
    (A, dict(OS="Windows"), "162.00", "28.00"),
    (M, dict(OS="Ubuntu", Backups=1), "3.75", "1.50"),
    (A, dict(Backups=1), "37.00", "3.00"),
    (M, dict(Backups=0), "1.25", "0.50"),
    (M, dict(IPs=1), "1.25", "0.50"),  # the minimum
    (M, dict(IPs=8), "10.00", "4.00"),  # the maximum
    (A, dict(IPs=8), "96.00", "24.00"),
    (M, dict(RAM="4 GB", OS="Windows", Backups=1, IPs=3), "25.25", "14.50"),
    (A, dict(RAM="4 GB", OS="Windows", Backups="1", IPs="3"), "251.00", "34.00"),  # digits as text
]


@pytest.mark.parametrize(("cycle", "chosen", "price", "setup"), TABLE)
def test_each_option_type_priced_per_cycle_with_setup_fees(session, cycle, chosen, price, setup):
    product, options = catalog()
    line = CartProduct(product.id, cycle, config_options=values(options, **chosen))
    cart = cart_for([line])
    quote = preview_order(session, cart)
    assert not quote.errors
    order = place_order(session, cart, Actor.system())

    (service,) = order.services
    product_price, product_setup = (D(x) for x in PRODUCT_PRICES[cycle])
    assert service.first_payment_amount == product_price + product_setup + D(price) + D(setup)
    assert service.recurring_amount == product_price + D(price)  # setup fees are paid once
    assert order.amount == order.invoice.total == quote.total == service.first_payment_amount

    lines = [(i.type, i.related_id, i.amount) for i in order.invoice.items]
    expected = [(InvoiceItemType.HOSTING, service.id, product_price + D(price))]
    if product_setup + D(setup):
        expected.append((InvoiceItemType.SETUP, service.id, product_setup + D(setup)))
    assert lines == expected
    # Every option of the product is stored, the left-out ones with their default.
    stored = {row.option.name: row.value for row in service.config_options}
    assert set(stored) == {"RAM", "OS", "Backups", "IPs"}
    for name, value in chosen.items():
        assert str(stored[name]) == str(value)
    # The product's invoice line lists the options, one per line, like WHMCS.
    description = order.invoice.items[0].description
    assert description.splitlines()[1:] == [str(row) for row in service.config_options]


def test_invoice_line_reads_like_whmcs(session):
    product, options = catalog()
    line = CartProduct(product.id, M, config_options=values(options, RAM="4 GB", Backups=1, IPs=3))
    order = place_order(session, cart_for([line]), Actor.system())
    assert order.invoice.items[0].description.splitlines()[1:] == [
        "RAM: 4 GB", "OS: Ubuntu", "Backups: Yes", "IPs: 3 x IP"]


def test_quantity_copies_the_options_to_each_service(session):
    product, options = catalog()
    chosen = values(options, RAM="4 GB", IPs=2)
    line = CartProduct(product.id, M, quantity=3, config_options=chosen)
    order = place_order(session, cart_for([line]), Actor.system())
    assert len(order.services) == 3
    for service in order.services:
        assert {row.option_id: (row.choice_id if row.option.name == "RAM" else row.quantity)
                for row in service.config_options if row.option.name in ("RAM", "IPs")} == chosen
        assert service.recurring_amount == D("10.00") + D("4.00") + 2 * D("1.25")
    assert order.amount == 3 * (D("15.00") + D("6.00") + 2 * D("1.75")) == D("73.50")


def test_price_override_covers_the_options(session):
    product, options = catalog()
    line = CartProduct(product.id, M, price_override=D("7.77"), config_options=values(options, OS="Windows"))
    order = place_order(session, cart_for([line]), Actor.system())
    (service,) = order.services
    assert service.first_payment_amount == service.recurring_amount == order.amount == D("7.77")
    assert [row.value for row in service.config_options if row.option.name == "OS"] == ["Windows"]


# (promotion fields, off the first payment, off each renewal) for RAM 4 GB + Windows + 1 IP, monthly:
# price 10 + 4 + 15 + 1.25 = 30.25, setup 5 + 2 + 10 + 0.50 = 17.50.
PROMOTIONS = [
    (dict(type="Percentage", value="10.00"), "4.78", "0.00"),  # 10% of 47.75, the options included
    (dict(type="Percentage", value="10.00", recurring=True), "4.78", "3.03"),
    (dict(type="Fixed Amount", value="40.00"), "40.00", "0.00"),  # more than the product alone
    (dict(type="Free Setup", value="0.00"), "17.50", "0.00"),  # the options' setup fees too
    (dict(type="Price Override", value="5.00", recurring=True), "25.25", "25.25"),
    (dict(type="Percentage", value="50.00", applies_to_products=["PRODUCT"]), "23.88", "0.00"),
]


@pytest.mark.parametrize(("fields", "first_off", "renewal_off"), PROMOTIONS)
def test_promotions_apply_to_the_option_amounts(session, fields, first_off, renewal_off):
    product, options = catalog()
    fields = dict(fields)
    if "applies_to_products" in fields:
        fields["applies_to_products"] = [product.id]
    promotion = factories.make_promotion(**fields)
    line = CartProduct(product.id, M, config_options=values(options, RAM="4 GB", OS="Windows"))
    order = place_order(session, cart_for([line], promotion.code), Actor.system())
    (service,) = order.services
    assert service.first_payment_amount == D("47.75") - D(first_off)
    assert service.recurring_amount == D("30.25") - D(renewal_off)
    assert order.amount == D("47.75") - D(first_off)
    promo_lines = [i.amount for i in order.invoice.items if i.type == InvoiceItemType.PROMO_HOSTING]
    assert promo_lines == [-D(first_off)]


def test_a_promotion_for_an_addon_only_leaves_the_options_alone(session):
    product, options = catalog()
    addon = factories.make_addon([product], {M: ("3.00", "1.50")})
    promotion = factories.make_promotion(type="Percentage", value="50.00", applies_to_addons=[addon.id])
    line = CartProduct(product.id, M, addon_ids=[addon.id], config_options=values(options, OS="Windows"))
    order = place_order(session, cart_for([line], promotion.code), Actor.system())
    (service,), (item,) = order.services, order.addons
    assert service.first_payment_amount == D("15.00") + D("16.25") + D("10.50")
    assert item.first_payment_amount == D("4.50") - D("2.25")
    assert order.amount == D("41.75") + D("2.25")


def row_counts(session) -> dict[str, int]:
    """How many rows every table has."""
    session.flush()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def refusal_cases(product, options, other_options):
    ram, os_, backups, ips = (options[n] for n in ("RAM", "OS", "Backups", "IPs"))
    field = "products-0-config_options"
    return [
        ({999999: 1}, field, "Unknown configurable option '999999'."),
        ({"ram": 1}, field, "Unknown configurable option 'ram'."),
        ({other_options["Disk"].id: other_options["Disk"].choices[0].id}, field,
         f"Disk is not an option of {product.name}."),
        ({ram.id: os_.choices[1].id}, f"{field}-{ram.id}", f"'{os_.choices[1].id}' is not a choice of RAM."),
        ({os_.id: "Windows"}, f"{field}-{os_.id}", "'Windows' is not a choice of OS."),
        ({backups.id: 2}, f"{field}-{backups.id}", "Backups must be 0 (no) or 1 (yes)."),
        ({ips.id: 0}, f"{field}-{ips.id}", "IPs must be between 1 and 8."),
        ({ips.id: 9}, f"{field}-{ips.id}", "IPs must be between 1 and 8."),
        ({ips.id: "2.5"}, f"{field}-{ips.id}", "IPs must be a whole number."),
        ({ips.id: 2.0}, f"{field}-{ips.id}", "IPs must be a whole number."),
        ({ips.id: True}, f"{field}-{ips.id}", "IPs must be a whole number."),
        ({ips.id: 10**30}, f"{field}-{ips.id}", "IPs must be a whole number."),
        (["not", "a", "map"], field, "Configurable options must map an option id to its value."),
    ]


def test_refusals_name_the_option_and_change_nothing(session):
    product, options = catalog()
    other = factories.make_product(prices=PRODUCT_PRICES)
    other_group = factories.make_option_group(
        [other], [("Disk", ConfigOptionType.DROPDOWN, {"50 GB": {M: ("1.00", "0.00")}}, 0, 0)])
    other_options = {o.name: o for o in other_group.options}
    cases = refusal_cases(product, options, other_options)
    client = factories.make_client()
    session.commit()
    for chosen, field, message in cases:
        cart = Cart(client_id=client.id, payment_method="banktransfer",
                    products=[CartProduct(product.id, M, config_options=chosen)])
        assert message in preview_order(session, cart).errors.get(field, []), chosen
        before = row_counts(session)
        with pytest.raises(PlacementError) as caught:
            place_order(session, cart, Actor.system())
        session.rollback()
        assert message in caught.value.errors[field], chosen
        assert row_counts(session) == before, chosen
