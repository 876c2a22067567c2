"""Guards of the invoice page's actions: may this action run on this invoice, and if not, why.
Read-only; actions/ raise the refusal, the invoice page hides what would be refused.

    payment_refusal(invoice, amount) -> Refusal | None      Add Payment / Mark Paid
    cancel_refusal(invoice) / mark_unpaid_refusal(invoice) / lines_refusal(invoice)
    capture_refusal(invoice) -> Refusal | None               status and balance (the gateway apart)
    refund_refusal(left, amount) -> Refusal | None           left: what is not refunded yet
"""

from decimal import Decimal

from models.billing import Invoice
from models.guards import Refusal, RefusalCode
from models.vocab import InvoiceStatus

ZERO = Decimal("0.00")
# Invoices a client still owes on: payments and captures are taken, lines may change.
OPEN = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.UNPAID, InvoiceStatus.PAYMENT_PENDING,
                  InvoiceStatus.COLLECTIONS})


def _not_allowed(message: str) -> Refusal:
    return Refusal(RefusalCode.NOT_ALLOWED, message)


def payment_refusal(invoice: Invoice, amount: Decimal | None = None) -> Refusal | None:
    """`amount` None: the balance is paid (Mark Paid)."""
    if invoice.status not in OPEN:
        return _not_allowed(f"Invoice #{invoice.id} is {invoice.status}: payments are taken on unpaid "
                            "invoices only (Mark Unpaid first)")
    if amount is not None and amount <= ZERO:
        return Refusal("invalid_option", "The payment amount must be more than 0.00")
    if amount is not None and amount > invoice.balance:
        return Refusal("overpayment", f"A payment of {amount} would overpay invoice #{invoice.id}: its "
                       f"balance is {invoice.balance}")
    return None


def capture_refusal(invoice: Invoice) -> Refusal | None:
    if invoice.status not in OPEN - {InvoiceStatus.DRAFT}:
        return _not_allowed(f"Invoice #{invoice.id} is {invoice.status}: only unpaid invoices are captured")
    if invoice.balance <= ZERO:
        return _not_allowed(f"Invoice #{invoice.id} has nothing left to pay")
    return None


def cancel_refusal(invoice: Invoice) -> Refusal | None:
    if invoice.status == InvoiceStatus.CANCELLED:
        return _not_allowed(f"Invoice #{invoice.id} is already Cancelled")
    if invoice.status not in OPEN:
        return _not_allowed(f"Invoice #{invoice.id} is {invoice.status}: a paid invoice is refunded, "
                            "not cancelled")
    if invoice.amount_paid - invoice.amount_refunded > ZERO:
        return _not_allowed(f"Invoice #{invoice.id} has payments that are not refunded; refund them "
                            "before cancelling it")
    return None


def mark_unpaid_refusal(invoice: Invoice) -> Refusal | None:
    if invoice.status == InvoiceStatus.UNPAID:
        return _not_allowed(f"Invoice #{invoice.id} is already Unpaid")
    return None


def lines_refusal(invoice: Invoice) -> Refusal | None:
    if invoice.status not in OPEN:
        return _not_allowed(f"Invoice #{invoice.id} is {invoice.status}: only unpaid invoices' lines "
                            "can change")
    return None


def refund_refusal(left: Decimal, amount: Decimal) -> Refusal | None:
    if amount <= ZERO:
        return Refusal("invalid_option", "The refund amount must be more than 0.00")
    if amount > left:
        return Refusal("over_refund", f"At most {left} of this payment can be refunded (what was paid, "
                       "less refunds made or under way)")
    return None
