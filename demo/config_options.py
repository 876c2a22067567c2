"""The demo's configurable options: the VPS and dedicated servers' option groups, the draw per
order, and the service_config_options rows they leave (through actions.config_options' builder).

Drawn with their own random stream per order, so adding them left every other draw of the demo as
it was; an option left out of the draw takes its default, as in place_order.
"""

import random
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.cart import Cart, CartProduct
from actions.config_options import OptionCatalog, config_option_fields, load_config_options
from models import (
    BillingCycle,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionGroup,
    ConfigOptionPrice,
    ConfigOptionType,
    Product,
    ServiceConfigOption,
)

M, A = BillingCycle.MONTHLY, BillingCycle.ANNUALLY
T = ConfigOptionType

# group, product groups, options: (name, type, min, max, {choice: {cycle: (price, setup fee)}})
OPTION_GROUPS = [
    ("Server Resources", ("VPS", "Dedicated Servers"), [
        ("Memory", T.DROPDOWN, 0, 0, {"Base": {}, "+4 GB": {M: ("6.00", "0.00"), A: ("60.00", "0.00")},
                                      "+16 GB": {M: ("20.00", "5.00"), A: ("200.00", "5.00")}}),
        ("Operating System", T.RADIO, 0, 0, {"Ubuntu 24.04": {}, "Debian 12": {},
                                             "Windows Server 2022": {M: ("15.00", "0.00"),
                                                                     A: ("150.00", "0.00")}}),
        ("Managed Backups", T.YES_NO, 0, 0, {"Managed Backups": {M: ("4.00", "0.00"), A: ("40.00", "0.00")}}),
        ("Extra IPv4 Addresses", T.QUANTITY, 0, 8, {"IPv4 address": {M: ("2.00", "1.00"),
                                                                     A: ("20.00", "1.00")}}),
    ]),
]


def ensure_config_options(session: Session) -> None:
    for name, groups, options in OPTION_GROUPS:
        if session.scalar(select(ConfigOptionGroup.id).where(ConfigOptionGroup.name == name)) is not None:
            continue
        group = ConfigOptionGroup(name=name)
        group.products = list(session.scalars(select(Product).where(Product.group_name.in_(groups))
                                              .order_by(Product.id)))
        for order, (option_name, type_, low, high, choices) in enumerate(options):
            option = ConfigOption(name=option_name, type=type_, min_quantity=low, max_quantity=high,
                                  sort_order=order)
            for choice_order, (choice_name, prices) in enumerate(choices.items()):
                choice = ConfigOptionChoice(name=choice_name, sort_order=choice_order)
                choice.prices = [ConfigOptionPrice(cycle=c, price=Decimal(p), setup_fee=Decimal(s))
                                 for c, (p, s) in prices.items()]
                option.choices.append(choice)
            group.options.append(option)
        session.add(group)
    session.flush()


def load_demo_options(session: Session, products: list[Product]) -> OptionCatalog:
    """The options of the demo's products, loaded and detached (commits do not expire them)."""
    catalog = load_config_options(session, Cart(None, products=[CartProduct(p.id) for p in products]))
    # A group takes its options, their choices and prices with it (cascade "all").
    for group in {o.group_id: o.group for options in catalog.by_product.values() for o in options}.values():
        session.expunge(group)
    return catalog


def draw_config_options(catalog: OptionCatalog, k: int, product: Product) -> dict:
    """Order k's chosen values for its product line: about half the options away from the default."""
    rng = random.Random(f"demo-options-{k}")
    values = {}
    for option in catalog.by_product.get(product.id, []):
        if rng.random() < 0.5:
            continue
        if option.type == T.YES_NO:
            values[option.id] = 1
        elif option.type == T.QUANTITY:
            values[option.id] = rng.randint(option.min_quantity, option.max_quantity)
        else:
            values[option.id] = rng.choice(option.choices).id
    return values


def place_config_options(order, quote) -> list[dict]:
    """The service_config_options rows place_order writes, one per option of each service."""
    table = ServiceConfigOption.__table__
    return [order._add(table, service_id=service["id"], **config_option_fields(option))
            for service, item in zip(order.services, quote.services, strict=True) for option in item.options]
