"""The invoice actions' timeline events: on the timeline of the invoice's order (order_id None: an
activity log row), written by actions/events.py's one writer of timeline rows."""

from actions.events import Verb, _add
from models import OrderEvent, SideEffect


def _money_row(transaction) -> dict:
    return {"transaction": transaction.id, "gateway": transaction.gateway,
            "transaction_id": transaction.transaction_id, "date": transaction.date,
            "amount_in": transaction.amount_in, "amount_out": transaction.amount_out,
            "fees": transaction.fees, "refund_of_id": transaction.refund_of_id}


def invoice_payment_added(session, order_id, actor, invoice, payment) -> OrderEvent:
    return _add(session, order_id, actor, Verb.INVOICE_PAYMENT_ADDED,
                details={"invoice_id": invoice.id, "payment": _money_row(payment),
                         "balance": invoice.balance})


def invoice_paid(session, order_id, actor, invoice, from_status: str) -> OrderEvent:
    return _add(session, order_id, actor, Verb.INVOICE_PAID, details={
        "invoice_id": invoice.id, "invoice": {"from": from_status, "to": invoice.status},
        "date_paid": invoice.date_paid})


def invoice_refund_recorded(session, order_id, actor, invoice, refund) -> OrderEvent:
    """A refund made outside Orderdesk (or by a gateway that cannot refund), written down by hand."""
    return _add(session, order_id, actor, Verb.INVOICE_REFUND_RECORDED,
                details={"invoice_id": invoice.id, "refund": _money_row(refund), "balance": invoice.balance})


def invoice_refund_requested(session, order_id, actor, invoice_id, effect: SideEffect) -> OrderEvent:
    return _add(session, order_id, actor, Verb.INVOICE_REFUND_REQUESTED, details={
        "invoice_id": invoice_id, "side_effect_id": effect.id, "payment_id": effect.payload["payment_id"],
        "amount": effect.payload["amount"], "gateway": effect.payload["gateway"]})


def invoice_capture_requested(session, order_id, actor, invoice_id, effect: SideEffect) -> OrderEvent:
    return _add(session, order_id, actor, Verb.INVOICE_CAPTURE_REQUESTED, details={
        "invoice_id": invoice_id, "side_effect_id": effect.id, "amount": effect.payload["amount"],
        "gateway": effect.payload["gateway"]})


def invoice_cancelled(session, order_id, actor, invoice_id, from_status: str) -> OrderEvent:
    return _add(session, order_id, actor, Verb.INVOICE_CANCELLED,
                details={"invoice_id": invoice_id, "invoice": {"from": from_status, "to": "Cancelled"}})


def invoice_marked_unpaid(session, order_id, actor, invoice_id, from_status: str) -> OrderEvent:
    return _add(session, order_id, actor, Verb.INVOICE_MARKED_UNPAID,
                details={"invoice_id": invoice_id, "invoice": {"from": from_status, "to": "Unpaid"}})


def invoice_lines_edited(session, order_id, actor, invoice, lines: dict, totals: dict) -> OrderEvent:
    """`lines`: {added: [...], changed: [{id, from, to}], removed: [...]}; `totals`: {from, to}."""
    return _add(session, order_id, actor, Verb.INVOICE_LINES_EDITED,
                details={"invoice_id": invoice.id, "lines": lines, "totals": totals})
