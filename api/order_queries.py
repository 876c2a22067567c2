"""GetOrders and GetOrderStatuses.

GetOrders lists newest first (id descending), 25 a page by default, with WHMCS's filters; each order
carries its line items. `totalresults` is exact on every page and cheap at any size: for no filter
or a status filter it is a sum over the per-status counters (models.order_counts), for an id it is
0 or 1, and for a client it is an index-only count of that client's orders.
"""

import json

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.errors import ApiError
from api.formats import collection, currencies, moment, money
from api.listing import page_of
from api.registry import INT, PAGE_FIELDS, PAGE_PARAMS, STRING, Call, Param, api_action, integer, obj, string
from api.registry import collection as collection_schema
from api.registry import money as money_schema
from models import (
    DomainOrderType,
    Gateway,
    Order,
    OrderSource,
    OrderStatusDefinition,
    Permission,
    Service,
    payment_status_of,
)
from models.order_counts import count_orders, counts_by_status

DOMAIN_PRODUCT_TYPE = {
    DomainOrderType.REGISTER: "Domain Registration",
    DomainOrderType.TRANSFER: "Domain Transfer",
}

LINE_ITEM_FIELDS = {
    "type": string("product or domain"),
    "relid": integer("The service or domain id."),
    "producttype": string("The product's type, or Domain Registration / Domain Transfer."),
    "product": string("The product's name, or the domain's."),
    "domain": string("The service's hostname or the domain name."),
    "billingcycle": string("Display form: Monthly, One Time, ... or '<n> Year(s)'."),
    "amount": money_schema("First payment."),
    "status": string("The item's status."),
}

ORDER_FIELDS = {
    "id": integer("Order id."),
    "ordernum": integer("The 10-digit order number."),
    "userid": integer("Client id."),
    "contactid": integer("Always 0."),
    "requestor_id": integer("The client for orders the client placed, 0 for admin-placed."),
    "admin_requestor_id": integer("The admin who placed it, else 0."),
    "date": string("YYYY-MM-DD HH:MM:SS (UTC)."),
    "nameservers": string("Always empty."),
    "transfersecret": string("Always empty: EPP codes are never sent back."),
    "renewals": string("Always empty."),
    "renewalsByType": obj("Always empty lists."),
    "promocode": string("Promotion code used."),
    "promotype": string("Its type."),
    "promovalue": string("Its value."),
    "orderdata": string("Always empty."),
    "amount": money_schema("Order total."),
    "paymentmethod": string("Gateway system name."),
    "invoiceid": integer("The order's invoice, 0 when none."),
    "status": string("Order status."),
    "ipaddress": string("Client IP."),
    "fraudmodule": string("Fraud module that checked it."),
    "fraudoutput": string("The fraud check's output (JSON text)."),
    "notes": string("Client notes."),
    "paymentmethodname": string("Gateway display name."),
    "paymentstatus": string("Paid, Unpaid, or empty without invoice."),
    "name": string("Client name."),
    "currencyprefix": string("e.g. $"),
    "currencysuffix": string("e.g. USD"),
    "currencycode": string("The order's currency, e.g. EUR (the client's when it was placed)."),
    "frauddata": string("Always empty."),
    "validationdata": string("Always empty."),
    "lineitems": collection_schema("The order's services and domains.", "lineitem", LINE_ITEM_FIELDS),
}


def order_status_title(call: Call, name: str) -> str:
    """A status title, matched regardless of case as WHMCS's database collation does."""
    titles = call.session.scalars(
        select(OrderStatusDefinition.title).order_by(OrderStatusDefinition.sort_order)
    )
    titles = list(titles)
    found = next((t for t in titles if t.lower() == name.lower()), None)
    if found is None:
        raise ApiError(f"Invalid status {name[:64]}. Valid options include {','.join(titles)}")
    return found


def _line_items(order: Order) -> list[dict]:
    items = [
        {
            "type": "product",
            "relid": s.id,
            "producttype": s.product.type,
            "product": s.product.name,
            "domain": s.domain,
            "billingcycle": s.billing_cycle,
            "amount": money(s.first_payment_amount),
            "status": s.status,
        }
        for s in order.services
    ]
    items += [
        {
            "type": "domain",
            "relid": d.id,
            "producttype": DOMAIN_PRODUCT_TYPE.get(d.type, d.type),
            "product": d.name,
            "domain": d.name,
            "billingcycle": f"{d.period_years} Year(s)",
            "amount": money(d.first_payment_amount),
            "status": d.status,
        }
        for d in order.domains
    ]
    return items


def _order_row(order: Order, gateways: dict[str, str], cur: dict) -> dict:
    invoice = order.invoice
    return {
        "id": order.id,
        "ordernum": order.order_number,
        "userid": order.client_id,
        "contactid": 0,
        "requestor_id": 0 if order.source == OrderSource.ADMIN else order.client_id,
        "admin_requestor_id": order.placed_by_admin_id or 0,
        "date": moment(order.date),
        "nameservers": "",
        "transfersecret": "",
        "renewals": "",
        "renewalsByType": {"domains": [], "services": [], "addons": []},
        "promocode": order.promo_code,
        "promotype": order.promo_type,
        "promovalue": money(order.promo_value) if order.promo_value is not None else "",
        "orderdata": "",
        "amount": money(order.amount),
        "paymentmethod": order.payment_method,
        "invoiceid": order.invoice_id or 0,
        "status": order.status,
        "ipaddress": order.ip_address,
        "fraudmodule": order.fraud_module,
        "fraudoutput": "" if order.fraud_output is None else json.dumps(order.fraud_output),
        "notes": order.notes,
        "paymentmethodname": gateways.get(order.payment_method, order.payment_method),
        "paymentstatus": payment_status_of(invoice) if invoice is not None else "",
        "name": order.client.full_name,
        "currencyprefix": cur["prefix"],
        "currencysuffix": cur["suffix"],
        "currencycode": cur["code"],
        "frauddata": "",
        "validationdata": "",
        "lineitems": collection("lineitem", _line_items(order)),
    }


@api_action(
    "GetOrders",
    summary="Orders matching the filters, newest first, with their line items.",
    permissions=(Permission.VIEW_ORDERS, Permission.VIEW_ORDER_DETAILS),
    params=(
        *PAGE_PARAMS,
        Param("id", INT, "One order."),
        Param("userid", INT, "A client's orders."),
        Param("requestor_id", INT, "Orders the client placed (each client is its own user)."),
        Param("status", STRING, "An order status title (any case), core or custom."),
    ),
    response={**PAGE_FIELDS, "orders": collection_schema("The page of orders.", "order", ORDER_FIELDS)},
    errors=(
        "limitnum must be between 1 and 1,000.",
        "Invalid status <status>. Valid options include <statuses>",
    ),
)
def get_orders(call: Call) -> dict:
    start, size = page_of(call)
    p = call.params
    order_id, client_id, requestor_id = p.id("id"), p.id("userid"), p.id("requestor_id")
    status = order_status_title(call, p.text("status", max_length=64)) if p.given("status") else None
    conditions = []
    if order_id is not None:
        conditions.append(Order.id == order_id)
    if client_id is not None:
        conditions.append(Order.client_id == client_id)
    if requestor_id is not None:
        conditions += [Order.client_id == requestor_id, Order.source != OrderSource.ADMIN]
    if status is not None:
        conditions.append(Order.status == status)
    session = call.session
    if order_id is None and client_id is None and requestor_id is None:
        total = count_orders(session, status)
    else:
        total = session.scalar(select(func.count()).select_from(Order).where(*conditions))
    orders = (
        session.scalars(
            select(Order)
            .where(*conditions)
            .order_by(Order.id.desc())
            .offset(start)
            .limit(size)
            .options(
                selectinload(Order.services).selectinload(Service.product),
                selectinload(Order.domains),
                selectinload(Order.client),
                selectinload(Order.invoice),
            )
        ).all()
        if start < total
        else []
    )
    gateways = dict(session.execute(select(Gateway.name, Gateway.display_name)).all()) if orders else {}
    cur = currencies(session)
    rows = [_order_row(order, gateways, cur[order.currency_id]) for order in orders]
    return {
        "totalresults": total,
        "startnumber": start,
        "numreturned": len(rows),
        "orders": collection("order", rows),
    }


@api_action(
    "GetOrderStatuses",
    summary="Every order status, core and custom, with how many orders have it.",
    permissions=(Permission.VIEW_ORDERS,),
    response={
        "totalresults": integer("How many statuses."),
        "statuses": collection_schema(
            "The statuses in their configured order.",
            "status",
            {"title": string("Status title."), "count": integer("Orders with this status.")},
        ),
    },
)
def get_order_statuses(call: Call) -> dict:
    counts = counts_by_status(call.session)
    statuses = call.session.scalars(
        select(OrderStatusDefinition).order_by(OrderStatusDefinition.sort_order, OrderStatusDefinition.id)
    ).all()
    rows = [{"title": s.title, "count": counts.get(s.title, 0)} for s in statuses]
    return {"totalresults": len(rows), "statuses": collection("status", rows)}
