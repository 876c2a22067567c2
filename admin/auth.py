"""Admin login and logout (Flask-Login, argon2 hashes, server-side sessions).

The session cookie carries only a random token (actions/admin_sessions.py); the user loader signs
a request in only while that token's session is live, so logout ends the login for every copy of
the cookie, and a password or role change or a deactivation ends the admin's other sessions."""

import functools
import math
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from actions.admin_sessions import (
    EXPIRED_KEY,
    IDLE_TIMEOUT,
    LOGGED_OUT,
    SessionLimits,
    end_admin_session,
    signed_in_admin,
    start_admin_session,
)
from admin.redirects import safe_redirect_target
from extensions import db, login_manager
from models import AdminUser, hash_secret, utcnow, verify_secret

auth_blueprint = Blueprint("auth", __name__, template_folder="templates")


@functools.cache
def _dummy_hash() -> str:
    # One hash comparison even for unknown emails, so timing does not reveal which emails exist.
    return hash_secret("not-a-password")


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


@auth_blueprint.route("/admin/login/", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_page())
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
        if user is None:
            verify_secret(_dummy_hash(), form.password.data)
        elif user.active and user.check_password(form.password.data):
            # A new session at login: nothing from before it (a planted cookie) carries over.
            flask_session.clear()
            start_admin_session(db.session, user, request.remote_addr or "", request.user_agent.string)
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_next_page())
        flash("Invalid email or password.", "error")
    return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 401


@auth_blueprint.route("/admin/logout/", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        end_admin_session(db.session, current_user.session_id, LOGGED_OUT)
        db.session.commit()
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
