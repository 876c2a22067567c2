"""What an order's payment gateways can do, asked before an action that needs them (read-only).

    gateways_can_refund(session, order) -> Refusal | None   (a check of the Cancel & Refund row)
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.errors import ErrorCode
from models import Gateway, Order
from models.guards import Refusal, refundable_payments
from modules.registry import UnknownModule, get_gateway_module


def _refund_refusal(session: Session, gateway_name: str) -> Refusal | None:
    gateway = session.scalar(select(Gateway).where(Gateway.name == gateway_name))
    module_name = gateway.module if gateway else gateway_name
    try:
        module = get_gateway_module(module_name)
    except UnknownModule:
        return Refusal(
            ErrorCode.GATEWAY_CANNOT_REFUND, f"Unknown payment gateway {gateway_name!r}: cannot refund"
        )
    if not module.supports_refund:
        label = gateway.display_name if gateway else module.display_name
        return Refusal(
            ErrorCode.GATEWAY_CANNOT_REFUND,
            f"{label} cannot refund payments automatically; use Cancel Order and refund the "
            "payment outside Orderdesk",
        )
    return None


def gateways_can_refund(session: Session, order: Order) -> Refusal | None:
    """Every gateway that took a payment not yet refunded can refund it through its module."""
    for gateway_name in sorted({payment.gateway for payment, _ in refundable_payments(order.invoice)}):
        found = _refund_refusal(session, gateway_name)
        if found:
            return found
    return None
