"""Pricing a cart: product prices per cycle, TLD prices per period, overrides and the promotion.

`price_cart` is pure (loaded catalog rows in, a Quote out), so placing an order and the live
total preview on the Add New Order page compute the same numbers. It also reports every line it
cannot price, keyed by form field name.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.addon_pricing import AddonQuote, addon_field, load_addons, price_addons, promote_addon
from actions.cart import (
    DOMAIN_TYPES,
    Cart,
    DomainNameError,
    domain_field,
    normalize_domain_name,
    product_field,
)
from actions.config_options import (
    OptionCatalog,
    OptionQuote,
    load_config_options,
    options_price,
    price_config_options,
)
from actions.promotions import applies_to_domain, applies_to_product, discounts, promotion_value
from models import (
    ZERO,
    Addon,
    BillingCycle,
    Currency,
    DomainOrderType,
    Product,
    Promotion,
    Tld,
    TldPrice,
    default_currency,
)
from models.bounds import MAX_MONEY, MAX_QUANTITY
from models.currency import ONE


@dataclass(frozen=True)
class ServiceQuote:
    """One service to create (a quantity of N gives N of these)."""

    line: int
    product: Product
    cycle: str
    domain: str
    price: Decimal
    setup_fee: Decimal
    recurring_amount: Decimal
    discount: Decimal = ZERO
    promoted: bool = False
    addons: tuple[AddonQuote, ...] = ()  # billed on their own lines, attached to this service
    options: tuple[OptionQuote, ...] = ()  # configurable options, included in price and setup_fee

    @property
    def first_payment(self) -> Decimal:
        return self.price + self.setup_fee - self.discount


@dataclass(frozen=True)
class DomainQuote:
    line: int
    name: str
    type: str
    period_years: int
    tld: Tld
    price: Decimal  # registration or transfer for the period
    addons: Decimal  # DNS management / email forwarding / ID protection for the period
    recurring_amount: Decimal
    discount: Decimal = ZERO
    promoted: bool = False

    @property
    def first_payment(self) -> Decimal:
        return self.price + self.addons - self.discount


@dataclass
class Quote:
    services: list[ServiceQuote] = field(default_factory=list)
    domains: list[DomainQuote] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    currency_id: int | None = None  # the catalog's, and its rate today (the order records both)
    currency_rate: Decimal = ONE
    promo_value: Decimal | None = None  # the promotion's value in that currency, when one applied

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def addons(self) -> list[AddonQuote]:
        return [a for s in self.services for a in s.addons]

    @property
    def subtotal(self) -> Decimal:
        return (
            sum((s.price + s.setup_fee for s in self.services), ZERO)
            + sum((a.price + a.setup_fee for a in self.addons), ZERO)
            + sum((d.price + d.addons for d in self.domains), ZERO)
        )

    @property
    def discount(self) -> Decimal:
        return sum((i.discount for i in [*self.services, *self.addons, *self.domains]), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount


@dataclass
class Catalog:
    products: dict[int, Product]
    tlds: dict[str, Tld]  # ".co.uk" -> Tld
    addons: dict[int, Addon] = field(default_factory=dict)
    options: OptionCatalog = field(default_factory=lambda: OptionCatalog({}, {}))
    # The client's currency: only price rows in it count (models/currency.py).
    currency_id: int | None = None
    currency_code: str = ""
    currency_rate: Decimal = ONE
    default_currency: bool = True  # TLD addon prices (DNS management...) are in the default one only


def in_currency(rows, currency_id: int | None) -> list:
    """The price rows of one currency."""
    return [row for row in rows if row.currency_id == currency_id]


def _suffixes(name: str) -> list[str]:
    labels = name.lower().strip().rstrip(".").split(".")
    return ["." + ".".join(labels[i:]) for i in range(1, len(labels))]


def tld_of(name: str, tlds: dict[str, Tld]) -> Tld | None:
    """The longest TLD in `tlds` (by extension) that `name` ends with ("x.co.uk": .co.uk before .uk)."""
    return next((tlds[s] for s in _suffixes(name) if s in tlds), None)


def find_tld(session: Session, name: str) -> Tld | None:
    """The TLD a domain name is sold under (one query)."""
    tlds = session.scalars(select(Tld).where(Tld.extension.in_(_suffixes(name))))
    return tld_of(name, {t.extension: t for t in tlds})


def load_catalog(session: Session, cart: Cart, currency: Currency | None) -> Catalog:
    """Only the products and TLDs this cart mentions, with their prices (two queries), priced in
    `currency` (the client's; None: the default currency, for a cart without a client yet)."""
    currency = currency or default_currency(session)
    ids = {line.product_id for line in cart.products if isinstance(line.product_id, int)}
    products = session.scalars(
        select(Product).where(Product.id.in_(ids)).options(selectinload(Product.prices))
    )
    candidates = {suffix for line in cart.domains for suffix in _suffixes(line.name or "")}
    tlds = session.scalars(select(Tld).where(Tld.extension.in_(candidates)).options(selectinload(Tld.prices)))
    return Catalog(
        products={p.id: p for p in products},
        tlds={t.extension: t for t in tlds},
        addons=load_addons(session, cart),
        options=load_config_options(session, cart),
        currency_id=currency.id,
        currency_code=currency.code,
        currency_rate=currency.rate,
        default_currency=currency.is_default,
    )


def shortest_cycle(product: Product, currency_id: int | None) -> str | None:
    """WHMCS: with no cycle and no override, "the pricing from the shortest configured billing
    cycle". One Time counts only when it is the sole cycle."""
    cycles = [BillingCycle(p.cycle) for p in in_currency(product.prices, currency_id)]
    return min(cycles, key=lambda c: (c.months == 0, c.months), default=None)


def price_cart(cart: Cart, catalog: Catalog, promotion: Promotion | None = None) -> Quote:
    quote = Quote(currency_id=catalog.currency_id, currency_rate=catalog.currency_rate)
    for index, line in enumerate(cart.products):
        _price_product(quote, index, line, catalog)
    for index, line in enumerate(cart.domains):
        _price_domain(quote, index, line, catalog)
    if promotion is not None and not quote.errors:
        value = promotion_value(promotion, catalog.currency_id, catalog.default_currency)
        if value is None:
            quote.add_error("promo_code", f"Promotion code {promotion.code} has no amount in "
                            f"{catalog.currency_code}.")
        else:
            quote.promo_value = value
            _apply_promotion(quote, promotion, value)
    if not quote.errors and quote.subtotal > MAX_MONEY:  # each line fits, their sum must too
        quote.add_error(product_field(0, "quantity") if cart.products else domain_field(0, "name"),
                        f"The order total would be more than {MAX_MONEY:,}; split it into several orders.")
    return quote


def _price_product(quote: Quote, index: int, line, catalog: Catalog) -> None:
    product = catalog.products.get(line.product_id)
    if product is None:
        quote.add_error(
            product_field(index, "product_id"),
            "Choose a product." if line.product_id is None else "Unknown product.",
        )
        return
    ok = True
    if product.retired:
        quote.add_error(
            product_field(index, "product_id"), f"{product.name} is retired and can no longer be ordered."
        )
        ok = False
    if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
        quote.add_error(product_field(index, "quantity"), f"Quantity must be between 1 and {MAX_QUANTITY}.")
        ok = False
    if line.price_override is not None and line.price_override < 0:
        quote.add_error(product_field(index, "price_override"), "A price override cannot be negative.")
        ok = False
    domain = ""
    if line.domain.strip():
        try:
            domain = normalize_domain_name(line.domain)
        except DomainNameError as exc:
            quote.add_error(product_field(index, "domain"), str(exc))
            ok = False
    elif product.requires_domain:
        quote.add_error(product_field(index, "domain"), f"{product.name} needs a domain name.")
        ok = False
    prices = in_currency(product.prices, catalog.currency_id)
    cycle = line.billing_cycle or shortest_cycle(product, catalog.currency_id)
    price_row = next((p for p in prices if p.cycle == cycle), None)
    if price_row is None:
        if product.prices and not prices:
            message = (f"{product.name} has no {catalog.currency_code} pricing: it cannot be ordered "
                       f"for a client who pays in {catalog.currency_code}.")
        elif cycle:
            message = f"{product.name} is not offered with the {cycle} billing cycle."
        else:
            message = f"{product.name} has no pricing configured."
        quote.add_error(product_field(index, "billing_cycle"), message)
        ok = False
    addons, problems = (price_addons(line.addon_ids, product, cycle, catalog.addons, catalog.currency_id)
                        if price_row else ((), []))
    for problem in problems:
        quote.add_error(addon_field(index), problem)
    options, option_problems = (
        price_config_options(index, line.config_options, product, cycle, catalog.options, catalog.currency_id)
        if price_row
        else ((), [])
    )
    for name, problem in option_problems:
        quote.add_error(name, problem)
    if not ok or problems or option_problems:
        return
    if line.price_override is not None:
        price, setup_fee = line.price_override, ZERO  # the override is what the admin charges, options too
    else:
        option_price, option_setup = options_price(options)
        price, setup_fee = price_row.price + option_price, price_row.setup_fee + option_setup
    recurring = ZERO if cycle == BillingCycle.ONE_TIME else price
    for _ in range(line.quantity):
        quote.services.append(
            ServiceQuote(
                line=index,
                product=product,
                cycle=cycle,
                domain=domain,
                price=price,
                setup_fee=setup_fee,
                recurring_amount=recurring,
                addons=addons,
                options=options,
            )
        )


def _price_domain(quote: Quote, index: int, line, catalog: Catalog) -> None:
    if line.type not in DOMAIN_TYPES:
        quote.add_error(domain_field(index, "type"), "Choose Register or Transfer.")
        return
    try:
        name = normalize_domain_name(line.name or "")
    except DomainNameError as exc:
        quote.add_error(domain_field(index, "name"), str(exc))
        return
    tld = tld_of(name, catalog.tlds)
    if tld is None:
        quote.add_error(
            domain_field(index, "name"), f"Domains ending in .{name.rsplit('.', 1)[-1]} are not sold here."
        )
        return
    years = line.period_years
    row: TldPrice | None = next(
        (p for p in in_currency(tld.prices, catalog.currency_id) if p.years == years), None)
    price = None
    if row is not None:
        price = row.register_price if line.type == DomainOrderType.REGISTER else row.transfer_price
    if price is None:
        quote.add_error(
            domain_field(index, "period_years"),
            f"{line.type} of {tld.extension} for {years} year(s) is not offered.",
        )
        return
    if line.type == DomainOrderType.TRANSFER and tld.epp_required and not (line.epp_code or "").strip():
        quote.add_error(
            domain_field(index, "epp_code"), f"An EPP code is required to transfer {tld.extension} domains."
        )
        return
    # Addons are priced per year, like WHMCS, so they follow the registration period.
    addons = years * sum(
        (
            tld.dns_management_price if line.dns_management else ZERO,
            tld.email_forwarding_price if line.email_forwarding else ZERO,
            tld.id_protection_price if line.id_protection else ZERO,
        ),
        ZERO,
    )
    if addons and not catalog.default_currency:  # their prices are in the default currency only
        quote.add_error(domain_field(index, "name"), f"DNS management, email forwarding and ID "
                        f"protection for {tld.extension} are not priced in {catalog.currency_code}.")
        return
    renewal = row.renew_price if row.renew_price is not None else price
    # Overrides (the API's domainpriceoverride / domainrenewoverride) replace the TLD's prices.
    if line.price_override is not None:
        price = line.price_override
    if line.renewal_override is not None:
        renewal = line.renewal_override
    quote.domains.append(
        DomainQuote(
            line=index,
            name=name,
            type=line.type,
            period_years=years,
            tld=tld,
            price=price,
            addons=addons,
            recurring_amount=renewal + addons,
        )
    )


def _apply_promotion(quote: Quote, promotion: Promotion, value: Decimal) -> None:
    applied = False
    for i, item in enumerate(quote.services):
        if (applied and promotion.apply_once) or not applies_to_product(
            promotion, item.product.id, item.cycle
        ):
            continue
        quote.services[i] = _promoted(promotion, value, item, item.price, item.setup_fee)
        applied = True
    for i, item in enumerate(quote.services):
        addons = list(item.addons)
        for j, addon in enumerate(addons):
            promoted = None if applied and promotion.apply_once else promote_addon(promotion, value, addon)
            if promoted is not None:
                addons[j], applied = promoted, True
        quote.services[i] = replace(quote.services[i], addons=tuple(addons))
    for i, item in enumerate(quote.domains):
        if (applied and promotion.apply_once) or not applies_to_domain(
            promotion, item.tld.extension, item.period_years
        ):
            continue
        quote.domains[i] = _promoted(promotion, value, item, item.price + item.addons, ZERO)
        applied = True
    if not applied:
        quote.add_error(
            "promo_code", f"Promotion code {promotion.code} does not apply to any item in this order."
        )


def _promoted(promotion: Promotion, value: Decimal, item, price: Decimal, setup_fee: Decimal):
    first, _ = discounts(promotion, price, setup_fee, value)
    _, renewal = discounts(promotion, item.recurring_amount, ZERO, value)  # renewals have their own price
    return replace(item, discount=first, recurring_amount=item.recurring_amount - renewal, promoted=True)
