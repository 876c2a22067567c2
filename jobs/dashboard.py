"""rq-dashboard under /admin/rq, only when REDIS_URL is set: admin login plus View Background Jobs."""

import rq_dashboard
from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from extensions import csrf
from models import Permission

URL_PREFIX = "/admin/rq"


def init_rq_dashboard(app: Flask) -> bool:
    if not app.config.get("REDIS_URL"):
        return False
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    rq_dashboard.web.setup_rq_connection(app)
    # Its JavaScript POSTs (requeue, delete) carry no CSRF token; login + permission guard them.
    csrf.exempt(rq_dashboard.blueprint)
    # App-level, so it runs before the dashboard's own before_request (which touches Redis),
    # and only in apps that mount the dashboard (the blueprint object is module-global).
    app.before_request(_require_jobs_permission)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    return True


def _require_jobs_permission():
    if request.blueprint != rq_dashboard.blueprint.name:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if not current_user.has_permission(Permission.VIEW_JOBS):
        abort(403)
    return None
