"""UpdateInvoice: the invoice page's actions (docs/invoices.md) behind WHMCS's parameters, with the
credential as actor.

    lines                              -> actions.edit_invoice_lines
    date, due date, payment method, notes (the invoice form's fields) -> actions.record_edits
    status                             -> mark_unpaid / mark_paid / cancel_invoice

The endpoint rolls back a refused call, so an UpdateInvoice that fails half way changes nothing.
"""

from actions.add_payment import known_gateway
from actions.cancel_invoice import cancel_invoice
from actions.edit_invoice_lines import edit_invoice_lines
from actions.errors import TransitionError
from actions.mark_paid import mark_invoice_paid_with_payment
from actions.mark_unpaid import mark_invoice_unpaid
from actions.record_edits import record_edit
from api.auth import check_permission
from api.errors import ApiError
from api.invoices import INVOICE_ID, INVOICE_NOT_FOUND, invoice_of, refused
from api.params import item_int, item_money, item_text, parse_flag
from api.registry import (
    BOOL,
    BOOL_ARRAY,
    FLOAT,
    FLOAT_ARRAY,
    INT_ARRAY,
    KEYED,
    STRING,
    STRING_ARRAY,
    Call,
    Param,
    api_action,
    integer,
)
from models import InvoiceStatus, Permission
from models.bounds import MAX_INT, InvalidInput, parse_date

NOT_DRAFT = "Invoice must be in Draft status to be published"
MISSING_ITEM_VARIABLES = (
    "Missing Variables: itemdescription, itemamount and itemtaxed are required for each item being changed"
)
MISSING_NEW_ITEM_VARIABLES = (
    "Missing Variables: newitemdescription and newitemamount are required for each new item"
)
NO_TAXES = "Orderdesk has no taxes yet: lines are never taxed"


# UpdateInvoice's status values and the permission each needs beyond Manage Invoice.
STATUS_PERMISSION = {
    InvoiceStatus.UNPAID: Permission.MARK_INVOICES_UNPAID,
    InvoiceStatus.PAID: Permission.ADD_INVOICE_PAYMENTS,
    InvoiceStatus.CANCELLED: Permission.CANCEL_INVOICES,
}
NO_ACTION_FOR = (
    InvoiceStatus.DRAFT,
    InvoiceStatus.REFUNDED,
    InvoiceStatus.COLLECTIONS,
    InvoiceStatus.PAYMENT_PENDING,
)


def _status(call: Call) -> str | None:
    word = call.params.text("status", max_length=32)
    if not word:
        return None
    by_word = {s.value.lower(): s.value for s in InvoiceStatus}
    status = by_word.get(word.lower())
    if status is None:
        raise ApiError(f"Invalid status {word}")
    if status in NO_ACTION_FOR:
        raise ApiError(
            f"UpdateInvoice: status {status} is not supported (invoices are set Unpaid, Paid or "
            "Cancelled here; Refunded follows refunds)."
        )
    return status


def _single(value, what: str) -> str:
    if isinstance(value, dict):
        raise ApiError(f"Parameter {what} must be a single value, not an array.")
    return value


def _untaxed(value, what: str) -> None:
    if parse_flag(_single(value, what), what):
        raise ApiError(f"{what}: {NO_TAXES}.")


def _line_id(key, name: str) -> int:
    if not isinstance(key, int):
        raise ApiError(f"Parameter {name} must be keyed by line ids, not {str(key)[:40]!r}.")
    return item_int(str(key), f"{name} key", minimum=1, maximum=MAX_INT)


def _changed_lines(call: Call) -> dict:
    """itemdescription[<line id>], itemamount[...], itemtaxed[...]: all three for every line."""
    p = call.params
    descriptions, amounts, taxed = p.array("itemdescription"), p.array("itemamount"), p.array("itemtaxed")
    if not (descriptions or amounts or taxed):
        return {}
    if not descriptions.keys() == amounts.keys() == taxed.keys():
        raise ApiError(MISSING_ITEM_VARIABLES)
    changed = {}
    for key, description in descriptions.items():
        line_id = _line_id(key, "itemdescription")
        what = f"itemdescription[{line_id}]"
        _untaxed(taxed[key], f"itemtaxed[{line_id}]")
        changed[line_id] = (
            item_text(_single(description, what), what, max_length=1000),
            item_money(
                _single(amounts[key], f"itemamount[{line_id}]"), f"itemamount[{line_id}]", allow_negative=True
            ),
        )
    return changed


def _new_lines(call: Call) -> list:
    p = call.params
    descriptions, amounts = p.positional("newitemdescription"), p.positional("newitemamount")
    taxed = p.positional("newitemtaxed")
    if descriptions.keys() != amounts.keys() or not taxed.keys() <= descriptions.keys():
        raise ApiError(MISSING_NEW_ITEM_VARIABLES)
    added = []
    for key, description in descriptions.items():
        if key in taxed:
            _untaxed(taxed[key], f"newitemtaxed[{key}]")
        added.append(
            (
                item_text(description, f"newitemdescription[{key}]", max_length=1000),
                item_money(amounts[key], f"newitemamount[{key}]", allow_negative=True),
            )
        )
    return added


def _removed_lines(call: Call) -> set[int]:
    return {
        item_int(value, f"deletelineids[{key}]", minimum=1, maximum=MAX_INT)
        for key, value in call.params.positional("deletelineids").items()
    }


def _day(call: Call, name: str):
    text = call.params.text(name, max_length=10)
    if not text:
        return None
    try:
        return parse_date(text, what=name)
    except InvalidInput as exc:
        raise refused(exc) from None


def _needs(call: Call, permission: str) -> None:
    check_permission(call.caller, "updateinvoice", (Permission.MANAGE_INVOICE, permission))


@api_action(
    "UpdateInvoice",
    summary="Change an invoice: its lines, dates, payment method, notes and status.",
    permissions=(Permission.MANAGE_INVOICE,),
    params=(
        INVOICE_ID,
        Param(
            "status",
            STRING,
            "Unpaid (Mark Unpaid), Paid (Mark Paid: the balance recorded as one payment with the "
            "invoice's payment method) or Cancelled (Cancel); the current status changes nothing.",
            enum=(InvoiceStatus.UNPAID.value, InvoiceStatus.PAID.value, InvoiceStatus.CANCELLED.value),
        ),
        Param("paymentmethod", STRING, "Gateway system name (GetPaymentMethods)."),
        Param("date", STRING, "Invoice date, YYYY-MM-DD."),
        Param("duedate", STRING, "Due date, YYYY-MM-DD."),
        Param("datepaid", STRING, "With status=Paid: the day of that payment, YYYY-MM-DD (default today)."),
        Param("notes", STRING, "Notes (replaces them)."),
        Param("itemdescription", KEYED, "itemdescription[<line id>]: the line's new text (GetInvoice ids)."),
        Param("itemamount", KEYED, "itemamount[<line id>]: the line's new amount (negative: a discount)."),
        Param("itemtaxed", KEYED, "itemtaxed[<line id>]: must be 0 (no taxes yet)."),
        Param("newitemdescription", STRING_ARRAY, "New lines' texts."),
        Param("newitemamount", FLOAT_ARRAY, "New lines' amounts, same indexes."),
        Param("newitemtaxed", BOOL_ARRAY, "New lines: must be 0 (no taxes yet)."),
        Param("deletelineids", INT_ARRAY, "Ids of lines to remove."),
        Param("publish", BOOL, "Publish a Draft invoice (it becomes Unpaid)."),
        Param(
            "publishandsendemail",
            BOOL,
            "Publish a Draft invoice and send the Invoice Created email.",
            unsupported="Orderdesk sends Invoice Created when an order's invoice is made, not when a draft "
            "is published; use publish",
        ),
        Param("taxrate", FLOAT, "Tax rate.", unsupported="Orderdesk has no taxes yet"),
        Param("taxrate2", FLOAT, "Second tax rate.", unsupported="Orderdesk has no taxes yet"),
        Param("credit", FLOAT, "Credit applied.", unsupported="Orderdesk has no client credit yet"),
    ),
    response={"invoiceid": integer("The invoice id.")},
    errors=(
        INVOICE_NOT_FOUND,
        NOT_DRAFT,
        MISSING_ITEM_VARIABLES,
        MISSING_NEW_ITEM_VARIABLES,
        "Invalid status <status>",
        "UpdateInvoice: status <status> is not supported (...)",
        "datepaid is only taken with status=Paid",
        f"itemtaxed[<id>]: {NO_TAXES}.",
        "Invoice #<id> is <status>: only unpaid invoices' lines can change",
        "Invoice #<id> has no line <line id>",
        "The lines would total <total>: below zero, or less than the <paid> already paid and not refunded",
        "Unknown payment gateway '<gateway>'",
        "Invoice #<id> is already Cancelled",
        "Invoice #<id> has payments that are not refunded; refund them before cancelling it",
    ),
    notes="Beyond Manage Invoice (dates, payment method, notes): lines need Edit Invoice Lines; "
    "status Unpaid and publish Mark Invoices Unpaid; Paid Add Invoice Payments and Mark Invoices "
    "Paid; Cancelled Cancel Invoices. In one call: publish and status Unpaid first, then the lines, "
    "then the fields, then Paid or Cancelled; a refusal anywhere changes nothing.",
)
def update_invoice(call: Call) -> dict:
    invoice = invoice_of(call)
    p = call.params
    status = _status(call)
    publish = p.flag("publish", default=False)
    changed, added, removed = _changed_lines(call), _new_lines(call), _removed_lines(call)
    fields = {
        "date": _day(call, "date"),
        "due_date": _day(call, "duedate"),
        "payment_method": p.text("paymentmethod", max_length=100) or None,
        "notes": None if p.raw("notes") is None else p.text("notes", max_length=10_000, single_line=False),
    }
    fields = {name: value for name, value in fields.items() if value is not None}
    paid_on = _day(call, "datepaid")
    if paid_on is not None and status != InvoiceStatus.PAID:
        raise ApiError("datepaid is only taken with status=Paid")
    if changed or added or removed:
        _needs(call, Permission.EDIT_INVOICE_LINES)
    if publish:
        _needs(call, Permission.MARK_INVOICES_UNPAID)
    if status is not None and status != invoice.status:
        _needs(call, STATUS_PERMISSION[status])
    actor = call.caller.actor
    try:
        if publish:
            if invoice.status != InvoiceStatus.DRAFT:
                raise ApiError(NOT_DRAFT)
            mark_invoice_unpaid(call.session, invoice, actor)
        if status == InvoiceStatus.UNPAID and invoice.status != status:
            mark_invoice_unpaid(call.session, invoice, actor)
        if changed or added or removed:
            edit_invoice_lines(call.session, invoice, actor, changed=changed, removed=removed, added=added)
        if fields:
            if "payment_method" in fields:
                fields["payment_method"] = known_gateway(call.session, fields["payment_method"]).name
            for name, value in fields.items():
                setattr(invoice, name, value)
            record_edit(call.session, invoice, actor)
        if status == InvoiceStatus.PAID and invoice.status != status:
            mark_invoice_paid_with_payment(
                call.session, invoice, actor, gateway=invoice.payment_method, paid_on=paid_on
            )
        if status == InvoiceStatus.CANCELLED and invoice.status != status:
            cancel_invoice(call.session, invoice, actor)
    except (TransitionError, InvalidInput) as exc:
        raise refused(exc) from None
    return {"invoiceid": invoice.id}
