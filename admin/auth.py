"""Admin login and logout (Flask-Login, argon2 hashes)."""

import functools

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

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
def load_user(user_id: str):
    user = db.session.get(AdminUser, int(user_id))
    return user if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never redirect to another host after login ("//x" and "/\\x"
    # are both taken by browsers as another host).
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return url_for("admin.index")


@auth_blueprint.route("/admin/login/", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email))
        if user is None:
            verify_secret(_dummy_hash(), form.password.data)
        elif user.active and user.check_password(form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash("Invalid email or password.", "error")
    return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 401


@auth_blueprint.route("/admin/logout/", methods=["POST"])
def logout():
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
