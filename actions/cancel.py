"""Cancel Order and Cancel & Refund (DESIGN.md §4).

    cancel_order(session, order, actor, refund=False, expected_version=None) -> Order

Cancel: order Cancelled; active/suspended services get a module_terminate side effect (they become
Cancelled when it succeeds), other services Cancelled now; domains that are not Active Cancelled;
invoice Unpaid -> Cancelled. Queued creates/registrations of the order are cancelled.
Cancel & Refund (refund=True): as Cancel, and one refund side effect per payment not yet refunded
(the invoice becomes Refunded when they succeed). Refused up front, with nothing changed, when the
invoice has no payments or a payment's gateway cannot refund (the row's checks, which the order
page asks too). Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.refund_payment import refundable_left
from actions.side_effects import record_side_effect
from actions.transitions import TRANSITIONS, Action, TransitionError, apply_transition
from models import Order, SideEffectKind


@order_action
def cancel_order(
    session: Session,
    order: Order | int,
    actor: Actor,
    refund: bool = False,
    expected_version: int | None = None,
) -> Order:
    order = lock_order(session, order, expected_version)
    action = Action.CANCEL_AND_REFUND if refund else Action.CANCEL
    found = TRANSITIONS[action].refusal(session, order)
    if found:
        raise TransitionError.from_refusal(found)
    from_status = order.status
    transition = TRANSITIONS[action]
    # What is left of each payment, less refunds already requested from the invoice page.
    payments = refundable_left(session, order.invoice) if transition.refund else []
    changes = apply_transition(session, order, transition, actor)
    events.order_transitioned(session, order.id, actor, transition.verb, from_status, order.status, changes)
    if payments:
        refunds = []
        for payment, amount in payments:
            effect = record_side_effect(
                session,
                kind=SideEffectKind.REFUND,
                order_id=order.id,
                target_type="invoice",
                target_id=order.invoice.id,
                payload={
                    "payment_id": payment.id,
                    "amount": str(amount),
                    "gateway": payment.gateway,
                    "gateway_transaction_id": payment.transaction_id,
                },
            )
            refunds.append({"side_effect_id": effect.id, "payment_id": payment.id, "amount": amount})
        events.order_refund_requested(session, order.id, actor, refunds)
    session.flush()
    return order
