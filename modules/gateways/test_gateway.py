"""Test gateway: captures and refunds without any network, for demos and trials. No money moves.

Like Saleor's dummy gateway: every capture and refund succeeds at once, except a capture for the
saved card "pm_card_declined" (Stripe's test card name), which is declined, so the failure path
can be tried too. Its transaction ids derive from the side effect's idempotency key, so a retried
call answers exactly as the first did (a real gateway's idempotency, without the gateway).
"""

from __future__ import annotations

from modules.base import ModuleResult, PaymentParams
from modules.gateways.base import GatewayModule

DECLINED_CARD = "pm_card_declined"


class TestGateway(GatewayModule):
    __test__ = False  # not a pytest test class, whatever its name says

    name = "testgateway"
    display_name = "Test gateway (no real money)"
    supports_refund = True
    supports_capture = True

    def capture(self, params: PaymentParams) -> ModuleResult:
        if params.payment_method_id == DECLINED_CARD:
            return ModuleResult.fail("Test gateway: the card was declined (test card pm_card_declined)",
                                     decline_code="card_declined")
        transaction_id = f"test_ch_{params.idempotency_key}"
        return ModuleResult.ok(f"Captured {params.amount} {params.currency} with the test gateway",
                               transaction_id=transaction_id)

    def refund(self, params: PaymentParams) -> ModuleResult:
        transaction_id = f"test_re_{params.idempotency_key}"
        return ModuleResult.ok(f"Refunded {params.amount} {params.currency} with the test gateway",
                               transaction_id=transaction_id)
