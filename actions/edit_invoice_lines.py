"""Line editing (the invoice page): add, change and remove an open invoice's lines.

    edit_invoice_lines(session, invoice, actor, *, changed=None, removed=(), added=(),
                       expected_version=None) -> Invoice
        changed: {line id: (description, amount)}; removed: line ids; added: [(description, amount)]

Subtotal, tax and total are derived from the lines afterwards (Invoice.derive_totals), never
typed. A negative line is a discount; a total below zero, or below what the client has paid net
of refunds, is refused (the money would not add up), as are unknown line ids, an empty
description and more than MAX_INVOICE_LINES lines. An edit that changes nothing writes nothing.
Writes invoice_lines_edited (each line's before -> after, totals before -> after) on the
order's timeline. When what was paid covers the new total, the invoice is marked Paid
(actions.invoice_paid). Flushes, never commits.
"""

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import Actor
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import lock_invoice, order_id_of, refuse, touch
from actions.invoice_paid import mark_invoice_paid
from models import Invoice, InvoiceItem, InvoiceItemType, utcnow
from models.bounds import MAX_MONEY, check_money, clean_text
from models.invoice_guards import ZERO, lines_refusal

MAX_INVOICE_LINES = 200
MAX_DESCRIPTION = 1000


def _line(description: str, amount: Decimal) -> tuple[str, Decimal]:
    description = clean_text(description, max_length=MAX_DESCRIPTION, what="A line's description")
    if not description:
        raise TransitionError(ErrorCode.INVALID_OPTION, "Every line needs a description")
    return description, check_money(amount, what="A line's amount", allow_negative=True)


def _row(item: InvoiceItem) -> dict:
    return {"id": item.id, "description": item.description, "amount": item.amount}


def edit_invoice_lines(
    session: Session, invoice: Invoice | int, actor: Actor, *,
    changed: dict[int, tuple[str, Decimal]] | None = None, removed: Iterable[int] = (),
    added: Iterable[tuple[str, Decimal]] = (), expected_version: int | None = None,
) -> Invoice:
    invoice = lock_invoice(session, invoice, expected_version)
    refuse(lines_refusal(invoice))
    changed, removed, added = dict(changed or {}), set(removed), [_line(*line) for line in added]
    lines = {item.id: item for item in invoice.items}
    unknown = sorted((set(changed) | removed) - set(lines))
    if unknown:
        raise TransitionError(ErrorCode.NOT_FOUND, f"Invoice #{invoice.id} has no line {unknown[0]}")
    if len(lines) - len(removed) + len(added) > MAX_INVOICE_LINES:
        raise TransitionError(ErrorCode.INVALID_OPTION, f"An invoice has at most {MAX_INVOICE_LINES} lines")
    changed = {line_id: _line(*line) for line_id, line in changed.items() if line_id not in removed}
    kept = [changed[i][1] if i in changed else item.amount for i, item in lines.items() if i not in removed]
    total = sum(kept + [amount for _, amount in added], ZERO) - (invoice.credit or ZERO)
    paid_net = invoice.amount_paid - invoice.amount_refunded
    subtotal = total + (invoice.credit or ZERO)
    if max(subtotal, total) > MAX_MONEY:
        raise TransitionError(ErrorCode.INVALID_OPTION, f"The lines would total more than {MAX_MONEY:,}")
    if total < ZERO or total < paid_net:  # checked before anything changes
        raise TransitionError(ErrorCode.INVALID_OPTION, f"The lines would total {total}: below zero, or "
                              f"less than the {paid_net} already paid and not refunded")
    report: dict = {"added": [], "changed": [], "removed": []}
    totals_before = {"subtotal": invoice.subtotal, "tax": invoice.tax, "total": invoice.total}
    for line_id, (description, amount) in sorted(changed.items()):
        item = lines[line_id]
        if (item.description, item.amount) != (description, amount):
            before = _row(item)
            item.description, item.amount = description, amount
            report["changed"].append({"id": line_id, "from": before, "to": _row(item)})
    for line_id in sorted(removed):
        report["removed"].append(_row(lines[line_id]))
        invoice.items.remove(lines[line_id])
    for description, amount in added:
        item = InvoiceItem(type=InvoiceItemType.ITEM, description=description, amount=amount)
        invoice.items.append(item)
    if not any(report.values()) and not added:
        return invoice
    invoice.derive_totals()
    session.flush()
    report["added"] = [_row(item) for item in invoice.items if item.id not in lines]
    touch(invoice)
    totals = {"from": totals_before, "to": {"subtotal": invoice.subtotal, "tax": invoice.tax,
                                            "total": invoice.total}}
    order_id = order_id_of(session, invoice.id)
    invoice_events.invoice_lines_edited(session, order_id, actor, invoice, report, totals)
    if paid_net > ZERO and invoice.balance <= ZERO:  # what was paid now covers the invoice
        mark_invoice_paid(session, invoice, actor, utcnow())
    session.flush()
    return invoice
