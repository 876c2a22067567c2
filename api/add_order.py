"""AddOrder: WHMCS's parameters into a Cart, placed by actions.fraud_screening.place_screened_order
(actions.place.place_order, as Add New Order uses, with the fraud check around it), with source=api
and the credential as placing actor.

How positions line up: api/add_order_cart.py.
Product addons (addons[k]), configurable options (configoptions[k], api/add_order_options.py) and
custom fields (customfields[k], api/custom_fields.py) go on the line's CartProduct. Domain fields
are decoded and checked, and an order that carries any is refused: the catalog has none yet.
"""

from sqlalchemy import select

from actions.cart import Cart, PlacementError, PlaceOptions
from actions.fraud_screening import place_screened_order
from api.add_order_cart import client_ip_of, domains_of, products_of, refuse_catalog_extras
from api.errors import ApiError
from api.formats import CYCLE_BY_SYSTEM_NAME
from api.registry import (
    BOOL,
    BOOL_ARRAY,
    FLOAT_ARRAY,
    INT,
    INT_ARRAY,
    KEYED,
    STRING,
    STRING_ARRAY,
    Call,
    Param,
    api_action,
    integer,
    string,
)
from models import Gateway, OrderSource, Permission
from models.bounds import MAX_QUANTITY

ADDON_ONLY = "an addon is ordered with its product (addons[k]), not later for an existing service"

CLIENT_NOT_FOUND = "Client ID Not Found"
CLIENT_CLOSED = "Unable to add order when client status is Closed"
NO_ITEMS = "No items added to cart so order cannot proceed"
INVALID_PAYMENT_METHOD = "Invalid Payment Method. Valid options include {options}"

_NOT_SUPPORTED = "orders have nowhere to keep it yet"

PARAMS = (
    Param("clientid", INT, "The client the order is for.", required=True),
    Param(
        "paymentmethod", STRING, "Gateway system name (GetPaymentMethods), e.g. banktransfer.", required=True
    ),
    Param("pid", INT_ARRAY, "Product ids, one per product line."),
    Param("qty", INT_ARRAY, f"Quantity per product line (1 to {MAX_QUANTITY}, default 1)."),
    Param(
        "domain",
        STRING_ARRAY,
        "Per line: the product's hostname; with domaintype, also a domain to register or transfer.",
    ),
    Param(
        "billingcycle",
        STRING_ARRAY,
        "Per product line: " + ", ".join(CYCLE_BY_SYSTEM_NAME) + " (default: the product's shortest cycle).",
    ),
    Param("priceoverride", FLOAT_ARRAY, "Per product line: the price to charge instead (no setup fee)."),
    Param("domaintype", STRING_ARRAY, "Per domain line: register or transfer."),
    Param("regperiod", INT_ARRAY, "Per domain line: years, 1 to 10 (default 1)."),
    Param("eppcode", STRING_ARRAY, "Per domain line: the EPP code of a transfer (stored encrypted)."),
    Param("dnsmanagement", BOOL_ARRAY, "Per domain line: add DNS management."),
    Param("emailforwarding", BOOL_ARRAY, "Per domain line: add email forwarding."),
    Param("idprotection", BOOL_ARRAY, "Per domain line: add ID protection."),
    Param("domainpriceoverride", FLOAT_ARRAY, "Per domain line: the registration/transfer price instead."),
    Param("domainrenewoverride", FLOAT_ARRAY, "Per domain line: the renewal price instead."),
    Param("promocode", STRING, "A promotion code (GetPromotions)."),
    Param("affid", INT, "The affiliate to credit."),
    Param("clientip", STRING, "The client's IP address, stored on the order."),
    Param("noinvoice", BOOL, "Create no invoice (invoiceid is then 0)."),
    Param("noinvoiceemail", BOOL, "Do not send the Invoice Created email."),
    Param("noemail", BOOL, "Do not send the Order Confirmation email."),
    Param(
        "addons",
        STRING_ARRAY,
        "Per product line: comma-separated ids of product addons, given to each of the line's services.",
    ),
    Param("addonsqty", STRING_ARRAY, "Per product line: a quantity per addon in addons; only 1."),
    Param(
        "configoptions",
        STRING_ARRAY,
        "Per product line: base64 PHP-serialized {option id: choice id, 0/1 for yes/no, or quantity}.",
    ),
    Param(
        "customfields",
        STRING_ARRAY,
        "Per product line: base64 PHP-serialized {custom field id: value}, given to each of the line's "
        "services; checked like the order form's (required, type, pattern).",
    ),
    Param(
        "domainfields",
        STRING_ARRAY,
        "Per domain line: base64 PHP-serialized TLD fields. Decoded; refused when not empty.",
    ),
    *(
        Param(f"nameserver{n}", STRING, "Nameserver for every domain.", unsupported=_NOT_SUPPORTED)
        for n in range(1, 6)
    ),
    *(
        Param(name, STRING_ARRAY, "VPS/dedicated server details.", unsupported=_NOT_SUPPORTED)
        for name in ("hostname", "ns1prefix", "ns2prefix", "rootpw")
    ),
    Param("idnlanguage", STRING_ARRAY, "IDN language per domain.", unsupported=_NOT_SUPPORTED),
    Param("contactid", INT, "Registrant contact for every domain.", unsupported="clients have no contacts"),
    Param(
        "domainrenewals",
        KEYED,
        "domainrenewals[<domain>]=<years>.",
        unsupported="renewals are invoiced, never ordered, in Orderdesk",
    ),
    *(
        Param(name, kind, "Addon-only orders.", unsupported=ADDON_ONLY)
        for name, kind in (
            ("addonid", INT),
            ("addonidqty", INT),
            ("serviceid", INT),
            ("addonids", INT_ARRAY),
            ("addonidsqty", INT_ARRAY),
            ("serviceids", INT_ARRAY),
        )
    ),
    *(
        Param(name, INT_ARRAY, "On-demand renewals.", unsupported="renewals are invoiced, never ordered")
        for name in ("servicerenewals", "addonrenewals")
    ),
    Param(
        "promooverride",
        BOOL,
        "Apply the promotion even to items it does not cover.",
        unsupported="a promotion applies to the items it covers",
    ),
    Param("clientemail", STRING, "Update the client's email.", unsupported=_NOT_SUPPORTED),
)

PRODUCT_FIELDS = {
    "product_id": "pid",
    "billing_cycle": "billingcycle",
    "quantity": "qty",
    "price_override": "priceoverride",
    "domain": "domain",
    "addon_ids": "addons",
    "config_options": "configoptions",  # configoptions[k], or configoptions[k][<option id>]
}
DOMAIN_FIELDS = {"name": "domain", "type": "domaintype", "period_years": "regperiod", "epp_code": "eppcode"}


def _message(
    call: Call, errors: dict[str, list[str]], product_keys: list[int], domain_keys: list[int]
) -> str:
    """PlacementError's field errors in WHMCS's words where WHMCS has them, else "param[k]: ..."."""
    first, rest = [], []
    for name, messages in errors.items():
        if name == "client_id":
            first.append(CLIENT_CLOSED if CLIENT_CLOSED in messages else CLIENT_NOT_FOUND)
        elif name == "payment_method":
            gateways = call.session.scalars(
                select(Gateway.name).where(Gateway.active).order_by(Gateway.sort_order)
            )
            first.append(INVALID_PAYMENT_METHOD.format(options=",".join(gateways)))
        elif name == "cart":
            first.append(NO_ITEMS)
        else:
            rest.append(f"{_parameter(name, product_keys, domain_keys)}: {' '.join(messages)}")
    return "; ".join(first + rest)


def _parameter(name: str, product_keys: list[int], domain_keys: list[int]) -> str:
    kind, _, rest = name.partition("-")
    if kind in ("products", "domains") and rest:
        line, _, field = rest.partition("-")
        field, _, option = field.partition("-")
        keys, fields = (product_keys, PRODUCT_FIELDS) if kind == "products" else (domain_keys, DOMAIN_FIELDS)
        field = "customfields" if field.startswith("customfield") else field  # one blob per line
        key = keys[int(line)] if line.isdigit() and int(line) < len(keys) else line
        return f"{fields.get(field, field)}[{key}]" + (f"[{option}]" if option else "")
    return {"promo_code": "promocode", "affiliate_id": "affid"}.get(name, name)


@api_action(
    "AddOrder",
    summary="Place an order for a client: products, domains, promotion; invoice unless noinvoice.",
    permissions=(Permission.ADD_NEW_ORDER,),
    params=PARAMS,
    response={
        "orderid": integer("The new order's id."),
        "serviceids": string("Comma-separated ids of the services created."),
        "productids": string(
            "The same as serviceids (its name before WHMCS 7.8; whmcs-api-client reads it)."
        ),
        "addonids": string("Comma-separated ids of the ordered addons created (service addons)."),
        "domainids": string("Comma-separated ids of the domains created."),
        "invoiceid": integer("The order's invoice, 0 with noinvoice."),
    },
    errors=(
        CLIENT_NOT_FOUND,
        CLIENT_CLOSED,
        INVALID_PAYMENT_METHOD.format(options="<gateways>"),
        NO_ITEMS,
        "Expecting parameter 'domaintype' to be an array",
        "pid[<k>]: Unknown product.",
        "billingcycle[<k>]: <product> is not offered with the <cycle> billing cycle.",
        "promocode: <why the promotion does not apply>",
        "configoptions[<k>][<option id>]: <option> must be between <min> and <max>.",
        "configoptions[<k>]: Unknown configurable option '<id>'.",
        "addons[<k>]: <addon> is not available for <product>.",
        "AddOrder: <parameter> is not supported (...)",
    ),
)
def add_order(call: Call) -> dict:
    p = call.params
    client_id = p.id("clientid")
    if client_id is None:
        raise ApiError(CLIENT_NOT_FOUND)
    products, product_keys = products_of(p)
    domains, domain_keys = domains_of(p, product_keys)
    refuse_catalog_extras(p)
    cart = Cart(
        client_id=client_id,
        payment_method=p.text("paymentmethod", max_length=100),
        promo_code=p.text("promocode", max_length=100),
        products=products,
        domains=domains,
        ip_address=client_ip_of(p),
        affiliate_id=p.id("affid"),
    )
    no_invoice = p.flag("noinvoice", False)
    options = PlaceOptions(
        order_confirmation=not p.flag("noemail", False),
        generate_invoice=not no_invoice,
        send_invoice_email=not no_invoice and not p.flag("noinvoiceemail", False),
        source=OrderSource.API,
        placed_by_admin_id=call.caller.admin.id if call.caller.admin else None,
    )
    try:
        order = place_screened_order(call.session, cart, call.caller.actor, options)
    except PlacementError as exc:
        raise ApiError(_message(call, exc.errors, product_keys, domain_keys)) from None
    call.order_id = order.id
    service_ids = ",".join(str(s.id) for s in order.services)
    return {
        "orderid": order.id,
        "serviceids": service_ids,
        "productids": service_ids,
        "addonids": ",".join(str(a.id) for a in order.addons),
        "domainids": ",".join(str(d.id) for d in order.domains),
        "invoiceid": order.invoice_id or 0,
    }
