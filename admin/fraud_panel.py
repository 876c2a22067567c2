"""The order page's Fraud Check Results panel and its Run Fraud Check button (mixed into OrderView).

The panel (admin/templates/admin/fraud_panel.html) shows the latest result as a readable table -
score and threshold, verdict, risk reasons, IP country and ISP, proxy, email and address checks -
with the raw answer folded underneath, then the earlier results. The button POSTs (CSRF, the
order's version) to run_fraud_check_view, which needs Run Fraud Check.
"""

from types import SimpleNamespace

from flask_admin import expose
from sqlalchemy import select

from actions.fraud_check import run_fraud_check
from actions.fraud_results import active_fraud_settings
from admin.base import has_permission
from extensions import db
from models import FraudCheck, Order, Permission

# Results listed on the page, newest first (an order is re-checked a handful of times at most).
SHOWN_CHECKS = 20


class FraudPanelMixin:
    def fraud_panel(self, order: Order) -> SimpleNamespace:
        # Every recorded check names its module on the order: an unchecked order needs no query.
        checks = db.session.scalars(
            select(FraudCheck).where(FraudCheck.order_id == order.id)
            .order_by(FraudCheck.id.desc()).limit(SHOWN_CHECKS)
        ).all() if order.fraud_module else []
        active = active_fraud_settings(db.session)
        legacy = order.fraud_output if isinstance(order.fraud_output, dict) else {}
        return SimpleNamespace(
            checks=checks,
            latest=checks[0] if checks else None,
            can_run=active is not None and has_permission(Permission.RUN_FRAUD_CHECK),
            # Results recorded before fraud_checks existed (or by an import): the order's own columns.
            legacy_reasons=legacy.get("reasons", []) if not checks else [],
            shown=bool(checks or order.fraud_module or order.fraud_output or active is not None),
        )

    @expose("/order/fraud-check/", methods=("POST",))
    def run_fraud_check_view(self):
        return self._post((Permission.RUN_FRAUD_CHECK,), "fraud check recorded",
                          lambda order, actor, version: run_fraud_check(db.session, order, actor))
