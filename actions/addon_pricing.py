"""Pricing the addons of a cart's product line (called by actions.pricing, pure like it).

An addon is billed on its service's cycle when it is sold on that cycle, otherwise on its One Time
price when it has one (a one-off addon: a setup, a licence); an addon sold on neither cannot go
with that service. Every service of a line with quantity N gets the line's addons.
"""

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.cart import Cart, product_field
from actions.promotions import applies_to_addon, discounts
from models import ZERO, Addon, BillingCycle, Product, Promotion

MAX_ADDONS_PER_LINE = 50


@dataclass(frozen=True)
class AddonQuote:
    addon: Addon
    cycle: str
    price: Decimal
    setup_fee: Decimal
    recurring_amount: Decimal
    discount: Decimal = ZERO
    promoted: bool = False

    @property
    def first_payment(self) -> Decimal:
        return self.price + self.setup_fee - self.discount


def load_addons(session: Session, cart: Cart) -> dict[int, Addon]:
    """The addons this cart names, with their prices and products (one query each)."""
    ids = {i for line in cart.products for i in line.addon_ids if isinstance(i, int)}
    if not ids:
        return {}
    rows = session.scalars(
        select(Addon)
        .where(Addon.id.in_(ids))
        .options(selectinload(Addon.prices), selectinload(Addon.products))
    )
    return {a.id: a for a in rows}


def addon_cycle(addon: Addon, service_cycle: str, currency_id: int | None) -> str | None:
    cycles = {p.cycle for p in addon.prices if p.currency_id == currency_id}
    if service_cycle in cycles:
        return service_cycle
    return BillingCycle.ONE_TIME if BillingCycle.ONE_TIME in cycles else None


def price_addons(
    addon_ids: list, product: Product, cycle: str, addons: dict[int, Addon], currency_id: int | None
) -> tuple[tuple[AddonQuote, ...], list[str]]:
    """The quotes for one service of the line in its currency, or the problems (then no quotes)."""
    problems: list[str] = []
    if len(addon_ids) > MAX_ADDONS_PER_LINE:
        return (), [f"At most {MAX_ADDONS_PER_LINE} addons per product."]
    if len(set(addon_ids)) != len(addon_ids):
        problems.append("An addon is listed twice; choose each addon once.")
    quotes = []
    for addon_id in addon_ids:
        addon = addons.get(addon_id)
        if addon is None:
            problems.append(f"Unknown addon {addon_id}.")
            continue
        if addon.retired:
            problems.append(f"{addon.name} is retired and can no longer be ordered.")
            continue
        if product.id not in {p.id for p in addon.products}:
            problems.append(f"{addon.name} is not available for {product.name}.")
            continue
        chosen = addon_cycle(addon, cycle, currency_id)
        if chosen is None:
            priced_elsewhere = addon.prices and not any(p.currency_id == currency_id for p in addon.prices)
            problems.append(f"{addon.name} has no pricing in this client's currency." if priced_elsewhere
                            else f"{addon.name} is not offered with the {cycle} billing cycle.")
            continue
        row = next(p for p in addon.prices if p.cycle == chosen and p.currency_id == currency_id)
        recurring = ZERO if chosen == BillingCycle.ONE_TIME else row.price
        quotes.append(AddonQuote(addon, chosen, row.price, row.setup_fee, recurring))
    return (() if problems else tuple(quotes)), problems


def addon_field(index: int) -> str:
    return product_field(index, "addon_ids")


def promote_addon(promotion: Promotion, value: Decimal, item: AddonQuote) -> AddonQuote | None:
    """The addon with the promotion's discount (`value` in the order's currency), or None when the
    promotion is not for it."""
    if not applies_to_addon(promotion, item.addon.id, item.cycle):
        return None
    first, _ = discounts(promotion, item.price, item.setup_fee, value)
    _, renewal = discounts(promotion, item.recurring_amount, ZERO, value)
    return replace(item, discount=first, recurring_amount=item.recurring_amount - renewal, promoted=True)
