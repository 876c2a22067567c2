"""Promotions: is a code valid for this client and cart, what does it take off, and counting uses.

The rules (reference/whmcs-order-management.md §5.2) are pure functions over loaded data, so the
live total preview and the placement agree; only `load_client_history` and `claim_promotion_use`
touch the database.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session

from models import (
    ZERO,
    Domain,
    DomainStatus,
    Order,
    OrderStatus,
    Promotion,
    PromotionType,
    Service,
    ServiceStatus,
)

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def find_promotion(session: Session, code: str) -> Promotion | None:
    return session.scalar(select(Promotion).where(func.lower(Promotion.code) == code.strip().lower()))


def domain_cycle(years: int) -> str:
    """How a registration period is named in a promotion's allowed cycles (WHMCS "1Years")."""
    return f"{years}Years"


@dataclass(frozen=True)
class ClientHistory:
    """What a client already has, as far as promotion rules care."""

    has_orders: bool = False
    used_code: bool = False
    has_active_service: bool = False
    owned_product_ids: frozenset[int] = field(default_factory=frozenset)
    owned_tlds: frozenset[str] = field(default_factory=frozenset)


def load_client_history(
    session: Session, client_id: int, code: str, excluding_order_id: int | None = None
) -> ClientHistory:
    """`excluding_order_id`: an order being amended, which is not history of its own."""
    counted = Order.status.notin_([OrderStatus.CANCELLED, OrderStatus.FRAUD])
    others = Order.id != excluding_order_id if excluding_order_id is not None else true()
    has_orders = session.scalar(
        select(Order.id).where(Order.client_id == client_id, others).limit(1)) is not None
    used_code = (
        session.scalar(
            select(Order.id)
            .where(Order.client_id == client_id, func.lower(Order.promo_code) == code.lower(), counted,
                   others)
            .limit(1)
        )
        is not None
    )
    owned_products = frozenset(
        session.scalars(
            select(Service.product_id).where(
                Service.client_id == client_id, Service.status == ServiceStatus.ACTIVE
            )
        )
    )
    owned_domains = session.scalars(
        select(Domain.name).where(Domain.client_id == client_id, Domain.status == DomainStatus.ACTIVE)
    )
    owned_tlds = frozenset("." + name.split(".", 1)[1] for name in owned_domains if "." in name)
    return ClientHistory(
        has_orders=has_orders,
        used_code=used_code,
        has_active_service=bool(owned_products),
        owned_product_ids=owned_products,
        owned_tlds=owned_tlds,
    )


def promotion_problem(
    promotion: Promotion,
    *,
    today: date,
    history: ClientHistory,
    cart_product_ids: set[int],
    cart_tlds: set[str],
) -> str | None:
    """Why this code cannot be used on this order, or None when it can."""
    code = promotion.code
    if promotion.start_date and today < promotion.start_date:
        return f"Promotion code {code} is not valid until {promotion.start_date.isoformat()}."
    if promotion.expiration_date and today > promotion.expiration_date:
        return f"Promotion code {code} expired on {promotion.expiration_date.isoformat()}."
    if promotion.max_uses and promotion.uses >= promotion.max_uses:
        return f"Promotion code {code} has reached its maximum number of uses."
    if promotion.new_signups and history.has_orders:
        return f"Promotion code {code} is for new signups only."
    if promotion.existing_client and not history.has_active_service:
        return f"Promotion code {code} is for existing clients with an active service only."
    if promotion.once_per_client and history.used_code:
        return f"Promotion code {code} can be used only once per client and this client has used it."
    if promotion.requires_products or promotion.requires_tlds:
        product_ids, tlds = set(cart_product_ids), set(cart_tlds)
        if promotion.requires_existing:
            product_ids |= history.owned_product_ids
            tlds |= history.owned_tlds
        if not (product_ids & set(promotion.requires_products) or tlds & set(promotion.requires_tlds)):
            return f"Promotion code {code} requires another item that is not in this order."
    return None


def applies_to_product(promotion: Promotion, product_id: int, cycle: str) -> bool:
    if promotion.cycles and cycle not in promotion.cycles:
        return False
    if lists_items(promotion):
        return product_id in promotion.applies_to_products
    return True  # nothing listed: every item


def applies_to_domain(promotion: Promotion, tld: str, years: int) -> bool:
    if promotion.cycles and domain_cycle(years) not in promotion.cycles:
        return False
    if lists_items(promotion):
        return tld in promotion.applies_to_tlds
    return True


def applies_to_addon(promotion: Promotion, addon_id: int, cycle: str) -> bool:
    if promotion.cycles and cycle not in promotion.cycles:
        return False
    if lists_items(promotion):
        return addon_id in (promotion.applies_to_addons or [])
    return True


def lists_items(promotion: Promotion) -> bool:
    """WHMCS "Applies To": products, addons and TLDs in one list; empty means every item."""
    return bool(promotion.applies_to_products or promotion.applies_to_tlds or promotion.applies_to_addons)


def promotion_value(promotion: Promotion, currency_id: int | None, is_default: bool) -> Decimal | None:
    """The promotion's value in a currency: a percentage everywhere; a Fixed Amount or Price
    Override in the default currency is `value`, in another its PromotionAmount (None: none)."""
    if is_default or promotion.type not in (PromotionType.FIXED_AMOUNT, PromotionType.PRICE_OVERRIDE):
        return promotion.value
    return next((a.value for a in promotion.amounts if a.currency_id == currency_id), None)


def discounts(promotion: Promotion, price: Decimal, setup_fee: Decimal,
              value: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(off the first payment, off each renewal) for one item; never more than the item costs.
    `value` is the promotion's value in the item's currency (promotion_value); default its own.

    Percentage and Fixed Amount come off price + setup fee; Price Override makes the price `value`
    (the setup fee stays); Free Setup removes the setup fee. Renewals are discounted only for a
    recurring promotion (recur-for is counted by the renewal run, from the item's promotion_id).
    """
    value = promotion.value if value is None else value
    if promotion.type == PromotionType.PERCENTAGE:
        first, renewal = cents((price + setup_fee) * value / 100), cents(price * value / 100)
    elif promotion.type == PromotionType.FIXED_AMOUNT:
        first, renewal = min(value, price + setup_fee), min(value, price)
    elif promotion.type == PromotionType.PRICE_OVERRIDE:
        first = renewal = max(price - value, ZERO)
    elif promotion.type == PromotionType.FREE_SETUP:
        first, renewal = setup_fee, ZERO
    else:
        raise ValueError(f"Unknown promotion type {promotion.type!r}")
    return first, (renewal if promotion.recurring else ZERO)


def claim_promotion_use(session: Session, promotion_id: int) -> bool:
    """Count one use; False when the cap is reached. One conditional UPDATE, so concurrent orders
    can never push uses past max_uses (the row lock serializes them; the loser re-checks)."""
    result = session.execute(
        update(Promotion)
        .where(
            Promotion.id == promotion_id, (Promotion.max_uses == 0) | (Promotion.uses < Promotion.max_uses)
        )
        .values(uses=Promotion.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_promotion_use(session: Session, promotion_id: int) -> None:
    """Undo a claim in the same transaction, when a later step refuses the order."""
    session.execute(
        update(Promotion)
        .where(Promotion.id == promotion_id)
        .values(uses=Promotion.uses - 1)
        .execution_options(synchronize_session=False)
    )
