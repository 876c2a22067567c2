"""Demo data for `flask seed-demo`: a catalog, clients, and orders in every status.

Deterministic and idempotent: the k-th client and the k-th order are built from their own
random.Random seeded with k, so a second run adds nothing, and `--orders` larger than what exists
adds exactly the missing orders - the same ones one larger run would have made. Catalog rows are
looked up by their names and inserted when missing.

Large runs are set-based: SQLAlchemy Core executemany in batches of BATCH orders, with primary keys
computed here (after the highest id or sequence value ever used, so nothing needs RETURNING), then
the PostgreSQL sequences are advanced. Each batch is committed, so memory stays bounded and an
interrupted run is completed by the next one. Run it while nothing else writes orders.
"""

import base64
import bisect
import itertools
import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Table, func, insert, null, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from actions.actor import Actor
from actions.events import Verb
from actions.order_number import HIGHEST, LOWEST
from actions.place import add_months
from actions.promotions import CENT
from actions.reference_data import ensure_reference_data
from models import (
    ZERO,
    ActorType,
    Affiliate,
    AutoSetup,
    BillingCycle,
    Client,
    ClientStatus,
    Domain,
    DomainOrderType,
    DomainStatus,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    Product,
    ProductPrice,
    ProductType,
    Promotion,
    PromotionType,
    Server,
    Service,
    ServiceStatus,
    Tld,
    TldPrice,
    Transaction,
)

BATCH = 10_000
CLIENT_SEED = 1_000_000_000_000
ORDER_SEED = 2_000_000_000_000
NUMBER_SEED = 3_000_000_000_000
HISTORY = timedelta(days=730)
GATEWAY = "banktransfer"


class _Odds:
    """A weighted choice, its cumulative weights computed once (it runs millions of times)."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def draw(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cumulative)[0]

# --- the catalog -------------------------------------------------------------------------------

SERVER = dict(name="Manual Provisioning", hostname="provisioning.example.net", module="manual")

M, Q, S, A, B = (BillingCycle.MONTHLY, BillingCycle.QUARTERLY, BillingCycle.SEMI_ANNUALLY,
                 BillingCycle.ANNUALLY, BillingCycle.BIENNIALLY)
HOSTING_WELCOME = "Hosting Account Welcome Email"
SERVER_WELCOME = "Dedicated/VPS Server Welcome Email"

# group, name, type, auto setup, welcome email, {cycle: (price, setup fee)}
PRODUCTS = [
    ("Shared Hosting", "Starter", ProductType.SHARED_HOSTING, AutoSetup.ON_PAYMENT, HOSTING_WELCOME,
     {M: ("4.99", "4.99"), Q: ("14.49", "2.50"), S: ("27.99", "0.00"), A: ("49.99", "0.00"),
      B: ("89.99", "0.00")}),
    ("Shared Hosting", "Plus", ProductType.SHARED_HOSTING, AutoSetup.ON_ORDER, HOSTING_WELCOME,
     {M: ("9.99", "9.99"), Q: ("28.99", "5.00"), S: ("55.99", "0.00"), A: ("99.99", "0.00"),
      B: ("179.99", "0.00")}),
    ("Shared Hosting", "Pro", ProductType.SHARED_HOSTING, AutoSetup.ON_ACCEPT, HOSTING_WELCOME,
     {M: ("17.99", "0.00"), Q: ("51.99", "0.00"), S: ("99.99", "0.00"), A: ("189.99", "0.00"),
      B: ("349.99", "0.00")}),
    ("VPS", "VPS S", ProductType.SERVER, AutoSetup.ON_PAYMENT, SERVER_WELCOME,
     {M: ("12.00", "10.00"), A: ("129.00", "0.00")}),
    ("VPS", "VPS M", ProductType.SERVER, AutoSetup.ON_ACCEPT, SERVER_WELCOME,
     {M: ("24.00", "10.00"), A: ("249.00", "0.00")}),
    ("VPS", "VPS L", ProductType.SERVER, AutoSetup.ON_ACCEPT, SERVER_WELCOME,
     {M: ("48.00", "20.00"), A: ("499.00", "0.00")}),
    ("Dedicated Servers", "Dedicated E-2388G", ProductType.SERVER, AutoSetup.NEVER, SERVER_WELCOME,
     {M: ("149.00", "99.00"), A: ("1599.00", "0.00")}),
    ("Services", "Website Migration", ProductType.OTHER, AutoSetup.NEVER, "",
     {BillingCycle.ONE_TIME: ("49.00", "0.00")}),
]
CYCLE_WEIGHTS = {BillingCycle.ONE_TIME: 1, M: 40, Q: 10, S: 8, A: 32, B: 10}

# extension: (1-year register, transfer, renew price, auto-registration registrar, EPP code needed,
#             ID protection price)
TLDS = {
    ".com": ("12.99", "12.99", "14.99", "manual", True, "2.99"),
    ".net": ("14.99", "14.99", "16.99", "manual", True, "2.99"),
    ".org": ("13.49", "13.49", "15.49", "", True, "2.99"),
    ".io": ("45.00", "45.00", "49.00", "", True, "0.00"),
    ".co.uk": ("8.99", "0.00", "8.99", "", False, "0.00"),
}
TLD_WEIGHTS = _Odds({".com": 50, ".net": 12, ".org": 10, ".io": 13, ".co.uk": 15})

PROMOTIONS = [
    dict(code="WELCOME10", type=PromotionType.PERCENTAGE, value=Decimal("10.00"), new_signups=True,
         notes="10% off the first invoice for new customers"),
    dict(code="SAVE5", type=PromotionType.FIXED_AMOUNT, value=Decimal("5.00"),
         notes="$5 off any hosting plan"),
    dict(code="FREESETUP", type=PromotionType.FREE_SETUP, value=Decimal("0.00"),
         notes="No setup fee"),
]

# --- people and names --------------------------------------------------------------------------

FIRST_NAMES = ["Ada", "Liam", "Olivia", "Noah", "Emma", "Lucas", "Sofia", "Mateo", "Amara", "Yuki",
               "Priya", "Arjun", "Chloé", "Jonas", "Freya", "Henrik", "Aisha", "Omar", "Zoë", "Jakub",
               "Marta", "Diego", "Léa", "Finn", "Nia", "Kenji", "Elif", "Tomás", "Ingrid", "Samuel"]
LAST_NAMES = ["Smith", "Okafor", "Müller", "García", "Rossi", "Kowalski", "Nguyen", "Jensen", "Dubois",
              "Tanaka", "Patel", "O'Brien", "Silva", "van Dijk", "Andersson", "Novak", "Costa", "Kim",
              "Schmidt", "Martin", "Khan", "Murphy", "Fischer", "Moreau", "Lopez", "Berg", "Yilmaz",
              "Walker", "Sato", "Evans"]
COMPANY_WORDS = ["Bluepeak", "Northwind", "Brightside", "Copperleaf", "Greenfield", "Silverline",
                 "Redwood", "Harbor", "Summit", "Lakeside", "Ironbridge", "Sunrise"]
COMPANY_KINDS = ["Media", "Design Studio", "Consulting", "Bakery", "Dental", "Logistics", "Fitness",
                 "Photography", "Software", "Travel", "Architects", "Legal"]
COMPANY_SUFFIX = {"US": "LLC", "GB": "Ltd", "DE": "GmbH", "FR": "SARL", "NL": "B.V.", "CA": "Inc.",
                  "AU": "Pty Ltd", "IN": "Pvt Ltd", "BR": "Ltda", "ES": "S.L.", "SE": "AB",
                  "PL": "sp. z o.o."}
# country: (weight, phone prefix, [(city, state, postcode)])
COUNTRIES = {
    "US": (30, "+1", [("Austin", "TX", "78701"), ("Portland", "OR", "97205"), ("Boston", "MA", "02108")]),
    "GB": (15, "+44", [("London", "", "EC1A 1BB"), ("Manchester", "", "M1 1AE"), ("Leeds", "", "LS1 4DY")]),
    "DE": (10, "+49", [("Berlin", "BE", "10115"), ("Munich", "BY", "80331")]),
    "FR": (6, "+33", [("Paris", "", "75002"), ("Lyon", "", "69002")]),
    "NL": (5, "+31", [("Amsterdam", "NH", "1012 AB"), ("Utrecht", "UT", "3511 AA")]),
    "CA": (6, "+1", [("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1")]),
    "AU": (5, "+61", [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")]),
    "IN": (8, "+91", [("Bengaluru", "KA", "560001"), ("Pune", "MH", "411001")]),
    "BR": (4, "+55", [("São Paulo", "SP", "01001-000")]),
    "ES": (4, "+34", [("Madrid", "", "28013"), ("Valencia", "", "46002")]),
    "SE": (3, "+46", [("Stockholm", "", "111 52")]),
    "PL": (4, "+48", [("Kraków", "", "31-008"), ("Warsaw", "", "00-001")]),
}
STREETS = ["High Street", "Main Street", "Station Road", "Park Avenue", "Church Lane", "Mill Road",
           "Elm Street", "Harbour Way", "King Street", "Oak Drive"]
DOMAIN_WORDS = (["bright", "blue", "green", "rapid", "silver", "urban", "north", "clever", "happy",
                 "solid", "swift", "golden", "bold", "quiet", "wild", "smart", "fresh", "prime"],
                ["pixel", "forge", "harbor", "leaf", "studio", "bakery", "garden", "cloud", "river",
                 "labs", "media", "craft", "bikes", "coffee", "design", "travel", "fitness", "books"])
CLIENT_NOTES = ["Please set this up before Monday, we are launching.", "Migrating from another host.",
                "Call me if anything is unclear.", "Invoice to our accounts department please."]
# A few addresses that order often, so the IP filter has something to find.
BUSY_IPS = ["81.2.69.160", "89.160.20.112", "175.16.199.23", "2.125.160.216", "216.160.83.56"]

STATUS_WEIGHTS = _Odds({OrderStatus.ACTIVE: 55, OrderStatus.PENDING: 30, OrderStatus.CANCELLED: 10,
                  OrderStatus.FRAUD: 5})
SOURCE_WEIGHTS = _Odds({OrderSource.CHECKOUT: 60, OrderSource.API: 25, OrderSource.ADMIN: 15})
# What an order contains.
BASKETS = _Odds({"hosting+domain": 35, "hosting": 15, "vps": 15, "domain": 20, "dedicated": 5,
                 "other": 10})
BASKET_OF_GROUP = {"Shared Hosting": "hosting", "VPS": "vps", "Dedicated Servers": "dedicated"}
PRODUCT_WEIGHTS = {"Starter": 50, "Plus": 30, "Pro": 20, "VPS S": 50, "VPS M": 35, "VPS L": 15}

# Who wrote the demo timeline.
DEMO_ADMIN = Actor(ActorType.ADMIN, None, "Demo Admin")
PLACED_BY = {OrderSource.ADMIN: DEMO_ADMIN, OrderSource.API: Actor(ActorType.API, None, "Storefront API"),
             OrderSource.CHECKOUT: Actor.system("Checkout")}


def seed_demo(session: Session, orders: int = 200, clients: int | None = None,
              only_if_empty: bool = False) -> str:
    """Make sure at least `orders` orders and `clients` clients exist (default clients: orders / 5,
    at least 20), adding the missing ones. Commits. Returns a one-line summary."""
    ensure_reference_data(session)
    if only_if_empty and session.scalar(select(Order.id).limit(1)) is not None:
        session.commit()
        return "Orders already exist: demo data not loaded."
    clients = max(20, orders // 5) if clients is None else clients
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    catalog = _ensure_catalog(session)
    session.commit()
    new_clients = _top_up_clients(session, clients, now)
    _ensure_affiliates(session, max(3, clients // 50))
    new_orders = _top_up_orders(session, orders, catalog, now)
    _count_promotion_uses(session)
    session.commit()
    total_orders = session.scalar(select(func.count()).select_from(Order))
    total_clients = session.scalar(select(func.count()).select_from(Client))
    return (f"Seeded {total_orders} orders, {total_clients} clients "
            f"({new_orders} new orders, {new_clients} new clients).")


# --- catalog (a few rows: the ORM is fine) -----------------------------------------------------

@dataclass(frozen=True, eq=False)  # hashed by identity: a key of the choice weights
class _Product:
    id: int
    name: str
    group: str
    auto_setup: str
    server_id: int
    prices: dict  # cycle -> (price, setup fee)


@dataclass(frozen=True)
class _Tld:
    id: int
    extension: str
    auto_registrar: str
    register: dict  # years -> price
    transfer: dict
    renew: dict
    id_protection: Decimal


@dataclass(frozen=True)
class _Catalog:
    products: dict  # group -> [_Product]
    tlds: dict  # extension -> _Tld
    promotions: list  # [(id, code, type, value)]


def _ensure_catalog(session: Session) -> _Catalog:
    server = session.scalar(select(Server).where(Server.name == SERVER["name"]))
    if server is None:
        server = Server(**SERVER)
        session.add(server)
        session.flush()

    products: dict[str, list[_Product]] = {}
    for group, name, type_, auto_setup, welcome, prices in PRODUCTS:
        product = session.scalar(select(Product).where(Product.group_name == group, Product.name == name))
        if product is None:
            product = Product(group_name=group, name=name, type=type_, auto_setup=auto_setup, module="manual",
                              welcome_email=welcome, default_server=server,
                              requires_domain=type_ == ProductType.SHARED_HOSTING,
                              stock_control=group == "Dedicated Servers", stock_quantity=5 if
                              group == "Dedicated Servers" else 0)
            session.add(product)
        have = {p.cycle for p in product.prices}
        for cycle, (price, setup) in prices.items():
            if cycle not in have:
                product.prices.append(
                    ProductPrice(cycle=cycle, price=Decimal(price), setup_fee=Decimal(setup)))
        session.flush()
        current = {p.cycle: (p.price, p.setup_fee) for p in product.prices if p.cycle in prices}
        kind = BASKET_OF_GROUP.get(group, "other")
        products.setdefault(kind, []).append(
            _Product(product.id, name, group, product.auto_setup, server.id, current))

    tlds = {}
    for extension, (register, transfer, renew, registrar, epp, id_protection) in TLDS.items():
        tld = session.scalar(select(Tld).where(Tld.extension == extension))
        if tld is None:
            tld = Tld(extension=extension, auto_registrar=registrar, epp_required=epp,
                      id_protection_price=Decimal(id_protection))
            session.add(tld)
        have = {p.years for p in tld.prices}
        for years in (1, 2, 3):
            if years not in have:
                tld.prices.append(TldPrice(
                    years=years, register_price=Decimal(register) * years,
                    transfer_price=Decimal(transfer) * years if transfer != "0.00" else None,
                    renew_price=Decimal(renew) * years))
        session.flush()
        by_years = {p.years: p for p in tld.prices}
        tlds[extension] = _Tld(
            tld.id, extension, tld.auto_registrar,
            {y: p.register_price for y, p in by_years.items() if p.register_price is not None},
            {y: p.transfer_price for y, p in by_years.items() if p.transfer_price is not None},
            {y: p.renew_price for y, p in by_years.items() if p.renew_price is not None},
            tld.id_protection_price)

    promotions = []
    for row in PROMOTIONS:
        promotion = session.scalar(select(Promotion).where(Promotion.code == row["code"]))
        if promotion is None:
            promotion = Promotion(**row)
            session.add(promotion)
            session.flush()
        promotions.append((promotion.id, promotion.code, promotion.type, promotion.value))
    return _Catalog(products, tlds, promotions)


# --- primary keys handed out here, so executemany needs no RETURNING ---------------------------

class _Ids:
    """Next free id per table: after the highest id or sequence value ever used (ids are never
    reused). `publish` moves the database's own counters past what was inserted."""

    def __init__(self, conn: Connection, tables: list[Table]):
        self.tables = tables
        self.next = {t.name: _highest_id_used(conn, t) + 1 for t in tables}

    def take(self, table: Table) -> int:
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value

    def publish(self, conn: Connection) -> None:
        # SQLite moves sqlite_sequence past explicit ids by itself; PostgreSQL sequences do not.
        if conn.dialect.name != "postgresql":
            return
        for table in self.tables:
            if self.next[table.name] > 1:
                conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                             {"t": table.name, "v": self.next[table.name] - 1})


def _insert_many(conn: Connection, table: Table, rows: list[dict]) -> None:
    """One executemany handed straight to the driver. Values still go through each column type's
    own bind processing (UTC datetimes, encryption, JSON), but without SQLAlchemy's per-row
    parameter machinery, which costs more than the inserts themselves at a million orders."""
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=keys)
    convert = []
    for key in keys:
        type_ = table.c[key].type
        convert.append((key, type_.dialect_impl(conn.dialect).bind_processor(conn.dialect)))
    if compiled.positional:
        order = [keys.index(name) for name in compiled.positiontup]
        params = []
        for row in rows:
            values = [process(row[key]) if process else row[key] for key, process in convert]
            params.append(tuple(values[i] for i in order))
    else:
        params = [{key: process(row[key]) if process else row[key] for key, process in convert}
                  for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def _highest_id_used(conn: Connection, table: Table) -> int:
    highest = conn.scalar(select(func.max(table.c.id))) or 0
    if conn.dialect.name == "postgresql":
        sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        last, called = conn.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
        return max(highest, last if called else 0)
    if table.dialect_options["sqlite"].get("autoincrement"):
        used = conn.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name})
        return max(highest, used or 0)
    return highest


# --- clients -----------------------------------------------------------------------------------

def _top_up_clients(session: Session, target: int, now: datetime) -> int:
    conn = session.connection()
    have = conn.scalar(select(func.count()).select_from(Client))
    if have >= target:
        return 0
    latest = conn.scalar(select(func.max(Client.created_at)))
    start, end = _window(now - HISTORY - timedelta(days=60), latest, now - timedelta(days=1))
    table = Client.__table__
    ids = _Ids(conn, [table])
    count = target - have
    for first in range(have + 1, target + 1, BATCH):
        rows = [_client_row(k, ids.take(table), _spread(k - have - 1, count, start, end))
                for k in range(first, min(first + BATCH, target + 1))]
        taken = set(conn.scalars(select(table.c.email).where(table.c.email.in_([r["email"] for r in rows]))))
        for row in rows:
            if row["email"] in taken:  # someone already uses the address: keep the demo one distinct
                row["email"] = row["email"].replace("@", f".demo{row['id']}@")
        _insert_many(conn, table, rows)
        ids.publish(conn)
        session.commit()
        conn = session.connection()
    return count


def _client_row(k: int, client_id: int, created_at: datetime) -> dict:
    rng = random.Random(CLIENT_SEED + k)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country = rng.choices(list(COUNTRIES), [c[0] for c in COUNTRIES.values()])[0]
    _, phone_prefix, cities = COUNTRIES[country]
    city, state, postcode = rng.choice(cities)
    company = ""
    if rng.random() < 0.4:
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {COMPANY_SUFFIX[country]}"
    mailbox = _ascii(f"{first}.{last}").replace(" ", "").replace("'", "").lower()
    return dict(
        id=client_id, first_name=first, last_name=last, company_name=company,
        email=f"{mailbox}{k}@example.{rng.choice(['com', 'net', 'org'])}",
        address1=f"{rng.randint(1, 250)} {rng.choice(STREETS)}", city=city, state=state,
        postcode=postcode, country=country,
        phone=f"{phone_prefix} {rng.randint(200, 999)} {rng.randint(1000000, 9999999)}",
        status=ClientStatus.ACTIVE, notes="", created_at=_at(created_at),
    )


def _ensure_affiliates(session: Session, target: int) -> None:
    """The oldest clients without one become affiliates until `target` exist."""
    have = session.scalar(select(func.count()).select_from(Affiliate))
    if have >= target:
        return
    has_affiliate = select(Affiliate.client_id)
    rows = session.execute(select(Client.id, Client.created_at).where(Client.id.not_in(has_affiliate))
                           .order_by(Client.id).limit(target - have))
    values = [dict(client_id=i, created_at=c) for i, c in rows]
    if values:
        session.execute(insert(Affiliate.__table__), values)
        session.commit()


# --- orders ------------------------------------------------------------------------------------

ORDER_TABLES = [Invoice.__table__, Order.__table__, Service.__table__, Domain.__table__,
                InvoiceItem.__table__, Transaction.__table__, OrderEvent.__table__]  # insert order (FKs)


def _top_up_orders(session: Session, target: int, catalog: _Catalog, now: datetime) -> int:
    conn = session.connection()
    have = conn.scalar(select(func.count()).select_from(Order))
    if have >= target:
        return 0
    latest = conn.scalar(select(func.max(Order.date)))
    start, end = _window(now - HISTORY, latest, now)
    clients = _Clients(conn)
    affiliates = conn.execute(select(Affiliate.id, Affiliate.client_id).order_by(Affiliate.id)).all()
    ids = _Ids(conn, ORDER_TABLES)
    builder = _OrderBuilder(catalog, clients, affiliates, ids, now)
    count = target - have
    for first in range(have + 1, target + 1, BATCH):
        ks = range(first, min(first + BATCH, target + 1))
        numbers = _order_numbers(conn, ks)
        rows: dict[str, list] = {t.name: [] for t in ORDER_TABLES}
        for k in ks:
            builder.build(k, numbers[k], _at(_spread(k - have - 1, count, start, end)), rows)
        for table in ORDER_TABLES:
            if rows[table.name]:
                _insert_many(conn, table, rows[table.name])
        ids.publish(conn)
        session.commit()
        conn = session.connection()
    return count


def _order_numbers(conn: Connection, ks: range) -> dict[int, int]:
    """Random 10-digit numbers, one per order, unique in the batch and in the database; a clash
    draws the order's next number, so the outcome is the same on every run."""
    orders = Order.__table__
    chosen: dict[int, int] = {}
    used: set[int] = set()
    todo = list(ks)
    for attempt in range(100):
        if not todo:
            return chosen
        wanted = {k: random.Random(NUMBER_SEED + 100 * k + attempt).randint(LOWEST, HIGHEST) for k in todo}
        taken = set(conn.scalars(select(orders.c.order_number)
                                 .where(orders.c.order_number.in_(list(set(wanted.values()))))))
        todo = []
        for k, number in wanted.items():
            if number in taken or number in used:
                todo.append(k)
            else:
                chosen[k] = number
                used.add(number)
    raise RuntimeError("Could not find free order numbers")


class _Clients:
    """Client ids by signup time, so an order goes to someone who was a client by then."""

    def __init__(self, conn: Connection):
        rows = conn.execute(select(Client.id, Client.created_at).order_by(Client.created_at, Client.id))
        self.ids: list[int] = []
        self.since: list[float] = []
        for client_id, created_at in rows:
            self.ids.append(client_id)
            self.since.append(created_at.timestamp())
        if not self.ids:
            raise ValueError("Demo orders need clients: seed at least one client")

    def pick(self, u: float, when: datetime) -> int:
        eligible = bisect.bisect_right(self.since, when.timestamp()) or len(self.ids)
        return self.ids[int(u * eligible)]


@dataclass
class _Draft:
    """What the rows of one order share while they are being built."""

    k: int
    status: str
    was_active: bool  # a Cancelled order that had been accepted (and paid) first
    placed: datetime
    order_id: int
    invoice_id: int
    client_id: int
    promotion: tuple | None
    password: str
    invoice_items: list


class _OrderBuilder:
    """Builds the rows of one order (items, invoice, payment, timeline) as plain dicts."""

    def __init__(self, catalog: _Catalog, clients: _Clients, affiliates: list, ids: _Ids, now: datetime):
        self.catalog, self.clients, self.affiliates = catalog, clients, affiliates
        self.ids, self.now, self.today = ids, now, now.date()
        self.product_odds = {kind: _Odds({p: PRODUCT_WEIGHTS.get(p.name, 1) for p in products})
                             for kind, products in catalog.products.items()}
        self.cycle_odds = {p: _Odds({c: CYCLE_WEIGHTS[c] for c in p.prices})
                           for products in catalog.products.values() for p in products}

    def build(self, k: int, number: int, placed: datetime, rows: dict) -> None:
        # Every draw that does not depend on the database comes first, in a fixed order, so the
        # k-th order has the same items, statuses and amounts whatever existed before it.
        rng = random.Random(ORDER_SEED + k)
        status = STATUS_WEIGHTS.draw(rng)
        if k <= len(OrderStatus):  # the first orders show every status, even in a tiny demo
            status = list(OrderStatus)[k - 1]
        source = SOURCE_WEIGHTS.draw(rng)
        basket = BASKETS.draw(rng)
        u_paid, u_promo, u_notes = rng.random(), rng.random(), rng.random()
        lines = self._lines(rng, k, basket)
        promotion = rng.choice(self.catalog.promotions)
        if u_promo >= 0.15 or lines[0][0] != "service":
            promotion = None
        # Paid: every Active order; a fifth of the Cancelled ones (accepted before); a fifth of the
        # Pending ones, when no item would have been set up on payment (paid, waiting for review).
        was_active = status == OrderStatus.CANCELLED and u_paid < 0.2
        automated = any(self._automated(line) for line in lines)
        paid = (status == OrderStatus.ACTIVE or was_active
                or (status == OrderStatus.PENDING and u_paid < 0.2 and not automated))
        fraud_on_placing = status == OrderStatus.FRAUD and source != OrderSource.ADMIN
        hours = [rng.uniform(0.1, 48) for _ in range(3)]
        ip = rng.choice(BUSY_IPS) if rng.random() < 0.1 else _ip(rng)
        notes = rng.choice(CLIENT_NOTES) if u_notes < 0.1 else ""
        fraud_score = Decimal(rng.uniform(90, 99.99)).quantize(CENT)
        password = base64.urlsafe_b64encode(rng.randbytes(9)).decode()
        # Draws that depend on what is in the database come last.
        client_id = self.clients.pick(rng.random(), placed)
        affiliate_id = self._affiliate(rng.random(), rng.random(), client_id)

        paid_at = min(placed + timedelta(hours=hours[0]), self.now) if paid else None
        accepted_at = min((paid_at or placed) + timedelta(hours=hours[1]), self.now)
        closed_at = min(placed + timedelta(days=hours[2] * (5 if was_active else 0.5)), self.now)
        draft = _Draft(k, status, was_active, placed, self.ids.take(Order.__table__),
                       self.ids.take(Invoice.__table__), client_id, promotion, password, [])
        for line in lines:
            if line[0] == "service":
                self._service(draft, line, rows)
            else:
                self._domain(draft, line, rows)
        total = sum((item["amount"] for item in draft.invoice_items), ZERO)
        rows["invoice_items"].extend(draft.invoice_items)

        invoice_status = InvoiceStatus.PAID if paid else InvoiceStatus.CANCELLED
        if not paid and status == OrderStatus.PENDING:
            invoice_status = InvoiceStatus.UNPAID
        rows["invoices"].append(dict(
            id=draft.invoice_id, client_id=client_id, date=placed.date(),
            due_date=placed.date() + timedelta(days=7), date_paid=paid_at,
            date_cancelled=closed_at if invoice_status == InvoiceStatus.CANCELLED else None,
            status=invoice_status, subtotal=total, credit=ZERO, tax=ZERO, total=total,
            payment_method=GATEWAY, notes="", created_at=placed))
        if paid:
            rows["transactions"].append(dict(
                id=self.ids.take(Transaction.__table__), client_id=client_id, invoice_id=draft.invoice_id,
                gateway=GATEWAY, date=paid_at, description=f"Invoice Payment (Invoice #{draft.invoice_id})",
                amount_in=total, amount_out=ZERO, fees=ZERO, transaction_id=f"BT{number}"))
        fraud = dict(fraud_module="", fraud_score=None, fraud_output=null())  # SQL NULL, not JSON null
        if fraud_on_placing:
            score = str(fraud_score)
            fraud = dict(fraud_module="maxmind", fraud_score=fraud_score,
                         fraud_output={"risk_score": score, "ip_address": {"risk": score}})
        rows["orders"].append(dict(
            id=draft.order_id, order_number=number, client_id=client_id, date=placed, status=status,
            promo_code=promotion[1] if promotion else "", promo_type=promotion[2] if promotion else "",
            promo_value=promotion[3] if promotion else None, amount=total, payment_method=GATEWAY,
            invoice_id=draft.invoice_id, ip_address=ip, affiliate_id=affiliate_id, notes=notes,
            admin_notes="", source=source, placed_by_admin_id=None, version=1, **fraud))

        def event(actor, verb, from_status, to_status, at, details=None):
            rows["order_events"].append(dict(
                id=self.ids.take(OrderEvent.__table__), order_id=draft.order_id, actor_type=actor.type,
                actor_id=actor.id, actor_name=actor.name, verb=verb, from_status=from_status,
                to_status=to_status, details=details or {}, created_at=at))

        if fraud_on_placing:
            event(PLACED_BY[source], Verb.ORDER_PLACED, "", OrderStatus.FRAUD, placed,
                  {"fraud_score": str(fraud_score)})
            return
        event(PLACED_BY[source], Verb.ORDER_PLACED, "", OrderStatus.PENDING, placed)
        if status == OrderStatus.ACTIVE or was_active:
            event(DEMO_ADMIN, Verb.ORDER_ACCEPTED, OrderStatus.PENDING, OrderStatus.ACTIVE, accepted_at)
        if status == OrderStatus.CANCELLED:
            before = OrderStatus.ACTIVE if was_active else OrderStatus.PENDING
            cancelled_at = max(closed_at, accepted_at)
            event(DEMO_ADMIN, Verb.ORDER_CANCELLED, before, OrderStatus.CANCELLED, cancelled_at)
        if status == OrderStatus.FRAUD:
            event(DEMO_ADMIN, Verb.ORDER_SET_FRAUD, OrderStatus.PENDING, OrderStatus.FRAUD, closed_at)

    def _lines(self, rng: random.Random, k: int, basket: str) -> list[tuple]:
        """("service", product, cycle, domain) and ("domain", tld, name, years, transfer, id protection)."""
        label = f"{rng.choice(DOMAIN_WORDS[0])}{rng.choice(DOMAIN_WORDS[1])}{k}"
        tld = self.catalog.tlds[TLD_WEIGHTS.draw(rng)]
        years = rng.choices((1, 2, 3), (70, 20, 10))[0]
        transfer = rng.random() < 0.2 and years in tld.transfer
        id_protection = rng.random() < 0.2 and tld.id_protection > 0
        kind = "hosting" if basket == "hosting+domain" else basket
        lines = []
        if kind != "domain":
            product = self.product_odds[kind].draw(rng)
            cycle = self.cycle_odds[product].draw(rng)
            hostname = label + tld.extension if kind == "hosting" else f"srv{k}.{label}.net"
            lines.append(("service", product, cycle, hostname))
        if basket in ("hosting+domain", "domain"):
            lines.append(("domain", tld, label + tld.extension, years, transfer, id_protection))
        return lines

    @staticmethod
    def _automated(line: tuple) -> bool:
        if line[0] == "service":
            return line[1].auto_setup in (AutoSetup.ON_ORDER, AutoSetup.ON_PAYMENT)
        return bool(line[1].auto_registrar)

    def _affiliate(self, chance: float, which: float, client_id: int) -> int | None:
        if chance >= 0.08 or not self.affiliates:
            return None
        affiliate_id, affiliate_client = self.affiliates[int(which * len(self.affiliates))]
        return None if affiliate_client == client_id else affiliate_id  # nobody refers themselves

    def _bill(self, draft: _Draft, type_: str, related_id: int, description: str, amount: Decimal) -> None:
        draft.invoice_items.append(dict(
            id=self.ids.take(InvoiceItem.__table__), invoice_id=draft.invoice_id, type=type_,
            related_id=related_id, description=description, amount=amount))

    def _service(self, draft: _Draft, line: tuple, rows: dict) -> None:
        _, product, cycle, hostname = line
        price, setup = product.prices[cycle]
        discount, promotion = ZERO, draft.promotion  # a promotion applies to the first service
        if promotion and promotion[2] == PromotionType.FREE_SETUP:
            setup = ZERO
        elif promotion and promotion[2] == PromotionType.PERCENTAGE:
            discount = (price * promotion[3] / 100).quantize(CENT)
        elif promotion:
            discount = min(promotion[3], price)
        draft.promotion = None
        service_id = self.ids.take(Service.__table__)
        months = BillingCycle(cycle).months
        running = draft.status == OrderStatus.ACTIVE
        started = draft.placed.date()
        next_due = _next_due(started, months, self.today if running else None) if months else None
        rows["services"].append(dict(
            id=service_id, order_id=draft.order_id, client_id=draft.client_id, product_id=product.id,
            server_id=product.server_id, domain=hostname,
            username=_username(hostname) if running or draft.was_active else "",
            password=draft.password if running else None, billing_cycle=cycle,
            first_payment_amount=price + setup - discount, recurring_amount=price if months else ZERO,
            promotion_id=promotion[0] if promotion else None, registration_date=started,
            next_due_date=next_due, status=_service_status(draft.status, draft.was_active),
            created_at=draft.placed))
        period = f" ({started:%d/%m/%Y} - {add_months(started, months):%d/%m/%Y})" if months else ""
        self._bill(draft, InvoiceItemType.HOSTING, service_id,
                   f"{product.group} - {product.name} - {hostname}{period}", price)
        if setup:
            self._bill(draft, InvoiceItemType.SETUP, service_id, f"{product.name} Setup Fee", setup)
        if discount:
            self._bill(draft, InvoiceItemType.PROMO_HOSTING, service_id,
                       f"Promotional Code: {promotion[1]}", -discount)

    def _domain(self, draft: _Draft, line: tuple, rows: dict) -> None:
        _, tld, name, years, transfer, id_protection = line
        price, renew = (tld.transfer if transfer else tld.register)[years], tld.renew[years]
        if id_protection:
            price, renew = price + tld.id_protection * years, renew + tld.id_protection * years
        domain_id = self.ids.take(Domain.__table__)
        registered = draft.status == OrderStatus.ACTIVE or draft.was_active
        started = draft.placed.date()
        expiry = _next_due(started, 12 * years, self.today) if registered else None
        rows["domains"].append(dict(
            id=domain_id, order_id=draft.order_id, client_id=draft.client_id, name=name,
            type=DomainOrderType.TRANSFER if transfer else DomainOrderType.REGISTER, period_years=years,
            epp_code=f"{draft.k:08X}-{years}" if transfer else None, registrar="manual" if registered else "",
            dns_management=id_protection, email_forwarding=False, id_protection=id_protection,
            first_payment_amount=price, recurring_amount=renew, promotion_id=None,
            registration_date=started, expiry_date=expiry, next_due_date=expiry or started,
            status=_domain_status(draft.status, draft.was_active), created_at=draft.placed))
        kind = InvoiceItemType.DOMAIN_TRANSFER if transfer else InvoiceItemType.DOMAIN_REGISTER
        verb = "Transfer" if transfer else "Registration"
        self._bill(draft, kind, domain_id, f"Domain {verb} - {name} - {years} Year/s", price)


def _service_status(order_status: str, was_active: bool) -> str:
    if order_status == OrderStatus.CANCELLED:
        # Cancel terminates what was running (DESIGN.md §4).
        return ServiceStatus.TERMINATED if was_active else ServiceStatus.CANCELLED
    return ServiceStatus(order_status)


def _domain_status(order_status: str, was_active: bool) -> str:
    if order_status == OrderStatus.CANCELLED:
        # Cancel leaves a registered domain alone: it is the client's (DESIGN.md §4).
        return DomainStatus.ACTIVE if was_active else DomainStatus.CANCELLED
    return DomainStatus(order_status)


def _count_promotion_uses(session: Session) -> None:
    used = (select(func.count()).select_from(Order).where(Order.promo_code == Promotion.code)
            .scalar_subquery())
    session.execute(update(Promotion).where(Promotion.code.in_([p["code"] for p in PROMOTIONS]))
                    .values(uses=used))


# --- small helpers -----------------------------------------------------------------------------

def _window(start: datetime, latest: datetime | None, end: datetime) -> tuple[datetime, datetime]:
    """New rows are dated after the newest existing one, so ids keep growing with dates."""
    if latest is not None:
        start = max(start, latest + timedelta(minutes=1))
    return (start, end) if start < end else (end - timedelta(hours=1), end)


def _spread(i: int, count: int, start: datetime, end: datetime) -> datetime:
    """The i-th of `count` moments spread evenly from start to end."""
    return start + (end - start) * ((i + 0.5) / count)


def _at(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _next_due(start: date, months: int, today: date | None) -> date:
    """One cycle after start; for a running item, the first cycle end after today (renewed)."""
    due, cycles = add_months(start, months), 1
    while today is not None and due <= today:
        cycles += 1
        due = add_months(start, months * cycles)
    return due


def _username(domain: str) -> str:
    letters = "".join(c for c in domain if c.isalpha())
    return (letters[:8] or "user") + str(sum(map(ord, domain)) % 100)


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return f"2a02:{rng.randrange(0x10000):x}:{rng.randrange(0x10000):x}::{rng.randrange(1, 0x10000):x}"
    first = rng.choice([24, 31, 45, 62, 73, 77, 81, 86, 92, 103, 109, 151, 176, 185, 188, 197, 203, 212])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
