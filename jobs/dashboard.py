"""rq-dashboard under /admin/rq, only when REDIS_URL is set.

- Reading it (pages, its JSON) needs an admin login and View Background Jobs.
- Its mutating calls (requeue, delete, empty, compact: the routes that accept POST) need
  "Requeue, Delete and Empty Background Jobs" (Full Administrator by default), are refused by GET
  (405), and are CSRF-checked like every POST of the app: the dashboard's own JavaScript sends the
  X-CSRFToken header from a `_csrf_token` cookie when there is one, so we set that cookie (scoped to
  the dashboard, SameSite=Strict) on its pages.
"""

import rq_dashboard
from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from models import Permission

URL_PREFIX = "/admin/rq"
CSRF_COOKIE = "_csrf_token"  # the name rq-dashboard's dashboard.js reads


def init_rq_dashboard(app: Flask) -> bool:
    if not app.config.get("REDIS_URL"):
        return False
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    rq_dashboard.web.setup_rq_connection(app)
    # App-level, so it runs before the dashboard's own before_request (which touches Redis),
    # and only in apps that mount the dashboard (the blueprint object is module-global).
    app.before_request(_require_jobs_permission)
    app.after_request(_hand_out_csrf_token)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    return True


def _mutating() -> bool:
    """The dashboard's routes that change something are exactly those that accept POST."""
    return request.url_rule is not None and "POST" in (request.url_rule.methods or ())


def _require_jobs_permission():
    if request.blueprint != rq_dashboard.blueprint.name:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if not current_user.has_permission(Permission.VIEW_JOBS):
        abort(403)
    if _mutating():
        if request.method != "POST":
            abort(405)
        if not current_user.has_permission(Permission.MANAGE_JOBS):
            abort(403)
    return None


def _hand_out_csrf_token(response):
    if request.blueprint == rq_dashboard.blueprint.name and current_user.is_authenticated \
            and response.mimetype == "text/html":
        response.set_cookie(CSRF_COOKIE, generate_csrf(), path=URL_PREFIX, samesite="Strict",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=False)
    return response
