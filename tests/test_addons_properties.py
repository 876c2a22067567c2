"""price_cart with addons, as a property (hypothesis, fixed budget, derandomized): whatever the prices,
setup fees, cycles, quantity and promotion, every amount is exact to the cent, never negative, the
total is the sum of what each item's first payment bills, and quantity N gives N identical copies.
Pure: transient catalog rows, no database."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.cart import Cart, CartProduct
from actions.pricing import Catalog, price_cart
from models import Addon, AddonPrice, BillingCycle, Product, ProductPrice, Promotion, PromotionType

CENT = Decimal("0.01")
money = st.integers(min_value=0, max_value=99_999_99).map(lambda cents: Decimal(cents) * CENT)
cycles = st.sampled_from([BillingCycle.MONTHLY, BillingCycle.ANNUALLY, BillingCycle.ONE_TIME])
addon_rows = st.lists(st.tuples(st.sets(cycles, min_size=1), money, money), min_size=0, max_size=4)
promotions = st.one_of(st.none(), st.tuples(st.sampled_from(list(PromotionType)), money, st.booleans(),
                                            st.booleans(), st.booleans()))


def _catalog(price, setup, addons) -> tuple[Product, list[Addon], Catalog]:
    product = Product(id=1, name="Plan", retired=False, requires_domain=False)
    product.prices = [ProductPrice(cycle=c, price=price, setup_fee=setup) for c in BillingCycle]
    rows = []
    for i, (sold_on, addon_price, addon_setup) in enumerate(addons, start=1):
        addon = Addon(id=i, name=f"Addon {i}", retired=False)
        addon.prices = [AddonPrice(cycle=c, price=addon_price, setup_fee=addon_setup)
                        for c in sorted(sold_on)]
        addon.products = [product]
        rows.append(addon)
    return product, rows, Catalog(products={1: product}, tlds={}, addons={a.id: a for a in rows})


def _promotion(fields) -> Promotion | None:
    if fields is None:
        return None
    type_, value, recurring, apply_once, addons_only = fields
    if type_ == PromotionType.PERCENTAGE:
        value = min(value, Decimal("100.00"))
    return Promotion(code="P", type=type_, value=value, recurring=recurring, apply_once=apply_once,
                     cycles=[], applies_to_products=[], applies_to_tlds=[],
                     applies_to_addons=[1, 2] if addons_only else [])


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(price=money, setup=money, cycle=cycles, addons=addon_rows, quantity=st.integers(1, 5),
       promo=promotions)
def test_addon_pricing_is_exact_and_adds_up(price, setup, cycle, addons, quantity, promo):
    product, rows, catalog = _catalog(price, setup, addons)
    offered = [a.id for a in rows if cycle in {p.cycle for p in a.prices} or
               BillingCycle.ONE_TIME in {p.cycle for p in a.prices}]
    cart = Cart(client_id=1, products=[CartProduct(1, cycle, quantity=quantity, addon_ids=offered)])
    promotion = _promotion(promo)
    quote = price_cart(cart, catalog, promotion)
    if quote.errors:  # only a promotion that applies to nothing in the cart, or a total too large
        assert set(quote.errors) <= {"promo_code", "products-0-quantity"}, quote.errors
        return

    assert len(quote.services) == quantity
    # N copies of the line's addons (an apply-once promotion discounts only the first one it meets).
    assert len({tuple((a.addon.id, a.cycle, a.price, a.setup_fee) for a in s.addons)
                for s in quote.services}) == 1
    assert [a.addon.id for a in quote.services[0].addons] == offered
    items = [*quote.services, *quote.addons]
    for item in items:
        for amount in (item.price, item.setup_fee, item.discount, item.first_payment, item.recurring_amount):
            assert amount == amount.quantize(CENT) and amount >= 0, item
        assert item.discount <= item.price + item.setup_fee
    for addon in quote.addons:
        sold_on = {p.cycle for p in addon.addon.prices}
        assert addon.cycle == (cycle if cycle in sold_on else BillingCycle.ONE_TIME)
        if addon.cycle == BillingCycle.ONE_TIME:
            assert addon.recurring_amount == 0
    assert quote.total == sum((i.first_payment for i in items), Decimal("0.00"))
    assert quote.total == quote.subtotal - quote.discount
    if promotion is None:
        assert quote.discount == 0
        addons_each = sum((a.price + a.setup_fee for a in quote.services[0].addons), Decimal("0.00"))
        assert quote.total == quantity * (price + setup + addons_each)
