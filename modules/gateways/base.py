"""The interface every gateway module implements.

``supports_refund``/``supports_capture`` let actions refuse up front (e.g.
"Cancel & Refund" on a bank transfer) before anything changes. The default
refund/capture answer with a clear, final refusal.
"""

from __future__ import annotations

from modules.base import ModuleResult, PaymentParams


class GatewayModule:
    name: str = ""
    display_name: str = ""
    supports_refund: bool = False
    supports_capture: bool = False

    def refund(self, params: PaymentParams) -> ModuleResult:
        return ModuleResult.fail(f"{self.display_name} cannot refund payments automatically")

    def capture(self, params: PaymentParams) -> ModuleResult:
        return ModuleResult.fail(f"{self.display_name} cannot capture payments automatically")
