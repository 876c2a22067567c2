"""GetProducts and GetPromotions (read-only)."""

import re

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.errors import ApiError
from api.formats import collection, currencies, day, money
from api.params import item_int
from api.registry import INT, STRING, Call, Param, api_action, integer, obj, string
from api.registry import collection as collection_schema
from api.registry import money as money_schema
from models import (
    ZERO,
    BillingCycle,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionGroup,
    CustomField,
    CustomFieldOwner,
    Permission,
    Product,
    ProductType,
    Promotion,
)

DISABLED = "-1.00"
# WHMCS's pricing keys per cycle (One Time is priced in "monthly" with paytype onetime).
PRICE_KEYS = {
    BillingCycle.MONTHLY: ("monthly", "msetupfee"),
    BillingCycle.QUARTERLY: ("quarterly", "qsetupfee"),
    BillingCycle.SEMI_ANNUALLY: ("semiannually", "ssetupfee"),
    BillingCycle.ANNUALLY: ("annually", "asetupfee"),
    BillingCycle.BIENNIALLY: ("biennially", "bsetupfee"),
    BillingCycle.TRIENNIALLY: ("triennially", "tsetupfee"),
}
WHMCS_TYPE = {
    ProductType.SHARED_HOSTING: "hostingaccount",
    ProductType.RESELLER_HOSTING: "reselleraccount",
    ProductType.SERVER: "server",
    ProductType.OTHER: "other",
}
MAX_PIDS = 1000

PRODUCT_FIELDS = {
    "pid": integer("Product id."),
    "gid": integer("Always 0: products have group names, not group ids."),
    "groupname": string("The product's group."),
    "type": string("hostingaccount, reselleraccount, server, other"),
    "name": string("Name."),
    "slug": string("Name in lower case with dashes."),
    "product-url": string("Empty."),
    "description": string("Description."),
    "module": string("Server module."),
    "paytype": string("free, onetime or recurring"),
    "allowqty": integer("Always 0."),
    "quantity_available": integer("Stock left with stock control, else 0."),
    "pricing": obj(
        "{<currency>: {prefix, suffix, msetupfee ... tsetupfee, monthly ... triennially}}; "
        "-1.00 for a cycle not offered."
    ),
    "customfields": obj(
        "{customfield: [{id, name, description, fieldtype (text, textarea, dropdown, tickbox, password, "
        "link), options (a dropdown's, comma-separated), regexpr, required (0/1), showinvoice (0/1)}]}: the "
        "product's order-form fields in their order (admin-only fields are not listed)."
    ),
    "configoptions": obj(
        "{configoption: [{id, name, type (1 dropdown, 2 radio, 3 yes/no, 4 quantity), minqty, maxqty, "
        "options: {option: [{id, name, pricing}]}}]}; a cycle a choice has no price for costs 0.00."
    ),
}
PROMOTION_FIELDS = {
    "id": integer("Promotion id."),
    "code": string("Code."),
    "type": string("Percentage, Fixed Amount, ..."),
    "recurring": integer("1 when the discount recurs."),
    "value": money_schema("Value."),
    "cycles": string("Allowed billing cycles, comma-separated."),
    "appliesto": string("Product ids and D<tld> entries, comma-separated (empty: everything)."),
    "requires": string("Required product ids and D<tld>, comma-separated."),
    "requiresexisting": integer("1 when the required items may already be owned."),
    "startdate": string("YYYY-MM-DD or 0000-00-00."),
    "expirationdate": string("YYYY-MM-DD or 0000-00-00."),
    "maxuses": integer("0: unlimited."),
    "uses": integer("Times used."),
    "lifetimepromo": integer("Always 0."),
    "applyonce": integer("1/0"),
    "newsignups": integer("1/0"),
    "existingclient": integer("1/0"),
    "onceperclient": integer("1/0"),
    "recurfor": integer("Recurring cycles, 0: forever."),
    "upgrades": integer("1/0"),
    "upgradeconfig": string("Always empty."),
    "notes": string("Notes."),
}


def _pricing(product: Product, cur: dict) -> dict:
    """WHMCS's pricing: one entry per currency the product is priced in (the default one always)."""
    pricing = {}
    for currency_id in [None, *sorted({row.currency_id for row in product.prices} - {cur[None]["id"]})]:
        prices = {"prefix": cur[currency_id]["prefix"], "suffix": cur[currency_id]["suffix"]}
        for price_key, setup_key in PRICE_KEYS.values():
            prices[price_key], prices[setup_key] = DISABLED, DISABLED
        wanted = cur[currency_id]["id"]
        for row in (r for r in product.prices if r.currency_id == wanted):
            cycle = BillingCycle(row.cycle)
            price_key, setup_key = PRICE_KEYS.get(cycle, ("monthly", "msetupfee"))
            prices[price_key], prices[setup_key] = money(row.price), money(row.setup_fee)
        pricing[cur[currency_id]["code"]] = prices
    return pricing


WHMCS_OPTION_TYPE = {"Dropdown": 1, "Radio": 2, "Yes/No": 3, "Quantity": 4}


def _config_options(product: Product, cur: dict) -> list[dict]:
    def pricing(choice) -> dict:
        # Unlike a product's, a cycle without a price row is offered, for nothing.
        return {code: {k: money(ZERO) if v == DISABLED else v for k, v in prices.items()}
                for code, prices in _pricing(choice, cur).items()}

    return [{"id": o.id, "name": o.name, "type": WHMCS_OPTION_TYPE.get(o.type, 1), "minqty": o.min_quantity,
             "maxqty": o.max_quantity,
             "options": {"option": [{"id": c.id, "name": c.name, "pricing": pricing(c)} for c in o.choices]}}
            for group in product.config_option_groups for o in group.options if o.choices]


def _paytype(product: Product) -> str:
    cycles = {row.cycle for row in product.prices}
    if cycles == {BillingCycle.ONE_TIME}:
        return "onetime"
    if cycles and all(row.price == 0 and row.setup_fee == 0 for row in product.prices):
        return "free"
    return "recurring"


@api_action(
    "GetProducts",
    summary="Products with their prices per billing cycle.",
    permissions=(Permission.VIEW_PRODUCTS,),
    params=(
        Param("pid", STRING, "One product id, or several comma-separated."),
        Param("gid", INT, "Product group id.", unsupported="products have group names, not group ids"),
        Param("module", STRING, "Only products using this server module."),
    ),
    response={
        "totalresults": integer("How many."),
        "products": collection_schema("Products.", "product", PRODUCT_FIELDS),
    },
    errors=("pid must be a product id or a comma-separated list of them.",),
)
def get_products(call: Call) -> dict:
    p = call.params
    query = (
        select(Product)
        .where(Product.retired.is_(False))
        .order_by(Product.id)
        .options(selectinload(Product.prices),
                 selectinload(Product.config_option_groups).selectinload(ConfigOptionGroup.options)
                 .selectinload(ConfigOption.choices).selectinload(ConfigOptionChoice.prices))
    )
    pids = [item.strip() for item in p.text("pid", max_length=20_000).split(",") if item.strip()]
    if len(pids) > MAX_PIDS:
        raise ApiError(f"pid lists at most {MAX_PIDS:,} products.")
    if pids:
        query = query.where(Product.id.in_([item_int(item, "pid", 1, 2**31 - 1) for item in pids]))
    module = p.text("module", max_length=50)
    if module:
        query = query.where(Product.module == module)
    cur = currencies(call.session)
    products = call.session.scalars(query).all()
    fields = _order_form_fields(call.session, [product.id for product in products])
    rows = []
    for product in products:
        rows.append(
            {
                "pid": product.id,
                "gid": 0,
                "groupname": product.group_name,
                "type": WHMCS_TYPE.get(product.type, "other"),
                "name": product.name,
                "slug": re.sub(r"[^a-z0-9]+", "-", product.name.lower()).strip("-"),
                "product-url": "",
                "description": product.description,
                "module": product.module,
                "paytype": _paytype(product),
                "allowqty": 0,
                "quantity_available": product.stock_quantity if product.stock_control else 0,
                "pricing": _pricing(product, cur),
                "customfields": {"customfield": fields.get(product.id, [])},
                "configoptions": {"configoption": _config_options(product, cur)},
            }
        )
    return {"totalresults": len(rows), "products": collection("product", rows)}


def _order_form_fields(session, product_ids: list[int]) -> dict[int, list[dict]]:
    """The products' custom fields a storefront asks for, by product id (one query)."""
    if not product_ids:
        return {}
    query = (select(CustomField)
             .where(CustomField.applies_to == CustomFieldOwner.PRODUCT,
                    CustomField.product_id.in_(product_ids), CustomField.admin_only.is_(False),
                    CustomField.show_on_order_form.is_(True))
             .order_by(CustomField.sort_order, CustomField.id))
    fields: dict[int, list[dict]] = {}
    for field in session.scalars(query):
        fields.setdefault(field.product_id, []).append({
            "id": field.id, "name": field.name, "description": field.description,
            "fieldtype": field.field_type, "options": field.options, "regexpr": field.validation,
            "required": int(field.required), "showinvoice": int(field.show_on_invoice),
        })
    return fields


def _listed(product_ids: list, tlds: list) -> str:
    return ",".join([str(i) for i in product_ids or []] + [f"D{t}" for t in tlds or []])


@api_action(
    "GetPromotions",
    summary="Promotions, or the one with a code.",
    permissions=(Permission.VIEW_PROMOTIONS,),
    params=(Param("code", STRING, "Only the promotion with this code (any case)."),),
    response={
        "totalresults": integer("How many."),
        "promotions": collection_schema("Promotions.", "promotion", PROMOTION_FIELDS),
    },
)
def get_promotions(call: Call) -> dict:
    query = select(Promotion).order_by(Promotion.id)
    code = call.params.text("code", max_length=100)
    if code:
        query = query.where(func.lower(Promotion.code) == code.lower())
    rows = [
        {
            "id": promo.id,
            "code": promo.code,
            "type": promo.type,
            "recurring": int(promo.recurring),
            "value": money(promo.value),
            "cycles": ",".join(promo.cycles or []),
            "appliesto": _listed(promo.applies_to_products, promo.applies_to_tlds),
            "requires": _listed(promo.requires_products, promo.requires_tlds),
            "requiresexisting": int(promo.requires_existing),
            "startdate": day(promo.start_date),
            "expirationdate": day(promo.expiration_date),
            "maxuses": promo.max_uses,
            "uses": promo.uses,
            "lifetimepromo": 0,
            "applyonce": int(promo.apply_once),
            "newsignups": int(promo.new_signups),
            "existingclient": int(promo.existing_client),
            "onceperclient": int(promo.once_per_client),
            "recurfor": promo.recur_for,
            "upgrades": int(promo.upgrades),
            "upgradeconfig": "",
            "notes": promo.notes,
        }
        for promo in call.session.scalars(query)
    ]
    return {"totalresults": len(rows), "promotions": collection("promotion", rows)}
