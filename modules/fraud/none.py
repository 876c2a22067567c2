"""No fraud checking: every order scores 0 and goes to Pending."""

from __future__ import annotations

from decimal import Decimal

from modules.base import FraudParams, FraudResult
from modules.fraud.base import FraudModule


class NoFraudCheck(FraudModule):
    name = "none"
    display_name = "None (no fraud checking)"

    def check(self, params: FraudParams) -> FraudResult:
        return FraudResult(score=Decimal(0), is_fraud=False)
