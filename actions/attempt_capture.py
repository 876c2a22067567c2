"""Attempt Capture (the seed's button): charge the client's saved card for the invoice's balance.

    attempt_capture(session, invoice, actor, expected_version=None) -> SideEffect
    capture_under_way(session, invoice_id) -> SideEffect | None
    record_capture(session, effect, result) -> {type, id, from, to} | None    the success outcome
    record_capture_error(session, effect, error, retry_at)                    a failed attempt

Refused, with nothing changed, unless the invoice is open with a balance to pay
(models.invoice_guards.capture_refusal), its payment method's module supports capture, and no
capture of it is queued or running already (a double click captures once). The capture is a
side effect through the gateway module (its idempotency key goes to the gateway, so a retried
job charges once); its outcome records the payment as a transaction (actions.add_payment's
record_payment, which marks the invoice Paid when that settles it). A failed attempt leaves the
invoice as it was, with the error on it (Invoice.capture_error, shown on the invoice and the
order page) until the next attempt. Flushes, never commits.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import invoice_events
from actions.actor import SYSTEM, Actor
from actions.add_payment import record_payment
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import lock_invoice, order_id_of, refuse, touch
from actions.side_effects import UNFINISHED, record_side_effect
from models import Gateway, Invoice, SideEffect, SideEffectKind, utcnow
from models.invoice_guards import capture_refusal
from modules.registry import UnknownModule, get_gateway_module


def capture_under_way(session: Session, invoice_id: int) -> SideEffect | None:
    return session.scalar(select(SideEffect).where(
        SideEffect.kind == SideEffectKind.CAPTURE, SideEffect.target_type == "invoice",
        SideEffect.target_id == invoice_id, SideEffect.status.in_(UNFINISHED)).limit(1))


def gateway_capture_refusal(session: Session, invoice: Invoice) -> str | None:
    """Why the invoice's payment method cannot capture, or None when it can."""
    gateway = session.scalar(select(Gateway).where(Gateway.name == invoice.payment_method))
    if gateway is None:
        return f"Invoice #{invoice.id} has no known payment method ({invoice.payment_method or 'none'})"
    try:
        module = get_gateway_module(gateway.module)
    except UnknownModule:
        return f"{gateway.display_name} has no module installed ({gateway.module!r})"
    if not module.supports_capture:
        return f"{gateway.display_name} cannot capture payments; add the payment by hand when it arrives"
    return None


def attempt_capture(
    session: Session, invoice: Invoice | int, actor: Actor, expected_version: int | None = None
) -> SideEffect:
    invoice = lock_invoice(session, invoice, expected_version)
    refuse(capture_refusal(invoice))
    why_not = gateway_capture_refusal(session, invoice)
    if why_not:
        raise TransitionError(ErrorCode.GATEWAY_CANNOT_CAPTURE, why_not)
    if capture_under_way(session, invoice.id) is not None:
        raise TransitionError(ErrorCode.CAPTURE_UNDER_WAY,
                              f"A capture of invoice #{invoice.id} is under way already")
    invoice.last_capture_attempt = utcnow()
    invoice.capture_error = ""
    touch(invoice)
    order_id = order_id_of(session, invoice.id)
    client = invoice.client
    effect = record_side_effect(session, kind=SideEffectKind.CAPTURE, order_id=order_id,
                                target_type="invoice", target_id=invoice.id, payload={
                                    "amount": str(invoice.balance), "gateway": invoice.payment_method,
                                    "customer_id": client.gateway_customer_id,
                                    "payment_method_id": client.gateway_payment_method_id})
    invoice_events.invoice_capture_requested(session, order_id, actor, invoice.id, effect)
    session.flush()
    return effect


def _captured_invoice(session: Session, effect: SideEffect) -> Invoice | None:
    try:
        return lock_invoice(session, effect.target_id)
    except TransitionError:  # the invoice is gone: nothing to record the payment on
        return None


def record_capture(session: Session, effect: SideEffect, result) -> dict | None:
    """The gateway took the money: a payment row, whatever the invoice did meanwhile (the money
    moved), and Paid when that settles an open invoice."""
    invoice = _captured_invoice(session, effect)
    if invoice is None:
        return None
    data = getattr(result, "data", None) or {}
    # The gateway's id of the money taken (the test gateway's, Stripe's PaymentIntent or charge).
    transaction_id = str(data.get("transaction_id") or data.get("payment_intent_id")
                         or data.get("charge_id") or "")
    from_status = invoice.status
    invoice.capture_error = ""
    record_payment(session, invoice, SYSTEM, amount=Decimal(str(effect.payload["amount"])),
                   gateway=effect.payload.get("gateway") or invoice.payment_method, paid_at=utcnow(),
                   transaction_id=transaction_id, description="Captured by Attempt Capture")
    if invoice.status == from_status:
        return None
    return {"type": "invoice", "id": invoice.id, "from": from_status, "to": invoice.status}


def record_capture_error(session: Session, effect: SideEffect, error: str, retry_at: datetime | None) -> None:
    invoice = _captured_invoice(session, effect)
    if invoice is None:
        return
    invoice.capture_error = error if retry_at is None else f"{error} (trying again at {retry_at:%H:%M} UTC)"
    touch(invoice)
