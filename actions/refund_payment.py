"""Refund (the invoice page): give back all or part of one payment.

    refund_payment(session, invoice, actor, *, payment_id, amount=None, manual=False,
                   expected_version=None) -> SideEffect | Transaction
    refunds_under_way(session, invoice_id) -> {payment id: amount}
    refundable_left(session, invoice) -> [(payment, amount still refundable)]
    mark_refunded_if_settled(invoice) -> {type, id, from, to} | None

`amount` None refunds what is left of the payment. Never more than was paid on that transaction,
less its refunds and the refunds already requested and not given up (queued, running, or failed
and retryable: cancel a failed one to refund it another way). Through the gateway when its
module supports refunds: a refund side effect (idempotent: its key goes to the gateway), whose
outcome records the refund row (actions.side_effect_outcomes). Otherwise, or with manual=True
(the money went back outside Orderdesk), the refund row is recorded now. A refund row links to
its payment (refund_of_id). Once nothing is left to refund on a Paid or Cancelled invoice it is
Refunded (an open invoice stays open: the client still owes it). Flushes, never commits.
"""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import Actor
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import lock_invoice, order_id_of, refuse, touch
from actions.side_effects import record_side_effect
from models import (
    Gateway,
    Invoice,
    InvoiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
    utcnow,
)
from models.bounds import check_money
from models.guards import refundable_payments
from models.invoice_guards import ZERO, refund_refusal
from modules.registry import UnknownModule, get_gateway_module

# A refund in one of these states may still give the money back.
_NOT_GIVEN_UP = (SideEffectStatus.QUEUED, SideEffectStatus.RUNNING, SideEffectStatus.FAILED)
_SETTLED_BY_REFUND = (InvoiceStatus.PAID, InvoiceStatus.CANCELLED)


def refunds_under_way(session: Session, invoice_id: int) -> dict[int, Decimal]:
    rows = session.scalars(select(SideEffect).where(
        SideEffect.kind == SideEffectKind.REFUND, SideEffect.target_type == "invoice",
        SideEffect.target_id == invoice_id, SideEffect.status.in_(_NOT_GIVEN_UP)))
    under_way: dict[int, Decimal] = {}
    for effect in rows:
        payment_id = int(effect.payload["payment_id"])
        under_way[payment_id] = under_way.get(payment_id, ZERO) + Decimal(str(effect.payload["amount"]))
    return under_way


def refundable_left(session: Session, invoice: Invoice | None) -> list[tuple[Transaction, Decimal]]:
    if invoice is None:
        return []
    under_way = refunds_under_way(session, invoice.id)
    left = [(payment, amount - under_way.get(payment.id, ZERO))
            for payment, amount in refundable_payments(invoice)]
    return [(payment, amount) for payment, amount in left if amount > ZERO]


def mark_refunded_if_settled(invoice: Invoice) -> dict | None:
    if refundable_payments(invoice) or invoice.status not in _SETTLED_BY_REFUND:
        return None
    change = {"type": "invoice", "id": invoice.id, "from": invoice.status, "to": InvoiceStatus.REFUNDED}
    invoice.status = InvoiceStatus.REFUNDED
    invoice.date_refunded = utcnow()
    touch(invoice)
    return change


def _named(payment: Transaction) -> str:
    return payment.transaction_id or f"payment #{payment.id}"


def gateway_refunds(session: Session, gateway_name: str) -> bool:
    gateway = session.scalar(select(Gateway).where(Gateway.name == gateway_name))
    try:
        return get_gateway_module(gateway.module if gateway else gateway_name).supports_refund
    except UnknownModule:
        return False


def refund_payment(
    session: Session, invoice: Invoice | int, actor: Actor, *, payment_id: int,
    amount: Decimal | None = None, manual: bool = False, expected_version: int | None = None,
) -> SideEffect | Transaction:
    invoice = lock_invoice(session, invoice, expected_version)
    payment = next((t for t in invoice.transactions if t.id == payment_id and t.refund_of_id is None
                    and t.amount_in > ZERO), None)
    if payment is None:
        raise TransitionError(ErrorCode.NOT_FOUND, f"Invoice #{invoice.id} has no payment {payment_id}")
    left = {p.id: amount for p, amount in refundable_left(session, invoice)}.get(payment.id, ZERO)
    amount = left if amount is None else check_money(amount, what="The refund amount")
    refuse(refund_refusal(left, amount))
    order_id = order_id_of(session, invoice.id)
    touch(invoice)
    if not manual and gateway_refunds(session, payment.gateway):
        effect = record_side_effect(session, kind=SideEffectKind.REFUND, order_id=order_id,
                                    target_type="invoice", target_id=invoice.id, payload={
                                        "payment_id": payment.id, "amount": str(amount),
                                        "gateway": payment.gateway,
                                        "gateway_transaction_id": payment.transaction_id})
        invoice_events.invoice_refund_requested(session, order_id, actor, invoice.id, effect)
        session.flush()
        return effect
    refund = Transaction(client_id=invoice.client_id, invoice=invoice, gateway=payment.gateway,
                         date=utcnow(), description=f"Manual refund of {_named(payment)}",
                         amount_out=amount, refund_of_id=payment.id)
    session.add(refund)
    session.flush()
    invoice_events.invoice_refund_recorded(session, order_id, actor, invoice, refund)
    mark_refunded_if_settled(invoice)
    session.flush()
    return refund
