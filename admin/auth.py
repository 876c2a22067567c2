"""Admin login and logout (Flask-Login, argon2 hashes, server-side sessions).

The session cookie carries only a random token (actions/admin_sessions.py); the user loader signs
a request in only while that token's session is live, so logout ends the login for every copy of
the cookie, and a password or role change or a deactivation ends the admin's other sessions."""

import functools

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from actions.admin_sessions import LOGGED_OUT, end_admin_session, signed_in_admin, start_admin_session
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


def init_login(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to use the back office."
    login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(token: str):
    admin, touched = signed_in_admin(db.session, token)
    if touched:
        # The loader runs when a request first asks who is signed in, before the view changes
        # anything, so this commits the last-seen time alone.
        db.session.commit()
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
