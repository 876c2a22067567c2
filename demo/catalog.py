"""The demo catalog: a server, products and prices, TLDs, promotions, a card gateway and a custom
order status. Looked up by name and inserted when missing (a few rows: the ORM is fine).

`ensure_catalog` returns the rows as detached ORM objects, so actions.pricing.price_cart can price
carts from them while the seeder commits batch after batch.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.order_statuses import check_order_status
from actions.place import order_days_grace
from actions.pricing import Catalog
from demo.addons import ADDONS, ensure_addons
from demo.config_options import ensure_config_options, load_demo_options
from demo.custom_fields import ensure_custom_fields, load_custom_fields
from models import (
    Addon,
    AutoSetup,
    BillingCycle,
    CustomField,
    Gateway,
    OrderStatusDefinition,
    Product,
    ProductPrice,
    ProductType,
    Promotion,
    PromotionType,
    Server,
    Tld,
    TldPrice,
    default_currency,
)

SERVER = dict(name="Manual Provisioning", hostname="provisioning.example.net", module="manual")
REGISTRAR = "manual"  # where an admin accepting an order sends domains that have no registrar yet

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
STOCK_CONTROLLED = {"Dedicated Servers": 5}  # group: units in stock (restocked as they sell)

# extension: (1-year register, transfer, renew price, auto-registration registrar, EPP code needed,
#             ID protection price)
TLDS = {
    ".com": ("12.99", "12.99", "14.99", "manual", True, "2.99"),
    ".net": ("14.99", "14.99", "16.99", "manual", True, "2.99"),
    ".org": ("13.49", "13.49", "15.49", "", True, "2.99"),
    ".io": ("45.00", "45.00", "49.00", "", True, "0.00"),
    ".co.uk": ("8.99", "0.00", "8.99", "", False, "0.00"),
}

HOSTING_GROUP = "Shared Hosting"
PROMOTIONS = [
    dict(code="WELCOME10", type=PromotionType.PERCENTAGE, value=Decimal("10.00"), new_signups=True,
         notes="10% off the first order for new customers"),
    dict(code="SAVE5", type=PromotionType.FIXED_AMOUNT, value=Decimal("5.00"), apply_once=True,
         notes="$5 off any hosting plan"),  # applies_to_products: the hosting plans
    dict(code="FREESETUP", type=PromotionType.FREE_SETUP, value=Decimal("0.00"),
         notes="No setup fee"),
]

BANK_TRANSFER = "banktransfer"  # actions.reference_data's default gateway
# The built-in test gateway (no network, no real money): a newcomer can Attempt Capture on unpaid
# card orders and Cancel & Refund paid ones right after `make run`.
CARD = "testgateway"
GATEWAYS = [dict(name=CARD, display_name="Card (Test gateway, no real money)", module="testgateway",
                 sort_order=2)]

ON_HOLD = "On Hold"
ORDER_STATUSES = [dict(title=ON_HOLD, color="#f0ad4e", include_in_pending=True, sort_order=15)]


@dataclass(frozen=True)
class DemoCatalog:
    products: dict[str, list[Product]]  # basket kind ("hosting", "vps", ...) -> products
    tlds: dict[str, Tld]  # ".com" -> Tld
    promotions: list[Promotion]
    addons: list[Addon]
    pricing: Catalog  # what actions.pricing.price_cart reads
    days_grace: int  # the order_days_grace setting placing reads
    custom_fields: dict[int, list[CustomField]] = field(default_factory=dict)  # product id -> its fields

    def product(self, product_id: int) -> Product:
        return self.pricing.products[product_id]


BASKET_OF_GROUP = {"Shared Hosting": "hosting", "VPS": "vps", "Dedicated Servers": "dedicated"}


def ensure_catalog(session: Session) -> DemoCatalog:
    server = session.scalar(select(Server).where(Server.name == SERVER["name"]))
    if server is None:
        server = Server(**SERVER)
        session.add(server)
        session.flush()
    for group, name, type_, auto_setup, welcome, prices in PRODUCTS:
        product = session.scalar(select(Product).where(Product.group_name == group, Product.name == name))
        if product is None:
            product = Product(group_name=group, name=name, type=type_, auto_setup=auto_setup, module="manual",
                              welcome_email=welcome, default_server=server,
                              requires_domain=type_ == ProductType.SHARED_HOSTING,
                              stock_control=group in STOCK_CONTROLLED,
                              stock_quantity=STOCK_CONTROLLED.get(group, 0))
            session.add(product)
        have = {p.cycle for p in product.prices}
        for cycle, (price, setup) in prices.items():
            if cycle not in have:
                product.prices.append(
                    ProductPrice(cycle=cycle, price=Decimal(price), setup_fee=Decimal(setup)))
    session.flush()
    _ensure_tlds(session)
    ensure_addons(session)
    ensure_config_options(session)
    ensure_custom_fields(session)
    hosting = session.scalars(select(Product.id).where(Product.group_name == HOSTING_GROUP)
                              .order_by(Product.id)).all()
    for row in PROMOTIONS:
        if session.scalar(select(Promotion.id).where(Promotion.code == row["code"])) is None:
            extra = {"applies_to_products": list(hosting)} if row["code"] == "SAVE5" else {}
            session.add(Promotion(**row, **extra))
    for row in GATEWAYS:
        if session.scalar(select(Gateway.id).where(Gateway.name == row["name"])) is None:
            session.add(Gateway(**row))
    titles = set(session.scalars(select(OrderStatusDefinition.title)))
    for row in ORDER_STATUSES:
        if row["title"] not in titles:
            status = OrderStatusDefinition(**row)
            check_order_status(session, status)
            session.add(status)
    session.flush()
    return _load(session)


def _ensure_tlds(session: Session) -> None:
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


def _load(session: Session) -> DemoCatalog:
    """The demo's rows, fully loaded and detached (commits do not expire them)."""
    # First: loading the products below refreshes the ones these addons point at, prices and all.
    addons = session.scalars(select(Addon).where(Addon.name.in_([a[0] for a in ADDONS])).order_by(Addon.id)
                             .options(selectinload(Addon.prices), selectinload(Addon.products))
                             .execution_options(populate_existing=True)).all()
    names = [(group, name) for group, name, *_ in PRODUCTS]
    products = [session.scalar(select(Product).where(Product.group_name == g, Product.name == n)
                               .options(selectinload(Product.prices))
                               .execution_options(populate_existing=True)) for g, n in names]
    tlds = session.scalars(select(Tld).where(Tld.extension.in_(list(TLDS))).order_by(Tld.id)
                           .options(selectinload(Tld.prices)).execution_options(populate_existing=True)).all()
    codes = [row["code"] for row in PROMOTIONS]
    promotions = session.scalars(select(Promotion).where(Promotion.code.in_(codes)).order_by(Promotion.id)
                                 .execution_options(populate_existing=True)).all()
    days_grace = order_days_grace(session)
    options = load_demo_options(session, products)
    for row in [*products, *tlds, *promotions, *addons]:
        session.expunge(row)
    by_kind: dict[str, list[Product]] = {}
    for product in products:
        by_kind.setdefault(BASKET_OF_GROUP.get(product.group_name, "other"), []).append(product)
    return DemoCatalog(
        products=by_kind,
        tlds={t.extension: t for t in tlds},
        promotions=list(promotions),
        addons=list(addons),
        pricing=Catalog(products={p.id: p for p in products}, tlds={t.extension: t for t in tlds},
                        addons={a.id: a for a in addons}, options=options,
                        currency_id=default_currency(session).id),  # the demo sells in the default one
        days_grace=days_grace,
        custom_fields=load_custom_fields(session),
    )
