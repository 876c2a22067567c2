"""Setup > Fraud Protection: the one active fraud module and its settings (Configure Fraud Protection).

GET shows the form; POST (CSRF) saves it through actions.fraud_settings.save_fraud_settings and
redirects back. The licence key is write-only: the page says whether one is stored, never shows
it, and an empty box keeps it.
"""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from actions.actor import Actor
from actions.fraud_settings import MAX_THRESHOLD, MAX_TIMEOUT, save_fraud_settings
from admin.base import SecureBaseView
from extensions import db
from models import FraudModuleSettings, FraudService, Gateway, Permission, Setting
from models.bounds import InvalidInput
from models.fraud import ACTIVE_MODULE_SETTING, DEFAULT_THRESHOLD
from modules.registry import available_fraud_modules

# The module the form configures (the only one with settings so far).
CONFIGURED_MODULE = "maxmind"
_CHECKBOXES = ("reject_free_email", "reject_country_mismatch", "reject_anonymous_proxy",
               "reject_high_risk_countries", "skip_existing_clients", "clear_license_key")
_TEXT = ("account_id", "license_key", "service", "threshold", "high_risk_countries", "timeout", "host")


def _defaults() -> FraudModuleSettings:
    """What the form shows before anything is saved (not added to the session)."""
    return FraudModuleSettings(
        module=CONFIGURED_MODULE, threshold=DEFAULT_THRESHOLD, service=FraudService.SCORE,
        skip_existing_clients=True, timeout=10, high_risk_countries=[], skip_gateways=[])


class FraudSettingsView(SecureBaseView):
    permission = Permission.CONFIGURE_FRAUD_PROTECTION

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "POST":
            form = {name: request.form.get(name, "") for name in _TEXT}
            form.update({name: request.form.get(name) == "1" for name in _CHECKBOXES})
            form["skip_gateways"] = request.form.getlist("skip_gateways")[:100]
            try:
                save_fraud_settings(db.session, Actor.admin(current_user),
                                    request.form.get("active_module", "")[:50], CONFIGURED_MODULE, form)
                db.session.commit()
            except InvalidInput as exc:
                db.session.rollback()
                flash(exc.message, "error")
            else:
                flash("Fraud protection settings saved.", "success")
            return redirect(url_for(".index"))
        active = db.session.get(Setting, ACTIVE_MODULE_SETTING)
        return self.render(
            "admin/fraud_settings.html",
            modules=available_fraud_modules(),
            active_module=active.value if active is not None else "none",
            settings=db.session.get(FraudModuleSettings, CONFIGURED_MODULE) or _defaults(),
            services=[(s.value, s.value.capitalize()) for s in FraudService],
            gateways=db.session.scalars(select(Gateway).order_by(Gateway.sort_order, Gateway.id)).all(),
            max_threshold=MAX_THRESHOLD, max_timeout=MAX_TIMEOUT,
        )
