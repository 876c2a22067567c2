"""GetInvoice, GetInvoices and GetPaymentMethods (read-only)."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from api.errors import ApiError
from api.formats import ZERO_RATE, collection, currencies, day, moment, money
from api.listing import ordering, page_of
from api.registry import (
    INT,
    PAGE_FIELDS,
    PAGE_PARAMS,
    STRING,
    Call,
    Param,
    api_action,
    boolean,
    integer,
    string,
)
from api.registry import collection as collection_schema
from api.registry import money as money_schema
from models import Client, Gateway, Invoice, InvoiceStatus, Permission

INVOICE_NOT_FOUND = "Invoice ID Not Found"
OVERDUE = "Overdue"
SORTABLE = {
    "id": Invoice.id,
    "invoicenumber": Invoice.id,
    "date": Invoice.date,
    "duedate": Invoice.due_date,
    "total": Invoice.total,
    "status": Invoice.status,
}

ITEM_FIELDS = {
    "id": integer("Line id."),
    "type": string("Hosting, Setup, DomainRegister, ..."),
    "relid": integer("The service or domain it bills."),
    "description": string("Line text."),
    "amount": money_schema("Line amount."),
    "taxed": integer("Always 0 (no taxes yet)."),
}
TRANSACTION_FIELDS = {
    "id": integer("Transaction id."),
    "userid": integer("Client id."),
    "currency": integer("Always 0."),
    "gateway": string("Gateway system name."),
    "date": string("YYYY-MM-DD HH:MM:SS."),
    "description": string("Text."),
    "amountin": money_schema("Paid in."),
    "fees": money_schema("Gateway fees."),
    "amountout": money_schema("Refunded."),
    "rate": string("Always 1.00000."),
    "transid": string("The gateway's transaction id."),
    "invoiceid": integer("Invoice id."),
    "refundid": integer("The payment a refund refunds, else 0."),
}
LIST_FIELDS = {
    "id": integer("Invoice id."),
    "userid": integer("Client id."),
    "firstname": string("Client first name."),
    "lastname": string("Client last name."),
    "companyname": string("Client company."),
    "invoicenum": string("Always empty (the id is the number)."),
    "date": string("YYYY-MM-DD."),
    "duedate": string("YYYY-MM-DD."),
    "datepaid": string("YYYY-MM-DD HH:MM:SS or 0000-00-00 00:00:00."),
    "last_capture_attempt": string("Date-time or zero."),
    "date_refunded": string("Date-time or zero."),
    "date_cancelled": string("Date-time or zero."),
    "subtotal": money_schema("Subtotal."),
    "credit": money_schema("Credit applied."),
    "tax": money_schema("Tax."),
    "tax2": money_schema("Tax 2."),
    "total": money_schema("Total."),
    "taxrate": string("0.000"),
    "taxrate2": string("0.000"),
    "status": string("Invoice status."),
    "paymentmethod": string("Gateway system name."),
    "paymethodid": {"type": "null", "description": "Always null."},
    "notes": string("Notes."),
    "created_at": string("Date-time."),
    "updated_at": string("Date-time."),
    "currencycode": string("e.g. USD"),
    "currencyprefix": string("e.g. $"),
    "currencysuffix": string("e.g. USD"),
}


def _transaction(t) -> dict:
    return {
        "id": t.id,
        "userid": t.client_id,
        "currency": 0,
        "gateway": t.gateway,
        "date": moment(t.date),
        "description": t.description,
        "amountin": money(t.amount_in),
        "fees": money(t.fees),
        "amountout": money(t.amount_out),
        "rate": "1.00000",
        "transid": t.transaction_id,
        "invoiceid": t.invoice_id or 0,
        "refundid": t.refund_of_id or 0,
    }


@api_action(
    "GetInvoice",
    summary="One invoice with its lines and transactions.",
    permissions=(Permission.LIST_INVOICES,),
    params=(Param("invoiceid", INT, "The invoice id.", required=True),),
    response={
        "invoiceid": integer("Invoice id."),
        "invoicenum": string("Always empty."),
        "userid": integer("Client id."),
        "date": string("YYYY-MM-DD."),
        "duedate": string("YYYY-MM-DD."),
        "datepaid": string("Date-time or zero."),
        "lastcaptureattempt": string("Date-time or zero."),
        "subtotal": money_schema("Subtotal."),
        "credit": money_schema("Credit."),
        "tax": money_schema("Tax."),
        "tax2": money_schema("Tax 2."),
        "total": money_schema("Total."),
        "balance": money_schema("Still to pay."),
        "taxrate": string("0.000"),
        "taxrate2": string("0.000"),
        "status": string("Invoice status."),
        "paymentmethod": string("Gateway."),
        "notes": string("Notes."),
        "ccgateway": boolean("Always false."),
        "currencycode": string("The invoice's currency, e.g. EUR (its client's)."),
        "currencyprefix": string("e.g. €"),
        "currencysuffix": string("e.g. EUR"),
        "items": collection_schema("Invoice lines.", "item", ITEM_FIELDS),
        "transactions": collection_schema("Payments and refunds.", "transaction", TRANSACTION_FIELDS),
    },
    errors=(INVOICE_NOT_FOUND,),
)
def get_invoice(call: Call) -> dict:
    invoice_id = call.params.id("invoiceid")
    invoice = (
        call.session.get(
            Invoice, invoice_id, options=[selectinload(Invoice.items), selectinload(Invoice.transactions)]
        )
        if invoice_id
        else None
    )
    if invoice is None:
        raise ApiError(INVOICE_NOT_FOUND)
    return {
        "invoiceid": invoice.id,
        "invoicenum": "",
        "userid": invoice.client_id,
        "date": day(invoice.date),
        "duedate": day(invoice.due_date),
        "datepaid": moment(invoice.date_paid),
        "lastcaptureattempt": moment(invoice.last_capture_attempt),
        "subtotal": money(invoice.subtotal),
        "credit": money(invoice.credit),
        "tax": money(invoice.tax),
        "tax2": money(None),
        "total": money(invoice.total),
        "balance": money(invoice.balance),
        "taxrate": ZERO_RATE,
        "taxrate2": ZERO_RATE,
        "status": invoice.status,
        "paymentmethod": invoice.payment_method,
        "notes": invoice.notes,
        "ccgateway": False,
        "currencycode": invoice.currency.code,
        "currencyprefix": invoice.currency.prefix,
        "currencysuffix": invoice.currency.suffix,
        "items": collection(
            "item",
            [
                {
                    "id": i.id,
                    "type": i.type,
                    "relid": i.related_id or 0,
                    "description": i.description,
                    "amount": money(i.amount),
                    "taxed": 0,
                }
                for i in invoice.items
            ],
        ),
        "transactions": collection("transaction", [_transaction(t) for t in invoice.transactions]),
    }


@api_action(
    "GetInvoices",
    summary="Invoices matching the filters, a page at a time.",
    permissions=(Permission.LIST_INVOICES,),
    params=(
        *PAGE_PARAMS,
        Param("userid", INT, "A client's invoices."),
        Param(
            "status",
            STRING,
            "An invoice status, or Overdue (Unpaid and past due).",
            enum=(*[s.value for s in InvoiceStatus], OVERDUE),
        ),
        Param("orderby", STRING, "Sort column (default id).", enum=tuple(SORTABLE)),
        Param("order", STRING, "asc or desc (default asc).", enum=("asc", "desc")),
    ),
    response={**PAGE_FIELDS, "invoices": collection_schema("The page of invoices.", "invoice", LIST_FIELDS)},
    errors=(
        "Invalid status <status>",
        "orderby must be one of id, invoicenumber, date, duedate, total, status",
        "order must be asc or desc",
    ),
)
def get_invoices(call: Call) -> dict:
    start, size = page_of(call)
    p = call.params
    conditions = []
    client_id = p.id("userid")
    if client_id is not None:
        conditions.append(Invoice.client_id == client_id)
    status = p.text("status", max_length=32)
    if status:
        known = {s.value.lower(): s.value for s in InvoiceStatus}
        if status.lower() == OVERDUE.lower():
            conditions += [Invoice.status == InvoiceStatus.UNPAID, Invoice.due_date < date.today()]
        elif status.lower() in known:
            conditions.append(Invoice.status == known[status.lower()])
        else:
            raise ApiError(f"Invalid status {status}")
    ordering_ = ordering(p, SORTABLE, Invoice.id, by="orderby", direction="order")
    session = call.session
    total = session.scalar(select(func.count()).select_from(Invoice).where(*conditions))
    invoices = (
        session.scalars(
            select(Invoice)
            .where(*conditions)
            .order_by(*ordering_)
            .offset(start)
            .limit(size)
            .options(selectinload(Invoice.client))
        ).all()
        if start < total
        else []
    )
    cur = currencies(session)
    rows = [_invoice_row(invoice, invoice.client, cur[invoice.currency_id]) for invoice in invoices]
    return {
        "totalresults": total,
        "startnumber": start,
        "numreturned": len(rows),
        "invoices": collection("invoice", rows),
    }


def _invoice_row(invoice: Invoice, client: Client, cur: dict) -> dict:
    return {
        "id": invoice.id,
        "userid": invoice.client_id,
        "firstname": client.first_name,
        "lastname": client.last_name,
        "companyname": client.company_name,
        "invoicenum": "",
        "date": day(invoice.date),
        "duedate": day(invoice.due_date),
        "datepaid": moment(invoice.date_paid),
        "last_capture_attempt": moment(invoice.last_capture_attempt),
        "date_refunded": moment(invoice.date_refunded),
        "date_cancelled": moment(invoice.date_cancelled),
        "subtotal": money(invoice.subtotal),
        "credit": money(invoice.credit),
        "tax": money(invoice.tax),
        "tax2": money(None),
        "total": money(invoice.total),
        "taxrate": ZERO_RATE,
        "taxrate2": ZERO_RATE,
        "status": invoice.status,
        "paymentmethod": invoice.payment_method,
        "paymethodid": None,
        "notes": invoice.notes,
        "created_at": moment(invoice.created_at),
        "updated_at": moment(invoice.created_at),
        "currencycode": cur["code"],
        "currencyprefix": cur["prefix"],
        "currencysuffix": cur["suffix"],
    }


@api_action(
    "GetPaymentMethods",
    summary="The active payment gateways, in their configured order.",
    permissions=(),
    response={
        "totalresults": integer("How many."),
        "paymentmethods": collection_schema(
            "Gateways.",
            "paymentmethod",
            {
                "module": string("System name, as AddOrder's paymentmethod."),
                "displayname": string("Name shown to clients."),
            },
            empty_string=False,
        ),
    },
)
def get_payment_methods(call: Call) -> dict:
    gateways = call.session.scalars(
        select(Gateway).where(Gateway.active).order_by(Gateway.sort_order, Gateway.id)
    )
    rows = [{"module": g.name, "displayname": g.display_name} for g in gateways]
    # whmcs-api-client types this container, so it is never "" (an empty list instead).
    return {
        "totalresults": len(rows),
        "paymentmethods": collection("paymentmethod", rows, empty_string=False),
    }
