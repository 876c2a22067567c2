"""AddInvoicePayment and CapturePayment: the invoice page's actions (docs/invoices.md) behind
WHMCS's parameters, with the credential as actor; and what UpdateInvoice (api/update_invoice.py)
shares with them: the invoice a call names, its refusals, its dates and amounts.

    AddInvoicePayment  -> actions.add_payment (an amount) / actions.mark_paid (the balance)
    CapturePayment     -> actions.attempt_capture (a capture side effect through the gateway module)

Each action's own checks decide (open invoice, no overpayment, a known gateway, ...); their
refusals come back as the message, WHMCS's where WHMCS has one. The endpoint rolls back a refused
call.
"""

from datetime import UTC, datetime

from actions.add_payment import add_payment
from actions.attempt_capture import attempt_capture
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import order_id_of
from actions.mark_paid import mark_invoice_paid_with_payment
from api.errors import ApiError
from api.params import item_money
from api.registry import (
    BOOL,
    FLOAT,
    INT,
    STRING,
    Call,
    Param,
    api_action,
)
from models import Invoice, InvoiceStatus, Permission
from models.bounds import InvalidInput, parse_date
from models.invoice_guards import ZERO

INVOICE_NOT_FOUND = "Invoice ID Not Found"
PAYMENT_ON_CANCELLED = "It is not possible to add a payment to an invoice that is Cancelled"
NOT_FOUND_OR_NOT_UNPAID = "Invoice Not Found or Not Unpaid"
PAYMENT_ATTEMPT_FAILED = "Payment Attempt Failed"
DATE_TIME = "%Y-%m-%d %H:%M:%S"

INVOICE_ID = Param("invoiceid", INT, "The invoice id.", required=True)


def required_message(name: str) -> str:
    return f"{name} is required"


def invoice_of(call: Call, not_found: str = INVOICE_NOT_FOUND) -> Invoice:
    invoice_id = call.params.id("invoiceid")
    invoice = call.session.get(Invoice, invoice_id) if invoice_id is not None else None
    if invoice is None:
        raise ApiError(not_found)
    call.order_id = order_id_of(call.session, invoice.id)
    return invoice


def refused(exc: TransitionError | InvalidInput) -> ApiError:
    return ApiError(exc.message)


def moment_of(call: Call, name: str):
    """YYYY-MM-DD (a day: now for today, midnight UTC before) or YYYY-MM-DD HH:MM:SS (UTC)."""
    text = call.params.text(name, max_length=19)
    if not text:
        return None
    if len(text) == 10:
        try:
            return parse_date(text, what=name)
        except InvalidInput as exc:
            raise refused(exc) from None
    try:
        moment = datetime.strptime(text, DATE_TIME).replace(tzinfo=UTC)
    except ValueError:
        moment = None
    if moment is None or moment.year < 2000:
        raise ApiError(f"{name} must be a date like 2026-12-31 or 2026-12-31 14:30:00 (UTC).")
    return moment


def money_of(call: Call, name: str, default=None):
    value = call.params.raw(name)
    if value is None or not value.strip():
        return default
    return item_money(value, name)


@api_action(
    "AddInvoicePayment",
    summary="Record a payment received for an invoice; paying the balance marks it Paid.",
    permissions=(Permission.ADD_INVOICE_PAYMENTS,),
    params=(
        INVOICE_ID,
        Param("transid", STRING, "The gateway's transaction id (unique per gateway).", required=True),
        Param("gateway", STRING, "Gateway system name (GetPaymentMethods), e.g. mailin.", required=True),
        Param(
            "date",
            STRING,
            "When it was paid: YYYY-MM-DD HH:MM:SS (UTC), or YYYY-MM-DD (today: now; a past day: "
            "midnight UTC). Not in the future.",
            required=True,
        ),
        Param("amount", FLOAT, "The amount paid (default: the whole balance); at most the balance."),
        Param("fees", FLOAT, "The gateway's fee (default 0.00); at most the amount."),
        Param("noemail", BOOL, "Send no Invoice Payment Confirmation email when this pays the invoice."),
    ),
    errors=(
        INVOICE_NOT_FOUND,
        PAYMENT_ON_CANCELLED,
        required_message("transid"),
        required_message("gateway"),
        required_message("date"),
        "Invoice #<id> is <status>: payments are taken on unpaid invoices only (Mark Unpaid first)",
        "A payment of <amount> would overpay invoice #<id>: its balance is <balance>",
        "Unknown payment gateway '<gateway>'",
        "Transaction '<transid>' of <gateway> is recorded already",
        "The payment date cannot be in the future",
        "The fees cannot be more than the payment",
    ),
)
def add_invoice_payment(call: Call) -> dict:
    invoice = invoice_of(call)
    if invoice.status == InvoiceStatus.CANCELLED:
        raise ApiError(PAYMENT_ON_CANCELLED)
    p = call.params
    transaction_id = p.text("transid", max_length=255)
    gateway = p.text("gateway", max_length=100)
    paid_on = moment_of(call, "date")
    for name, value in (("transid", transaction_id), ("gateway", gateway), ("date", paid_on)):
        if not value:
            raise ApiError(required_message(name))
    amount, fees = money_of(call, "amount"), money_of(call, "fees", default=ZERO)
    confirmation_email = not p.flag("noemail", default=False)
    try:
        if amount is None:
            mark_invoice_paid_with_payment(
                call.session,
                invoice,
                call.caller.actor,
                gateway=gateway,
                paid_on=paid_on,
                transaction_id=transaction_id,
                fees=fees,
                confirmation_email=confirmation_email,
            )
        else:
            add_payment(
                call.session,
                invoice,
                call.caller.actor,
                amount=amount,
                gateway=gateway,
                paid_on=paid_on,
                transaction_id=transaction_id,
                fees=fees,
                confirmation_email=confirmation_email,
            )
    except (TransitionError, InvalidInput) as exc:
        raise refused(exc) from None
    return {}


@api_action(
    "CapturePayment",
    summary="Charge the client's saved card for the invoice's balance (Attempt Capture).",
    permissions=(Permission.ATTEMPT_CC_CAPTURES,),
    params=(
        INVOICE_ID,
        Param(
            "cvv",
            STRING,
            "The card's security code.",
            unsupported="card details never pass through Orderdesk: the gateway charges the payment "
            "method it keeps for the client",
        ),
    ),
    errors=(NOT_FOUND_OR_NOT_UNPAID, PAYMENT_ATTEMPT_FAILED),
    notes="Success means the capture was requested: it runs as a side effect through the gateway "
    "module (once, whatever retries), and its outcome shows on GetInvoice (Paid, or still Unpaid with "
    "lastcaptureattempt set). Payment Attempt Failed: the invoice's payment method cannot capture, or "
    "a capture of it is queued or running already.",
)
def capture_payment(call: Call) -> dict:
    invoice = invoice_of(call, NOT_FOUND_OR_NOT_UNPAID)
    try:
        attempt_capture(call.session, invoice, call.caller.actor)
    except TransitionError as exc:
        if exc.code in (ErrorCode.NOT_ALLOWED, ErrorCode.NOT_FOUND):
            raise ApiError(NOT_FOUND_OR_NOT_UNPAID) from None
        raise ApiError(PAYMENT_ATTEMPT_FAILED) from None
    return {}
