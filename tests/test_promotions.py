"""Promotions on placed orders: each type and rule, with exact totals on order, items and invoice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.cart import Cart, CartDomain, CartProduct, PlacementError
from actions.place import place_order
from models import (
    BillingCycle,
    InvoiceItemType,
    Order,
    OrderStatus,
    Promotion,
    PromotionType,
    Service,
    ServiceStatus,
    utcnow,
)
from tests import factories


@pytest.fixture
def product(session):
    return factories.make_product(
        prices={BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "0.00")}
    )


def place(session, code, products=(), domains=(), client=None):
    client = client or factories.make_client()
    cart = Cart(
        client_id=client.id,
        payment_method="banktransfer",
        promo_code=code,
        products=list(products),
        domains=list(domains),
    )
    return place_order(session, cart, Actor.system())


def refusal(session, code, products=(), domains=(), client=None) -> str:
    with pytest.raises(PlacementError) as caught:
        place(session, code, products, domains, client)
    return " ".join(caught.value.errors["promo_code"])


def lines(order):
    return [(item.type, item.amount) for item in order.invoice.items]


@pytest.mark.parametrize(
    "type_, value, discount, recurring",
    [
        (PromotionType.PERCENTAGE, "10.00", "1.50", "9.00"),  # 10% of 10 + 5 setup; renewals 10% of 10
        (PromotionType.PERCENTAGE, "33.33", "5.00", "6.67"),  # 4.9995 -> 5.00, 3.333 -> 3.33
        (PromotionType.FIXED_AMOUNT, "4.00", "4.00", "6.00"),
        (PromotionType.FIXED_AMOUNT, "50.00", "15.00", "0.00"),  # never more than the item costs
        (PromotionType.PRICE_OVERRIDE, "3.00", "7.00", "3.00"),  # price becomes 3, setup stays
        (PromotionType.FREE_SETUP, "0.00", "5.00", "10.00"),
    ],
)
def test_each_promotion_type_on_a_recurring_promotion(session, product, type_, value, discount, recurring):
    promotion = factories.make_promotion(type=type_, value=value, recurring=True)
    order = place(session, promotion.code, [CartProduct(product.id, BillingCycle.MONTHLY)])
    assert lines(order) == [
        (InvoiceItemType.HOSTING, Decimal("10.00")),
        (InvoiceItemType.SETUP, Decimal("5.00")),
        (InvoiceItemType.PROMO_HOSTING, -Decimal(discount)),
    ]
    assert order.amount == order.invoice.total == Decimal("15.00") - Decimal(discount)
    (service,) = order.services
    assert service.first_payment_amount == Decimal("15.00") - Decimal(discount)
    assert service.recurring_amount == Decimal(recurring)
    assert service.promotion_id == promotion.id
    assert (order.promo_code, order.promo_type, order.promo_value) == (promotion.code, type_, Decimal(value))
    assert session.get(Promotion, promotion.id).uses == 1


def test_non_recurring_promotion_leaves_renewals_at_full_price(session, product):
    promotion = factories.make_promotion(type=PromotionType.FIXED_AMOUNT, value="4.00", recurring=False)
    order = place(session, promotion.code, [CartProduct(product.id, BillingCycle.MONTHLY)])
    assert order.amount == Decimal("11.00")
    assert order.services[0].recurring_amount == Decimal("10.00")


def test_recur_for_keeps_the_discounted_renewal_and_the_promotion_link(session, product):
    promotion = factories.make_promotion(value="20.00", recurring=True, recur_for=2)
    order = place(session, promotion.code, [CartProduct(product.id, BillingCycle.ANNUALLY)])
    assert order.amount == Decimal("80.00")
    # The renewal run counts renewals by promotion_id and returns to full price after recur_for.
    assert order.services[0].recurring_amount == Decimal("80.00")
    assert order.services[0].promotion_id == promotion.id


def test_domain_discount_covers_addons_and_renewal(session):
    factories.make_tld(".com", register="12.00", renew="14.00", addons=("2.00", "0.00", "0.00"))
    promotion = factories.make_promotion(value="50.00", recurring=True, applies_to_tlds=[".com"])
    order = place(
        session, promotion.code, domains=[CartDomain("Register", "example.com", dns_management=True)]
    )
    assert lines(order) == [
        (InvoiceItemType.DOMAIN_REGISTER, Decimal("14.00")),
        (InvoiceItemType.PROMO_DOMAIN, Decimal("-7.00")),
    ]
    assert order.amount == Decimal("7.00")
    assert order.domains[0].recurring_amount == Decimal("8.00")  # 50% of 14 + 2


def test_applies_to_only_the_listed_products_and_tlds(session, product):
    other = factories.make_product(prices={BillingCycle.MONTHLY: ("20.00", "0.00")})
    factories.make_tld(".com", register="12.00")
    factories.make_tld(".net", register="10.00")
    promotion = factories.make_promotion(
        type=PromotionType.FIXED_AMOUNT,
        value="1.00",
        applies_to_products=[other.id],
        applies_to_tlds=[".net"],
    )
    order = place(
        session,
        promotion.code,
        [CartProduct(product.id), CartProduct(other.id)],
        [CartDomain("Register", "a.com"), CartDomain("Register", "a.net")],
    )
    assert [s.first_payment_amount for s in order.services] == [Decimal("15.00"), Decimal("19.00")]
    assert [d.first_payment_amount for d in order.domains] == [Decimal("12.00"), Decimal("9.00")]
    assert order.amount == Decimal("55.00")
    assert [s.promotion_id for s in order.services] == [None, promotion.id]


def test_apply_once_discounts_only_the_first_eligible_item(session, product):
    promotion = factories.make_promotion(type=PromotionType.FREE_SETUP, apply_once=True)
    order = place(session, promotion.code, [CartProduct(product.id, quantity=3)])
    assert [s.first_payment_amount for s in order.services] == [
        Decimal("10.00"),
        Decimal("15.00"),
        Decimal("15.00"),
    ]
    assert order.amount == Decimal("40.00")
    assert sum(1 for i in order.invoice.items if i.type == InvoiceItemType.PROMO_HOSTING) == 1


def test_without_apply_once_every_eligible_item_is_discounted(session, product):
    promotion = factories.make_promotion(type=PromotionType.FREE_SETUP)
    order = place(session, promotion.code, [CartProduct(product.id, quantity=3)])
    assert order.amount == Decimal("30.00")


def test_allowed_cycles(session, product):
    promotion = factories.make_promotion(cycles=[BillingCycle.ANNUALLY])
    order = place(session, promotion.code, [CartProduct(product.id, BillingCycle.ANNUALLY)])
    assert order.amount == Decimal("90.00")
    assert "does not apply to any item" in refusal(session, promotion.code, [CartProduct(product.id)])


def test_allowed_domain_periods(session):
    factories.make_tld(".com", register="10.00", years=(1, 2))
    promotion = factories.make_promotion(cycles=["2Years"])
    order = place(session, promotion.code, domains=[CartDomain("Register", "a.com", 2)])
    assert order.amount == Decimal("18.00")
    assert "does not apply" in refusal(session, promotion.code, domains=[CartDomain("Register", "b.com", 1)])


def test_requires_an_item_in_the_cart_or_already_owned(session, product):
    required = factories.make_product(prices={BillingCycle.MONTHLY: ("1.00", "0.00")})
    promotion = factories.make_promotion(requires_products=[required.id], applies_to_products=[product.id])
    assert "requires another item" in refusal(session, promotion.code, [CartProduct(product.id)])
    order = place(session, promotion.code, [CartProduct(product.id), CartProduct(required.id)])
    assert order.amount == Decimal("14.50")

    owner = factories.make_client()
    factories.make_order(client=owner, product=required, services=[ServiceStatus.ACTIVE])
    assert "requires another item" in refusal(
        session, promotion.code, [CartProduct(product.id)], client=owner
    )
    promotion.requires_existing = True
    assert place(session, promotion.code, [CartProduct(product.id)], client=owner).amount == Decimal("13.50")


def test_start_and_expiry_dates(session, product):
    today = utcnow().date()
    future = factories.make_promotion(start_date=today + timedelta(days=1))
    assert f"not valid until {today + timedelta(days=1)}" in refusal(
        session, future.code, [CartProduct(product.id)]
    )
    expired = factories.make_promotion(expiration_date=today - timedelta(days=1))
    assert "expired on" in refusal(session, expired.code, [CartProduct(product.id)])
    current = factories.make_promotion(start_date=today, expiration_date=today)
    assert place(session, current.code, [CartProduct(product.id)]).amount == Decimal("13.50")


def test_max_uses_counts_each_order_once_and_then_refuses(session, product):
    promotion = factories.make_promotion(max_uses=2)
    place(session, promotion.code, [CartProduct(product.id, quantity=2)])
    place(session, promotion.code, [CartProduct(product.id)])
    assert session.get(Promotion, promotion.id).uses == 2
    orders = session.scalar(select(func.count(Order.id)))
    assert "maximum number of uses" in refusal(session, promotion.code, [CartProduct(product.id)])
    assert session.scalar(select(func.count(Order.id))) == orders
    assert session.get(Promotion, promotion.id).uses == 2


def test_once_per_client(session, product):
    promotion = factories.make_promotion(once_per_client=True)
    client = factories.make_client()
    place(session, promotion.code, [CartProduct(product.id)], client=client)
    assert "once per client" in refusal(session, promotion.code, [CartProduct(product.id)], client=client)
    assert place(session, promotion.code.lower(), [CartProduct(product.id)]).promo_code == promotion.code


def test_once_per_client_ignores_a_cancelled_order(session, product):
    promotion = factories.make_promotion(once_per_client=True)
    client = factories.make_client()
    factories.make_order(client=client, status=OrderStatus.CANCELLED, promo_code=promotion.code)
    assert place(session, promotion.code, [CartProduct(product.id)], client=client).amount == Decimal("13.50")


def test_new_signups_only(session, product):
    promotion = factories.make_promotion(new_signups=True)
    client = factories.make_client()
    assert place(session, promotion.code, [CartProduct(product.id)], client=client).amount == Decimal("13.50")
    assert "new signups only" in refusal(session, promotion.code, [CartProduct(product.id)], client=client)


def test_existing_clients_only(session, product):
    promotion = factories.make_promotion(existing_client=True)
    client = factories.make_client()
    assert "existing clients" in refusal(session, promotion.code, [CartProduct(product.id)], client=client)
    factories.make_order(client=client, services=[ServiceStatus.PENDING])
    assert "existing clients" in refusal(session, promotion.code, [CartProduct(product.id)], client=client)
    session.scalars(select(Service).where(Service.client_id == client.id)).one().status = ServiceStatus.ACTIVE
    assert place(session, promotion.code, [CartProduct(product.id)], client=client).amount == Decimal("13.50")


def test_unknown_code(session, product):
    assert "NOPE does not exist" in refusal(session, "NOPE", [CartProduct(product.id)])
