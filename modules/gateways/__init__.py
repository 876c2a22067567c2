"""Payment gateway modules: refund a payment, capture a payment with a saved card."""

from modules.gateways.base import GatewayModule

__all__ = ["GatewayModule"]
