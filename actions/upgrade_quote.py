"""Pricing an upgrade / downgrade of a live service (docs/upgrades.md has the rule and an example).

    prorate(old_price, new_price, old_cycle, new_cycle, next_due, today) -> Proration     pure
    quote_upgrade(session, service, product_id, cycle, option_values, today) -> UpgradeQuote

The new price is the catalog's, priced by actions.pricing exactly as placing the product with
those options and cycle would be; the old price is what the service recurs at now. The difference
is prorated WHMCS's way over the days left until the next due date, rounded half up to cents.
A refusal raises TransitionError with nothing loaded changed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from actions.cart import Cart, CartProduct
from actions.config_options import OptionQuote, stored_values
from actions.errors import ErrorCode, TransitionError
from actions.pricing import load_catalog, price_cart
from models import ZERO, BillingCycle, Product, Service, ServiceStatus
from models.billing_dates import add_months
from models.bounds import is_id, parse_id

CENT = Decimal("0.01")
CYCLES = frozenset(c.value for c in BillingCycle if c.months)  # One Time has no period to prorate
CYCLE_NAMES = [c.value for c in BillingCycle if c.value in CYCLES]  # in cycle order, for messages and selects


@dataclass(frozen=True)
class Proration:
    days_remaining: int  # from today to the next due date (0 on the due date)
    days_in_cycle: int  # of the current period: next due date back one old cycle
    amount: Decimal  # signed: above zero the client pays it, below zero it is owed back
    new_next_due_date: date

    @property
    def charge(self) -> Decimal:
        return max(self.amount, ZERO)

    @property
    def credit(self) -> Decimal:
        return max(-self.amount, ZERO)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def prorate(old_price: Decimal, new_price: Decimal, old_cycle: str, new_cycle: str, next_due: date,
            today: date) -> Proration:
    """Same cycle: (new - old) x days remaining / days in the cycle, the due date kept. A cycle
    change: the new cycle's full price from today less the unused part of the old one, due one new
    cycle from today."""
    start = add_months(next_due, -BillingCycle(old_cycle).months)
    days_in_cycle, remaining = (next_due - start).days, (next_due - today).days
    if new_cycle == old_cycle:
        amount = cents((new_price - old_price) * remaining / days_in_cycle)
        return Proration(remaining, days_in_cycle, amount, next_due)
    unused = cents(old_price * remaining / days_in_cycle)
    return Proration(remaining, days_in_cycle, new_price - unused,
                     add_months(today, BillingCycle(new_cycle).months))


@dataclass(frozen=True)
class UpgradeQuote:
    service: Service
    product: Product
    cycle: str
    options: tuple[OptionQuote, ...]
    old_price: Decimal
    new_price: Decimal
    proration: Proration

    @property
    def is_downgrade(self) -> bool:
        return self.proration.amount < ZERO


def _refuse(message: str, code: str = ErrorCode.NOT_ALLOWED) -> TransitionError:
    return TransitionError(code, message)


def _by_id(values: dict) -> dict:
    """Posted keys ("12") as option ids (12), so they replace the stored values they name; a key
    that is no id stays as it is, for pricing to refuse by name."""
    return {(parse_id(key) if is_id(key) else key): value for key, value in values.items()}


def _same_options(service: Service, options: tuple[OptionQuote, ...]) -> bool:
    stored = {(row.option_id, row.choice_id, row.quantity) for row in service.config_options}
    return stored == {(o.option.id, o.choice.id, o.quantity) for o in options}


def refusal_for(service: Service, today: date) -> str | None:
    """Why this service cannot be upgraded or downgraded now (None: it can)."""
    if service.status != ServiceStatus.ACTIVE:
        return f"Only an Active service can be upgraded or downgraded; this one is {service.status}."
    if service.billing_cycle not in CYCLES or service.next_due_date is None:
        return "A One Time service has no period to prorate: it cannot be upgraded or downgraded."
    if service.next_due_date < today:
        return (f"The service was due on {service.next_due_date.isoformat()}: renew it before "
                "upgrading or downgrading.")
    return None


def quote_upgrade(session: Session, service: Service, product_id: int, cycle: str, option_values: dict,
                  today: date) -> UpgradeQuote:
    problem = refusal_for(service, today)
    if problem:
        raise _refuse(problem)
    if cycle not in CYCLES:
        known = "" if cycle == BillingCycle.ONE_TIME else f"{cycle[:20]!r} is not a billing cycle. "
        raise _refuse(f"{known}Choose a billing cycle other than One Time: {', '.join(CYCLE_NAMES)}.",
                      ErrorCode.INVALID_OPTION)
    line = CartProduct(product_id, cycle, domain=service.domain)
    cart = Cart(service.client_id, products=[line])
    catalog = load_catalog(session, cart, service.client.currency)
    product = catalog.products.get(product_id)
    if product is None:
        raise _refuse(f"There is no product {product_id}.", ErrorCode.NOT_FOUND)
    if product.group_name != service.product.group_name:
        raise _refuse(f"{product.name} is not in the {service.product.group_name or 'same'} product group: "
                      "upgrades and downgrades stay within the service's group.", ErrorCode.INVALID_OPTION)
    known = {o.id for o in catalog.options.by_product.get(product_id, [])}
    kept = {option_id: value for option_id, value in stored_values(service).items() if option_id in known}
    line.config_options = {**kept, **_by_id(option_values)}  # the new product's options keep their values
    priced = price_cart(cart, catalog)
    if priced.errors:
        raise _refuse(" ".join(m for messages in priced.errors.values() for m in messages),
                      ErrorCode.INVALID_OPTION)
    item = priced.services[0]
    if product.id == service.product_id and cycle == service.billing_cycle and _same_options(service,
                                                                                            item.options):
        raise _refuse("Nothing would change: choose another product, option value or cycle.",
                      ErrorCode.SAME_STATUS)
    old = service.recurring_amount
    proration = prorate(old, item.recurring_amount, service.billing_cycle, cycle, service.next_due_date,
                        today)
    return UpgradeQuote(service, product, cycle, item.options, old, item.recurring_amount, proration)
