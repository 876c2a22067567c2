"""Placing an order with fraud screening: the API's (and a checkout's) way to place an order.

    place_screened_order(session, cart, actor, options) -> Order

WHMCS's rules (reference/whmcs-order-management.md §4.5): orders an admin places are never
checked; nothing is checked without an active fraud module, with the threshold at 0, for a
gateway on the module's skip list, or (when "skip existing clients" is on) for a client who
already has an Active order - a skip is written on the timeline with its reason.

The module is called BEFORE the order is written, so no database lock is held during the
network call (bounded by the module's timeout); the order, its result and its verdict are then
written in one transaction:
- fraud (over the threshold, or a reject rule): the order skips Pending - the Set as Fraud row of
  actions.transitions is applied by the system (order and items Fraud, invoice Cancelled, queued
  provisioning cancelled), the client's queued order and invoice emails are cancelled, and the
  admins get the Fraud Order Notification;
- passed: the order stays Pending;
- the check failed (service down, bad licence): the order stays Pending, flagged
  fraud_check_failed with the error, for a human to look at (the orders list filters on it).
Flushes, never commits.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.cart import Cart, PlaceOptions
from actions.fraud_results import active_fraud_settings, fraud_params, record_result, run_module
from actions.place import place_order, preview_order
from actions.side_effects import cancel_if_queued, record_email
from actions.transitions import TRANSITIONS, Action, apply_transition
from models import (
    Client,
    FraudModuleSettings,
    FraudVerdict,
    Order,
    OrderSource,
    OrderStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from models.email_defaults import FRAUD_ORDER_NOTIFICATION, INVOICE_CREATED, ORDER_CONFIRMATION
from modules.base import FraudResult

FRAUD_CHECKER = Actor.system("Fraud check")
SKIPPED_EXISTING = "Skipped Fraud Check due to Already Active Orders"
SKIPPED_THRESHOLD = "The risk-score threshold is 0: fraud checking is off"
SKIPPED_GATEWAY = "Skipped Fraud Check for the payment method {gateway}"
# The client's messages about an order that is Fraud from the start: not sent.
_CLIENT_EMAILS = (ORDER_CONFIRMATION, INVOICE_CREATED)


@dataclass
class Screening:
    settings: FraudModuleSettings
    result: FraudResult | None = None  # None: skipped
    skipped: str = ""


def skip_reason(session: Session, settings: FraudModuleSettings, client_id: int, payment_method: str) -> str:
    """Why this order is not checked ("": it is)."""
    if not settings.threshold:
        return SKIPPED_THRESHOLD
    if payment_method in (settings.skip_gateways or []):
        return SKIPPED_GATEWAY.format(gateway=payment_method)
    if settings.skip_existing_clients and session.scalar(
        select(Order.id).where(Order.client_id == client_id, Order.status == OrderStatus.ACTIVE).limit(1)
    ) is not None:
        return SKIPPED_EXISTING
    return ""


def screen_cart(session: Session, cart: Cart, options: PlaceOptions) -> Screening | None:
    """The check for a cart about to be placed (reads only). None: not screened at all."""
    if options.source == OrderSource.ADMIN:
        return None
    settings = active_fraud_settings(session)
    client = session.get(Client, cart.client_id) if cart.client_id else None
    if settings is None or client is None:
        return None
    skipped = skip_reason(session, settings, client.id, cart.payment_method)
    if skipped:
        return Screening(settings, skipped=skipped)
    quote = preview_order(session, cart, options)
    if quote.errors:
        return None  # placement refuses it with these errors: nothing to screen
    params = fraud_params(session, settings, client, quote.total, cart.ip_address.strip())
    return Screening(settings, result=run_module(settings, params))


def place_screened_order(session: Session, cart: Cart, actor: Actor, options: PlaceOptions) -> Order:
    screening = screen_cart(session, cart, options)
    order = place_order(session, cart, actor, options)
    if screening is not None:
        apply_screening(session, order, screening)
    return order


def apply_screening(session: Session, order: Order, screening: Screening) -> None:
    settings = screening.settings
    if screening.result is None:
        events.fraud_check_skipped(session, order.id, FRAUD_CHECKER, settings.module, screening.skipped)
        session.flush()
        return
    check = record_result(session, order, settings, screening.result, FRAUD_CHECKER)
    if check.verdict != FraudVerdict.FRAUD:
        return
    from_status = order.status
    changes = apply_transition(session, order, TRANSITIONS[Action.SET_FRAUD], FRAUD_CHECKER)
    changes["cancelled_side_effects"] += _cancel_client_emails(session, order)
    changes.update(fraud_check_id=check.id, score=check.score, reasons=check.reasons)
    events.order_failed_fraud_check(session, order.id, FRAUD_CHECKER, from_status, order.status, changes)
    record_email(session, template=FRAUD_ORDER_NOTIFICATION, to="", client_id=order.client_id,
                 order_id=order.id, context={"fraud_score": str(check.score), "fraud_threshold":
                                             str(check.threshold), "fraud_reasons": "; ".join(check.reasons)})
    session.flush()


def _cancel_client_emails(session: Session, order: Order) -> list[int]:
    queued = session.scalars(select(SideEffect).where(
        SideEffect.order_id == order.id, SideEffect.kind == SideEffectKind.EMAIL,
        SideEffect.status == SideEffectStatus.QUEUED))
    return [effect.id for effect in queued
            if (effect.payload or {}).get("template") in _CLIENT_EMAILS
            and cancel_if_queued(session, effect, FRAUD_CHECKER, "The order failed its fraud check")]
