"""Jobs > Daily automation: the last runs' summaries (renewal invoices, auto-cancelled orders), newest
first, and the settings they ran with; a warning when PostgreSQL's statistics are not kept
(models/planner_stats.py). Read-only; each run is a `daily_run` event (jobs/daily.py),
read from the (verb, id) index."""

from flask_admin import expose
from sqlalchemy import select

from actions.automation_settings import cancel_unpaid_after_days, invoice_generation_days
from actions.events import Verb
from admin.base import SecureBaseView
from extensions import db
from models import OrderEvent, Permission
from models.planner_stats import statistics_warnings

RUNS_SHOWN = 30


class DailyAutomationView(SecureBaseView):
    permission = Permission.VIEW_DAILY_AUTOMATION

    @expose("/")
    def index(self):
        runs = db.session.scalars(
            select(OrderEvent).where(OrderEvent.verb == Verb.DAILY_RUN).order_by(OrderEvent.id.desc())
            .limit(RUNS_SHOWN)
        ).all()
        return self.render(
            "admin/daily_automation.html", runs=runs,
            generation_days=invoice_generation_days(db.session),
            cancel_days=cancel_unpaid_after_days(db.session),
            statistics_warnings=statistics_warnings(db.session),
        )
