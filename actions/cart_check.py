"""Checking a cart before it becomes (or replaces) an order's items, and taking what it uses.

    check_cart(session, cart, status, amending=None) -> (quote, client, promotion)
        every problem placing the cart would hit, keyed by form field (quote.errors); writes nothing
    claim_promotion_and_stock(session, quote, promotion)   one promotion use and the stock, or
        PlacementError with nothing taken
    give_back_stock(session, product_counts)               the stock of services an amend removes

Placement (actions.place) and amending a pending order (actions.amend_order) share them, so an
amended order is checked and priced exactly as a new one. `amending`: the order being amended; its
own promotion code is not re-validated (it was when the order was placed) and the client's history
for the promotion rules leaves the order out (it must not count as "already used the code").
"""

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions.cart import Cart, PlacementError, product_field
from actions.custom_fields import check_cart_fields
from actions.pricing import Quote, load_catalog, price_cart
from actions.promotions import (
    claim_promotion_use,
    find_promotion,
    load_client_history,
    promotion_problem,
    release_promotion_use,
)
from models import (
    Affiliate,
    Client,
    ClientStatus,
    Gateway,
    Order,
    OrderStatusDefinition,
    Product,
    Promotion,
    utcnow,
)


def check_cart(
    session: Session, cart: Cart, status: str, amending: Order | None = None
) -> tuple[Quote, Client | None, Promotion | None]:
    header: dict[str, list[str]] = {}
    client = session.get(Client, cart.client_id) if cart.client_id else None
    if client is None:
        header["client_id"] = ["Choose a client." if not cart.client_id else "Unknown client."]
    elif client.status == ClientStatus.CLOSED:
        header["client_id"] = ["Unable to add order when client status is Closed"]
    if not cart.payment_method:
        header["payment_method"] = ["Choose a payment method."]
    elif (
        session.scalar(select(Gateway.id).where(Gateway.name == cart.payment_method, Gateway.active)) is None
    ):
        header["payment_method"] = [f"Unknown payment method {cart.payment_method!r}."]
    if session.scalar(select(OrderStatusDefinition.id).where(OrderStatusDefinition.title == status)) is None:
        header["status"] = [f"Unknown order status {status!r}."]
    if cart.affiliate_id is not None and session.get(Affiliate, cart.affiliate_id) is None:
        header["affiliate_id"] = ["Unknown affiliate."]
    if not cart.products and not cart.domains:
        header["cart"] = ["Add at least one product or domain."]

    promotion = None
    code = cart.promo_code.strip()
    if code:
        promotion = find_promotion(session, code)
        if promotion is None:
            header["promo_code"] = [f"Promotion code {code} does not exist."]

    catalog = load_catalog(session, cart, client.currency if client is not None else None)
    usable_promotion = promotion if promotion is not None and client is not None else None
    quote = price_cart(cart, catalog, None)
    kept_code = amending is not None and code.lower() == (amending.promo_code or "").lower()
    if usable_promotion is not None and not quote.errors:
        problem = None
        if not kept_code:
            history = load_client_history(session, client.id, usable_promotion.code,
                                          excluding_order_id=amending.id if amending else None)
            problem = promotion_problem(
                usable_promotion,
                today=utcnow().date(),
                history=history,
                cart_product_ids={s.product.id for s in quote.services},
                cart_tlds={d.tld.extension for d in quote.domains},
            )
        if problem:
            header["promo_code"] = [problem]
        else:
            quote = price_cart(cart, catalog, usable_promotion)
    header |= check_cart_fields(
        session, cart, {i: catalog.products[line.product_id] for i, line in enumerate(cart.products)
                        if line.product_id in catalog.products})
    for name, messages in header.items():
        quote.errors.setdefault(name, []).extend(messages)
    return quote, client, promotion


def claim_promotion_and_stock(session: Session, quote: Quote, promotion: Promotion | None) -> None:
    """Take one promotion use and the stock with conditional UPDATEs (safe under concurrency);
    when one is refused, give back what was taken so the refusal changes nothing."""
    if promotion is not None:
        if not claim_promotion_use(session, promotion.id):
            raise PlacementError(
                {"promo_code": [f"Promotion code {promotion.code} has reached its maximum number of uses."]}
            )
        session.expire(promotion, ["uses"])
    wanted: dict[int, tuple[int, Product]] = {}
    for item in quote.services:
        if item.product.stock_control:
            count, _ = wanted.get(item.product.id, (0, item.product))
            wanted[item.product.id] = (count + 1, item.product)
    taken: list[tuple[int, int]] = []
    for product_id, (count, product) in wanted.items():
        claimed = (
            session.execute(
                update(Product)
                .where(Product.id == product_id, Product.stock_quantity >= count)
                .values(stock_quantity=Product.stock_quantity - count)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
        if not claimed:
            give_back_stock(session, dict(taken))
            if promotion is not None:
                release_promotion_use(session, promotion.id)
            line = next(s.line for s in quote.services if s.product.id == product_id)
            raise PlacementError({product_field(line, "quantity"): [f"{product.name} is out of stock."]})
        taken.append((product_id, count))
        session.expire(product, ["stock_quantity"])


def give_back_stock(session: Session, product_counts: dict[int, int]) -> None:
    """Return `count` units to each stock-controlled product (`product_counts`: product id -> count)."""
    for product_id, count in product_counts.items():
        session.execute(
            update(Product)
            .where(Product.id == product_id, Product.stock_control)
            .values(stock_quantity=Product.stock_quantity + count)
            .execution_options(synchronize_session=False)
        )
