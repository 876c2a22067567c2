"""Configurable options in a cart: loading the product's options, checking and pricing the chosen
values (called by actions.pricing, pure like it), and the rows and invoice text place_order writes.

A cart line's `config_options` maps an option id to its value: a choice id for dropdown / radio,
0 or 1 for yes/no, the count for quantity (WHMCS AddOrder's configoptions). An option the line
leaves out takes its default, as WHMCS does: the first choice, "no", the minimum quantity. The
options' prices and setup fees are part of the service's price (its invoice line lists them), so a
promotion on the product discounts them too, as in WHMCS; a price override covers them.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.cart import Cart, product_field
from models import (
    ZERO,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionGroup,
    ConfigOptionType,
    Product,
    ServiceConfigOption,
    config_option_group_products,
)
from models.bounds import MAX_ID, InvalidInput, parse_int
from models.config_options import COUNTED_TYPES, describe_value

MAX_OPTIONS_PER_LINE = 100


@dataclass(frozen=True)
class OptionQuote:
    option: ConfigOption
    choice: ConfigOptionChoice
    quantity: int  # 1 for dropdown / radio; the count (0 or 1 for yes/no) otherwise
    price: Decimal  # on the service's cycle, times the quantity
    setup_fee: Decimal

    @property
    def shown(self) -> str:
        return describe_value(self.option, self.choice, self.quantity)

    def __str__(self) -> str:
        return f"{self.option.name}: {self.shown}"


@dataclass
class OptionCatalog:
    by_product: dict[int, list[ConfigOption]]  # the options of each cart product, in group order
    named: dict[int, str]  # every option id the cart names that exists: its name (for refusals)


def option_field(index: int, option_id=None) -> str:
    """The form field of one option of product line `index` (or of the line's options as a whole)."""
    return product_field(index, "config_options" if option_id is None else f"config_options-{option_id}")


def _id_or_none(value) -> int | None:
    try:
        return parse_int(value, minimum=1, maximum=MAX_ID)
    except InvalidInput:
        return None


def load_config_options(session: Session, cart: Cart) -> OptionCatalog:
    """The option groups of the cart's products, with options, choices and prices (a few queries)."""
    ids = {line.product_id for line in cart.products if isinstance(line.product_id, int)}
    catalog = OptionCatalog({}, {})
    if not ids:
        return catalog
    links = session.execute(
        select(config_option_group_products.c.product_id, config_option_group_products.c.group_id)
        .where(config_option_group_products.c.product_id.in_(ids))
    ).all()
    groups = {
        g.id: g
        for g in session.scalars(
            select(ConfigOptionGroup)
            .where(ConfigOptionGroup.id.in_({g for _, g in links}))
            .options(selectinload(ConfigOptionGroup.options)
                     .selectinload(ConfigOption.choices).selectinload(ConfigOptionChoice.prices))
        )
    }
    for product_id, group_id in sorted(links, key=lambda link: link[1]):
        catalog.by_product.setdefault(product_id, []).extend(groups[group_id].options)
    # The names of options the cart names that its products do not have, for the refusal.
    known = {o.id for options in catalog.by_product.values() for o in options}
    asked = {
        i for line in cart.products if isinstance(line.config_options, dict)
        for i in map(_id_or_none, line.config_options) if i is not None and i not in known
    }
    if asked:
        catalog.named.update(session.execute(
            select(ConfigOption.id, ConfigOption.name).where(ConfigOption.id.in_(asked))).all())
    return catalog


def price_config_options(
    index: int, values, product: Product, cycle: str, catalog: OptionCatalog, currency_id: int | None
) -> tuple[tuple[OptionQuote, ...], list[tuple[str, str]]]:
    """The priced values of one service of line `index` in its currency, or the problems as
    (field, message). A choice priced on the cycle in other currencies only is refused, not free."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return (), [(option_field(index), "Configurable options must map an option id to its value.")]
    if len(values) > MAX_OPTIONS_PER_LINE:
        return (), [(option_field(index),
                     f"At most {MAX_OPTIONS_PER_LINE} configurable options per product.")]
    options = {o.id: o for o in catalog.by_product.get(product.id, [])}
    problems: list[tuple[str, str]] = []
    chosen = {}
    for key, value in values.items():
        option_id = _id_or_none(key)
        if option_id in options:
            chosen[option_id] = value
        elif option_id in catalog.named:
            name = catalog.named[option_id]
            problems.append((option_field(index), f"{name} is not an option of {product.name}."))
        else:
            problems.append((option_field(index), f"Unknown configurable option {str(key)[:20]!r}."))
    quotes = []
    for option in options.values():
        if not option.choices:
            continue  # an option nobody has priced yet: nothing to choose
        try:
            choice, quantity = _value(option, chosen.get(option.id))
        except InvalidInput as exc:
            problems.append((option_field(index, option.id), str(exc)))
            continue
        on_cycle = [p for p in choice.prices if p.cycle == cycle]
        row = next((p for p in on_cycle if p.currency_id == currency_id), None)
        if row is None and on_cycle:
            problems.append((option_field(index, option.id),
                             f"{option.name}: {choice.name} has no pricing in this client's currency."))
            continue
        price, setup_fee = (row.price, row.setup_fee) if row else (ZERO, ZERO)
        quotes.append(OptionQuote(option, choice, quantity, price * quantity, setup_fee * quantity))
    return (() if problems else tuple(quotes)), problems


def _value(option: ConfigOption, raw) -> tuple[ConfigOptionChoice, int]:
    """(choice, quantity) for the raw value, its default when None; InvalidInput when it is wrong."""
    if option.type == ConfigOptionType.YES_NO:
        if raw is None or raw == "":
            return option.choices[0], 0
        try:
            return option.choices[0], parse_int(raw, minimum=0, maximum=1)
        except InvalidInput:
            raise InvalidInput(f"{option.name} must be 0 (no) or 1 (yes).") from None
    if option.type == ConfigOptionType.QUANTITY:
        if raw is None or raw == "":
            return option.choices[0], option.min_quantity
        return option.choices[0], parse_int(
            raw, minimum=option.min_quantity, maximum=option.max_quantity, what=option.name)
    if raw is None or raw == "":
        return option.choices[0], 1
    choice_id = _id_or_none(raw)
    choice = next((c for c in option.choices if c.id == choice_id), None)
    if choice is None:
        raise InvalidInput(f"{str(raw)[:20]!r} is not a choice of {option.name}.")
    return choice, 1


def options_price(options: tuple[OptionQuote, ...]) -> tuple[Decimal, Decimal]:
    """(price, setup fee) the options add to their service."""
    return sum((o.price for o in options), ZERO), sum((o.setup_fee for o in options), ZERO)


def stored_price(rows, cycle: str, currency_id: int) -> Decimal:
    """What a service's stored values cost per period on `cycle` at today's catalog prices."""
    total = ZERO
    for row in rows:
        price = next((p.price for p in row.choice.prices
                      if p.cycle == cycle and p.currency_id == currency_id), ZERO)
        total += price * row.quantity
    return total


def stored_values(service) -> dict:
    """A service's stored options as a cart line's `config_options` (option id -> choice id / count)."""
    return {row.option_id: (row.quantity if row.option.type in COUNTED_TYPES else row.choice_id)
            for row in service.config_options}


def option_lines(options) -> str:
    """The options as the product's invoice line lists them, one per line (WHMCS style)."""
    return "".join(f"\n{o}" for o in options)


def config_option_fields(option: OptionQuote) -> dict:
    """The columns of a service_config_options row (but its service): place_order and the demo data."""
    return dict(option_id=option.option.id, choice_id=option.choice.id, quantity=option.quantity)


def config_option_rows(service, options: tuple[OptionQuote, ...]) -> list[ServiceConfigOption]:
    return [ServiceConfigOption(service=service, **config_option_fields(o)) for o in options]


def configoptions_param(service) -> dict[str, str | int]:
    """The server module's `configoptions`: option name -> choice name or count, like WHMCS."""
    return {row.option.name: row.value for row in service.config_options}

