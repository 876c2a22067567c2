"""What each demo order is: a plan, i.e. a real Cart and the steps that follow it.

A plan is what an admin and a client would do through the faces: place the cart (place_order),
then, in a scenario's order, pay the invoice, Accept, Cancel, Cancel & Refund, Set as Fraud or
change to a custom status. demo/history.py writes the rows a plan leaves; tests/test_demo_replay.py
runs the same plans through place_order and the actions and compares the rows field by field.

The k-th plan comes from its own random.Random seeded with k, every draw in a fixed order, so the
k-th order has the same cart, scenario and number however many runs made the demo. Only the client,
the affiliate and whether the promotion is valid for that client depend on the database (who was a
client, and who had ordered, by the order's date; a top-up dates its orders after the newest one).
"""

import base64
import bisect
import copy
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.cart import Cart, CartDomain, CartProduct, PlaceOptions
from actions.pricing import Quote, price_cart
from actions.promotions import ClientHistory, promotion_problem
from demo.addons import draw_addons
from demo.catalog import BANK_TRANSFER, CARD, ON_HOLD, REGISTRAR, DemoCatalog
from demo.config_options import draw_config_options
from demo.custom_fields import draw_answers
from demo.people import Clients, at_second, spread, window
from models import (
    ActorType,
    Affiliate,
    BillingCycle,
    DomainOrderType,
    Order,
    OrderSource,
    OrderStatus,
    Product,
    Promotion,
)

ORDER_SEED = 2_000_000_000_000
HISTORY = timedelta(days=730)


class _Odds:
    """A weighted choice, its cumulative weights computed once (it runs millions of times)."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random):
        # What rng.choices(values, cum_weights=...)[0] draws, without its per-call set-up.
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.total)]


# --- steps after placing ------------------------------------------------------------------------

@dataclass(frozen=True)
class Pay:
    """The client pays the invoice in full (what the money-and-screening issue's payment action
    will record: a payment, the invoice Paid, and the setups DESIGN.md §4 runs on payment)."""

    at: datetime
    transaction_id: str  # the gateway's reference


@dataclass(frozen=True)
class Accept:
    at: datetime
    registrar: str  # chosen for pending domains that have none; every other option is the default


@dataclass(frozen=True)
class Cancel:
    at: datetime
    refund_id: str = ""  # Cancel & Refund when set: the gateway's id for the refund

    @property
    def refund(self) -> bool:
        return bool(self.refund_id)


@dataclass(frozen=True)
class SetFraud:
    at: datetime


@dataclass(frozen=True)
class ChangeStatus:
    at: datetime
    status: str


Step = Pay | Accept | Cancel | SetFraud | ChangeStatus


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int
    steps: tuple[str, ...]  # "pay", "accept", "cancel", "refund", "fraud", "hold", in order
    status: str  # the order's status at the end


SCENARIOS = [
    Scenario("pending", 22, (), OrderStatus.PENDING),
    Scenario("pending, paid", 6, ("pay",), OrderStatus.PENDING),
    Scenario("on hold", 2, ("hold",), ON_HOLD),
    Scenario("active", 56, ("pay", "accept"), OrderStatus.ACTIVE),
    Scenario("cancelled", 7, ("cancel",), OrderStatus.CANCELLED),
    Scenario("cancelled after activation", 2, ("pay", "accept", "cancel"), OrderStatus.CANCELLED),
    Scenario("cancelled and refunded", 1, ("pay", "accept", "refund"), OrderStatus.CANCELLED),
    Scenario("fraud", 4, ("fraud",), OrderStatus.FRAUD),
]
SCENARIO_ODDS = _Odds({s: s.weight for s in SCENARIOS})
SOURCE_ODDS = _Odds({OrderSource.CHECKOUT: 60, OrderSource.API: 25, OrderSource.ADMIN: 15})
CARD_SHARE = 0.3  # of orders paid by card; the rest by bank transfer
PROMOTION_SHARE = 0.15  # of orders that try a promotion code

# What an order contains.
BASKETS = _Odds({"hosting+domain": 35, "hosting": 15, "vps": 15, "domain": 20, "dedicated": 5,
                 "other": 10})
PRODUCT_WEIGHTS = {"Starter": 50, "Plus": 30, "Pro": 20, "VPS S": 50, "VPS M": 35, "VPS L": 15}
CYCLE_WEIGHTS = {BillingCycle.ONE_TIME: 1, BillingCycle.MONTHLY: 40, BillingCycle.QUARTERLY: 10,
                 BillingCycle.SEMI_ANNUALLY: 8, BillingCycle.ANNUALLY: 32, BillingCycle.BIENNIALLY: 10}
TLD_WEIGHTS = {".com": 50, ".net": 12, ".org": 10, ".io": 13, ".co.uk": 15}
DOMAIN_WORDS = (["bright", "blue", "green", "rapid", "silver", "urban", "north", "clever", "happy",
                 "solid", "swift", "golden", "bold", "quiet", "wild", "smart", "fresh", "prime"],
                ["pixel", "forge", "harbor", "leaf", "studio", "bakery", "garden", "cloud", "river",
                 "labs", "media", "craft", "bikes", "coffee", "design", "travel", "fitness", "books"])
CLIENT_NOTES = ["Please set this up before Monday, we are launching.", "Migrating from another host.",
                "Call me if anything is unclear.", "Invoice to our accounts department please."]
# A few addresses that order often, so the IP filter has something to find.
BUSY_IPS = ["81.2.69.160", "89.160.20.112", "175.16.199.23", "2.125.160.216", "216.160.83.56"]

# Who acts in the demo timeline.
DEMO_ADMIN = Actor(ActorType.ADMIN, None, "Demo Admin")
PLACED_BY = {OrderSource.ADMIN: DEMO_ADMIN, OrderSource.API: Actor(ActorType.API, None, "Storefront API"),
             OrderSource.CHECKOUT: Actor.system("Checkout")}


@dataclass(frozen=True)
class OrderPlan:
    k: int
    scenario: Scenario
    placed_at: datetime
    cart: Cart
    options: PlaceOptions
    placed_by: Actor
    promotion: Promotion | None  # the cart's promo code, when place_order accepts it
    quote: Quote  # actions.pricing.price_cart's answer for the cart
    passwords: tuple[str, ...]  # per service, for a server module create that chooses one
    steps: tuple[Step, ...] = field(default=())


def order_plans(session: Session, catalog: DemoCatalog, target: int, now: datetime) -> Iterator[OrderPlan]:
    """The plans of the orders a top-up to `target` orders adds, dated after the newest order."""
    conn = session.connection()
    have = conn.scalar(select(func.count()).select_from(Order))
    latest = conn.scalar(select(func.max(Order.date)))
    start, end = window(now - HISTORY, latest, now)
    affiliates = conn.execute(select(Affiliate.id, Affiliate.client_id).order_by(Affiliate.id)).all()
    ordered = set(conn.scalars(select(Order.client_id).distinct()))
    planner = Planner(catalog, Clients(conn), affiliates, ordered, now)
    count = target - have
    for k in range(have + 1, target + 1):
        yield planner.plan(k, at_second(spread(k - have - 1, count, start, end)))


class Planner:
    def __init__(self, catalog: DemoCatalog, clients: Clients, affiliates: list, ordered: set[int],
                 now: datetime):
        self.catalog, self.clients, self.affiliates, self.now = catalog, clients, affiliates, now
        self.ordered = ordered  # clients with an order already (promotion rules ask)
        self._quotes: dict[tuple, Quote] = {}
        self.product_odds = {kind: _Odds({p: PRODUCT_WEIGHTS.get(p.name, 1) for p in products})
                             for kind, products in catalog.products.items()}
        self.cycle_odds = {p.id: _Odds({c.cycle: CYCLE_WEIGHTS[c.cycle] for c in p.prices})
                           for products in catalog.products.values() for p in products}
        self.tld_odds = _Odds({catalog.tlds[ext]: weight for ext, weight in TLD_WEIGHTS.items()})
        for promotion in catalog.promotions:
            if promotion.once_per_client or promotion.existing_client or promotion.requires_existing:
                # ClientHistory below knows only whether the client has ordered before.
                raise ValueError(f"Demo promotion {promotion.code}: rules about a client's past "
                                 "services are not planned")

    def plan(self, k: int, placed: datetime) -> OrderPlan:
        rng = random.Random(ORDER_SEED + k)
        scenario = SCENARIO_ODDS.draw(rng)
        if k <= len(SCENARIOS):  # the first orders show every scenario, even in a tiny demo
            scenario = SCENARIOS[k - 1]
        source = SOURCE_ODDS.draw(rng)
        basket = BASKETS.draw(rng)
        u_promo, u_card, u_notes, u_busy = rng.random(), rng.random(), rng.random(), rng.random()
        products, domains = self._lines(rng, k, basket)
        candidate = rng.choice(self.catalog.promotions)
        gaps = [timedelta(hours=rng.uniform(0.1, 48)) for _ in range(3)]
        ip = rng.choice(BUSY_IPS) if u_busy < 0.1 else _ip(rng)
        notes = rng.choice(CLIENT_NOTES) if u_notes < 0.1 else ""
        passwords = tuple(_token(rng, 12) for _ in products)
        # Draws that depend on what is in the database come last.
        client_id = self.clients.pick(rng.random(), placed)
        affiliate_id = self._affiliate(rng.random(), rng.random(), client_id)

        refund = "refund" in scenario.steps
        gateway = CARD if refund or u_card < CARD_SHARE else BANK_TRANSFER
        cart = Cart(client_id=client_id, payment_method=gateway, products=products, domains=domains,
                    ip_address=ip, notes=notes, affiliate_id=affiliate_id)
        quote = self._price(cart, None)
        if quote.errors:
            raise ValueError(f"Demo order {k}: the cart does not price: {quote.errors}")
        promotion = candidate if u_promo < PROMOTION_SHARE else None
        if promotion is not None:
            promoted = self._promoted(cart, quote, promotion, client_id, placed)
            if promoted is None:
                promotion = None  # place_order would refuse the code: the client orders without it
            else:
                cart.promo_code, quote = promotion.code, promoted
        self.ordered.add(client_id)
        return OrderPlan(k, scenario, placed, cart, PlaceOptions(source=source), PLACED_BY[source], promotion,
                         quote, passwords, self._steps(k, scenario, gateway, placed, gaps))

    def _steps(self, k: int, scenario: Scenario, gateway: str, placed: datetime, gaps: list) -> tuple:
        steps, at = [], placed
        for name in scenario.steps:
            if name in ("pay", "accept"):
                at = min(at + gaps[0 if name == "pay" else 1], self.now)
            else:  # closing an order: within hours when pending, weeks later when it was running
                at = min(at + gaps[2] * (30 if steps else 1), self.now)
            at = at_second(at)
            if name == "pay":
                steps.append(Pay(at, f"ch_demo{k:010d}" if gateway == CARD else f"BT{k:010d}"))
            elif name == "accept":
                steps.append(Accept(at, REGISTRAR))
            elif name == "cancel":
                steps.append(Cancel(at))
            elif name == "refund":
                steps.append(Cancel(at, refund_id=f"re_demo{k:010d}"))
            elif name == "fraud":
                steps.append(SetFraud(at))
            elif name == "hold":
                steps.append(ChangeStatus(at, ON_HOLD))
        return tuple(steps)

    def _lines(self, rng: random.Random, k: int, basket: str) -> tuple[list, list]:
        label = f"{rng.choice(DOMAIN_WORDS[0])}{rng.choice(DOMAIN_WORDS[1])}{k}"
        tld = self.tld_odds.draw(rng)
        years = rng.choices((1, 2, 3), (70, 20, 10))[0]
        transfer = rng.random() < 0.2 and any(p.years == years and p.transfer_price is not None
                                              for p in tld.prices)
        id_protection = rng.random() < 0.2 and tld.id_protection_price > 0
        dns_management, email_forwarding = rng.random() < 0.1, rng.random() < 0.05
        epp_code = _token(rng, 9)
        kind = "hosting" if basket == "hosting+domain" else basket
        products, domains = [], []
        if kind != "domain":
            product: Product = self.product_odds[kind].draw(rng)
            cycle = self.cycle_odds[product.id].draw(rng)
            hostname = label + tld.extension if kind in ("hosting", "other") else f"srv{k}.{label}.net"
            products.append(CartProduct(product.id, billing_cycle=cycle, domain=hostname,
                                        addon_ids=draw_addons(self.catalog.addons, k, product, cycle,
                                                                    self.catalog.pricing.currency_id),
                                        config_options=draw_config_options(self.catalog.pricing.options, k,
                                                                           product),
                                        custom_fields=draw_answers(self.catalog.custom_fields, product, k,
                                                                   hostname)))
        if basket in ("hosting+domain", "domain"):
            domains.append(CartDomain(
                type=DomainOrderType.TRANSFER if transfer else DomainOrderType.REGISTER,
                name=label + tld.extension, period_years=years, epp_code=epp_code if transfer else "",
                dns_management=dns_management, email_forwarding=email_forwarding,
                id_protection=id_protection))
        return products, domains

    def _promoted(self, cart: Cart, quote: Quote, promotion: Promotion, client_id: int,
                  placed: datetime) -> Quote | None:
        """The quote with the promotion, or None where place_order would refuse the code."""
        problem = promotion_problem(
            promotion, today=placed.date(), history=ClientHistory(has_orders=client_id in self.ordered),
            cart_product_ids={s.product.id for s in quote.services},
            cart_tlds={d.tld.extension for d in quote.domains})
        if problem:
            return None
        promoted = self._price(cart, promotion)
        return None if promoted.errors else promoted

    def _price(self, cart: Cart, promotion: Promotion | None) -> Quote:
        """price_cart's quote. Prices do not depend on the names in a cart, only on its shape
        (products, cycles, TLDs, periods, addons, options, promotion), and a million orders have a few
        hundred shapes: each is priced once, with placeholder names, and the quote given the
        cart's names (already normalized: lower-case letters, digits and dots)."""
        key = (tuple((p.product_id, p.billing_cycle, bool(p.domain), tuple(p.addon_ids),
                      tuple(sorted(p.config_options.items()))) for p in cart.products),
               tuple((d.type, _extension(d.name), d.period_years, bool(d.epp_code), d.dns_management,
                      d.email_forwarding, d.id_protection) for d in cart.domains),
               promotion.code if promotion else None)
        quote = self._quotes.get(key)
        if quote is None:
            shape = replace(cart, products=[replace(p, domain=p.domain and "example.com")
                                            for p in cart.products],
                            domains=[replace(d, name="example" + _extension(d.name)) for d in cart.domains])
            quote = self._quotes[key] = price_cart(shape, self.catalog.pricing, promotion)
        return replace(quote,  # the catalog's currency and rate kept
                       services=[_named(s, "domain", cart.products[s.line].domain) for s in quote.services],
                       domains=[_named(d, "name", cart.domains[d.line].name) for d in quote.domains])

    def _affiliate(self, chance: float, which: float, client_id: int) -> int | None:
        if chance >= 0.08 or not self.affiliates:
            return None
        affiliate_id, affiliate_client = self.affiliates[int(which * len(self.affiliates))]
        return None if affiliate_client == client_id else affiliate_id  # nobody refers themselves


def _named(item, attribute: str, name: str):
    """A copy of a quoted item with another name (dataclasses.replace, minus its field-by-field
    overhead, which is most of the planner's time)."""
    named = copy.copy(item)
    object.__setattr__(named, attribute, name)  # a frozen dataclass
    return named


def _extension(name: str) -> str:
    return "." + name.split(".", 1)[1]


def _token(rng: random.Random, size: int) -> str:
    """Like secrets.token_urlsafe(size), but drawn from the order's own generator."""
    return base64.urlsafe_b64encode(rng.randbytes(size)).decode().rstrip("=")


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return f"2a02:{rng.randrange(0x10000):x}:{rng.randrange(0x10000):x}::{rng.randrange(1, 0x10000):x}"
    first = rng.choice([24, 31, 45, 62, 73, 77, 81, 86, 92, 103, 109, 151, 176, 185, 188, 197, 203, 212])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
