"""Admin login and logout (Flask-Login, argon2 hashes, server-side sessions, two-factor).

The session cookie carries only a random token (actions/admin_sessions.py); the user loader signs
a request in only while that token's session is live, so logout ends the login for every copy of
the cookie, and a password or role change or a deactivation ends the admin's other sessions.

Logging in: the password (actions/admin_login.py: throttled per account and IP, recorded), then,
for an admin with two-factor on, a TOTP or recovery code (skipped on a browser the admin asked to
remember), or, for an admin whose role requires two-factor and who has none yet, its set-up. Until
the last step no session exists: the Flask session holds only which admin passed the password,
and when (PENDING_SECONDS to finish).
"""

import math
import time
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from actions import login_throttle
from actions.actor import Actor
from actions.admin_login import check_password, complete_login, second_factor_failed
from actions.admin_sessions import (
    EXPIRED_KEY,
    IDLE_TIMEOUT,
    LOGGED_OUT,
    SessionLimits,
    end_admin_session,
    signed_in_admin,
)
from actions.two_factor import (
    browser_remembered,
    check_code,
    confirm_enrolment,
    pending_secret,
    remaining_recovery_codes,
    remember_browser,
)
from admin.account import CodeForm, codes_page, enrolment_page, request_client
from admin.redirects import safe_redirect_target
from extensions import db, login_manager
from models import AdminUser

auth_blueprint = Blueprint("auth", __name__, template_folder="templates")

PENDING_KEY = "pending_login"
PENDING_SECONDS = 300
REMEMBER_COOKIE = "orderdesk_remember_browser"


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def _session_limits(config) -> SessionLimits:
    idle = float(config["ADMIN_SESSION_IDLE_MINUTES"])
    lifetime = float(config["ADMIN_SESSION_LIFETIME_HOURS"])
    if not all(math.isfinite(value) and value > 0 for value in (idle, lifetime)):
        raise RuntimeError("Configuration refused: ADMIN_SESSION_IDLE_MINUTES and "
                           "ADMIN_SESSION_LIFETIME_HOURS must be positive numbers")
    return SessionLimits(idle=timedelta(minutes=idle), lifetime=timedelta(hours=lifetime))


def init_login(app) -> None:
    app.extensions["orderdesk.session_limits"] = _session_limits(app.config)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to use the back office."
    login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(token: str):
    limits = current_app.extensions["orderdesk.session_limits"]
    admin, touched = signed_in_admin(db.session, token, limits)
    if touched:
        # The loader runs when a request first asks who is signed in, before the view changes
        # anything, so this commits the last-seen time (or the expired session's end) alone.
        db.session.commit()
    expired = db.session.info.pop(EXPIRED_KEY, None)
    if expired is not None:
        minutes = f"{limits.idle.total_seconds() / 60:g}"
        flash(f"Your session ended after {minutes} minutes without activity; please log in again."
              if expired == IDLE_TIMEOUT else "Your session reached its maximum length; please log in again.",
              "info")
    return admin


def _next_page() -> str:
    return safe_redirect_target(request.args.get("next")) or url_for("admin.index")


def _finish(admin: AdminUser, method: str, next_url: str):
    """Every factor passed: the session, the cookie, the activity log. The one place a login
    completes; a new Flask session starts here (nothing from before it carries over)."""
    session.clear()
    complete_login(db.session, admin, request_client(), method)
    login_user(admin)
    db.session.commit()
    return redirect(next_url)


def _pending(admin: AdminUser, step: str, next_url: str):
    session[PENDING_KEY] = {"admin_id": admin.id, "at": int(time.time()), "next": next_url}
    return redirect(url_for(step))


def _pending_admin() -> tuple[AdminUser | None, str]:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None, ""
    admin = db.session.get(AdminUser, pending.get("admin_id"))
    if admin is None or not admin.active:
        return None, ""
    return admin, safe_redirect_target(pending.get("next")) or url_for("admin.index")


def _start_again():
    flash("Your login timed out: enter your email and password again.", "info")
    return redirect(url_for("auth.login"))


@auth_blueprint.route("/admin/login/", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = check_password(db.session, form.email.data, form.password.data, request_client())
        admin = result.admin
        if admin is None:
            db.session.commit()  # the failure's activity-log row
            flash(result.refusal.message, "error")
            status = 429 if result.refusal.throttled else 401
        elif admin.two_factor_enabled:
            if browser_remembered(db.session, admin, request.cookies.get(REMEMBER_COOKIE)):
                return _finish(admin, "password + remembered browser", _next_page())
            db.session.commit()
            return _pending(admin, "auth.two_factor", _next_page())
        elif admin.role.requires_two_factor:
            db.session.commit()
            return _pending(admin, "auth.two_factor_setup", _next_page())
        else:
            return _finish(admin, "password", _next_page())
    elif request.method == "POST":
        status = 401
    return render_template("admin/login.html", form=form), status


@auth_blueprint.route("/admin/login/two-factor/", methods=["GET", "POST"])
def two_factor():
    admin, next_url = _pending_admin()
    if admin is None:
        return _start_again()
    if not admin.two_factor_enabled:
        return redirect(url_for("auth.two_factor_setup"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        client = request_client()
        wait = login_throttle.login_wait(admin.email, client.ip_address)
        method = None if wait is not None else check_code(db.session, admin, form.code.data)
        if method is not None:
            token = None
            if form.remember.data:
                token = remember_browser(db.session, admin, client.user_agent,
                                         current_app.config["TWO_FACTOR_REMEMBER_DAYS"])
            response = _finish(admin, f"password + {method}", next_url)
            if method == "recovery code":
                flash(f"You logged in with a recovery code: {remaining_recovery_codes(db.session, admin)} "
                      "left. Make new ones under Two-factor authentication.", "warning")
            if token:
                response.set_cookie(REMEMBER_COOKIE, token, path=url_for("auth.login"), httponly=True,
                                    samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
                                    max_age=current_app.config["TWO_FACTOR_REMEMBER_DAYS"] * 86400)
            return response
        if wait is not None:
            flash(login_throttle.wait_message(wait), "error")
            status = 429
        else:
            second_factor_failed(db.session, admin, client)
            db.session.commit()
            flash("Invalid authentication code.", "error")
            status = 401
    return render_template("admin/login_two_factor.html", form=form,
                           remember_days=current_app.config["TWO_FACTOR_REMEMBER_DAYS"]), status


@auth_blueprint.route("/admin/login/two-factor/setup/", methods=["GET", "POST"])
def two_factor_setup():
    """The role requires two-factor and this admin has none: set it up now to log in."""
    admin, next_url = _pending_admin()
    if admin is None:
        return _start_again()
    if admin.two_factor_enabled:
        return redirect(url_for("auth.two_factor"))
    secret = pending_secret(db.session, admin)
    db.session.commit()
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        client = request_client()
        wait = login_throttle.login_wait(admin.email, client.ip_address)
        codes = None if wait is not None else confirm_enrolment(db.session, admin, form.code.data,
                                                                 Actor.admin(admin))
        if codes is not None:
            _finish(admin, "password + authenticator app (set up now)", next_url)
            return codes_page(render_template, codes, next_url)
        if wait is not None:
            flash(login_throttle.wait_message(wait), "error")
            status = 429
        else:
            second_factor_failed(db.session, admin, client)
            db.session.commit()
            flash("That code is not right: check the clock of your device and try again.", "error")
            status = 401
    return render_template("admin/login_two_factor_setup.html", form=form, role=admin.role.name,
                           **enrolment_page(admin, secret)), status


@auth_blueprint.route("/admin/logout/", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        end_admin_session(db.session, current_user.session_id, LOGGED_OUT)
        db.session.commit()
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
