"""The signed-in admin's own security: two-factor authentication (set up, new recovery codes, turn
off) and the re-authentication page the dangerous requests send to (admin/reauth.py).

Every page needs a login and nothing more: it only ever acts on the admin's own account."""

import segno
from flask import flash, make_response, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from actions.actor import Actor
from actions.admin_login import REAUTH_WINDOW, Client, reauthenticate
from actions.two_factor import (
    confirm_enrolment,
    new_recovery_codes,
    pending_secret,
    provisioning_uri,
    remaining_recovery_codes,
    reset_two_factor,
)
from admin.base import SecureBaseView
from admin.reauth import recent_login_redirect
from admin.redirects import safe_redirect_target
from extensions import db


class CodeForm(FlaskForm):
    code = StringField("Authentication code", validators=[DataRequired(), Length(max=40)])
    remember = BooleanField("Remember this browser", default=False)


class ConfirmForm(FlaskForm):
    secret = PasswordField("Password or authenticator code", validators=[DataRequired(), Length(max=256)])


def request_client() -> Client:
    return Client((request.remote_addr or "")[:45], request.user_agent.string[:255])


def enrolment_page(admin, secret: str) -> dict:
    """What the set-up page shows: the QR code (SVG, no image library) and the key typed by hand."""
    uri = provisioning_uri(admin, secret)
    qr = segno.make(uri, error="m").svg_inline(scale=5, title="Two-factor set-up code")
    groups = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"qr_svg": Markup(qr), "secret_groups": groups}


def codes_page(render, codes: list[str], next_url: str):
    """The recovery codes, shown this once; never cached."""
    response = make_response(render("admin/recovery_codes.html", codes=codes, next_url=next_url))
    response.headers["Cache-Control"] = "no-store"
    return response


class AccountView(SecureBaseView):
    permission = None  # a login: every admin manages their own second factor

    def is_visible(self):
        return False  # reached from the navigation bar's own link

    @expose("/")
    def index(self):
        admin = current_user
        remaining = remaining_recovery_codes(db.session, admin) if admin.two_factor_enabled else 0
        return self.render("admin/account.html", admin=admin, remaining=remaining)

    @expose("/two-factor/setup/", methods=("GET", "POST"))
    def setup_view(self):
        admin = current_user
        if admin.two_factor_enabled:
            flash("Two-factor authentication is already on.", "info")
            return redirect(url_for(".index"))
        denied = recent_login_redirect(url_for(".setup_view"))
        if denied is not None:
            return denied
        secret = pending_secret(db.session, admin)
        db.session.commit()
        form = CodeForm()
        if form.validate_on_submit():
            codes = confirm_enrolment(db.session, admin, form.code.data, Actor.admin(admin))
            if codes is not None:
                db.session.commit()
                flash("Two-factor authentication is on.", "success")
                return codes_page(self.render, codes, url_for(".index"))
            flash("That code is not right: check the clock of your device and try again.", "error")
        return self.render("admin/account_two_factor_setup.html", form=form, **enrolment_page(admin, secret))

    @expose("/two-factor/recovery-codes/", methods=("POST",))
    def recovery_codes_view(self):
        denied = recent_login_redirect(url_for(".index"))
        if denied is not None:
            return denied
        if not current_user.two_factor_enabled:
            flash("Two-factor authentication is off: there are no recovery codes.", "error")
            return redirect(url_for(".index"))
        codes = new_recovery_codes(db.session, current_user)
        db.session.commit()
        return codes_page(self.render, codes, url_for(".index"))

    @expose("/two-factor/off/", methods=("POST",))
    def turn_off_view(self):
        denied = recent_login_redirect(url_for(".index"))
        if denied is not None:
            return denied
        admin = current_user
        if admin.role.requires_two_factor:
            flash(f"The {admin.role.name} role requires two-factor authentication: it stays on.", "error")
        elif admin.two_factor_enabled:
            reset_two_factor(db.session, admin, Actor.admin(admin))
            db.session.commit()
            flash("Two-factor authentication is off.", "success")
        return redirect(url_for(".index"))

    @expose("/confirm/", methods=("GET", "POST"))
    def reauthenticate_view(self):
        next_url = safe_redirect_target(request.args.get("next")) or url_for("admin.index")
        form = ConfirmForm()
        status = 200
        if form.validate_on_submit():
            refusal = reauthenticate(db.session, current_user, form.secret.data, request_client())
            db.session.commit()
            if refusal is None:
                return redirect(next_url)
            flash(refusal.message, "error")
            status = 429 if refusal.throttled else 401
        return self.render("admin/reauthenticate.html", form=form, next_url=next_url,
                           minutes=REAUTH_WINDOW.seconds // 60), status
