"""Admin users, roles (named permissions) and API credentials."""

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.form import Select2Widget
from flask_admin.model.template import TemplateLinkRowAction
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField
from wtforms.validators import Email, Length, Optional, ValidationError

from actions.actor import Actor
from actions.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from actions.two_factor import reset_two_factor
from admin.base import SecureModelView, has_permission
from admin.profile import time_zone_choices
from admin.reauth import ReauthenticatedViewMixin
from admin.redirects import redirect_target
from extensions import db
from models import AdminUser, ApiCredential, Permission
from models.bounds import is_id
from models.permissions import ALL_PERMISSIONS, BUILTIN_ROLES

ROLE_PICKER = {"fields": ("name",), "page_size": 10}


def _two_factor(view, context, model, name):
    return "On" if model.two_factor_enabled else "Off"


class AdminUserView(ReauthenticatedViewMixin, SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_ADMINISTRATORS)
    reauthenticated_views = ReauthenticatedViewMixin.reauthenticated_views + ("reset_two_factor_view",)

    column_list = ("id", "email", "name", "role", "active", "two_factor", "last_login_at", "created_at")
    column_labels = {"id": "ID", "two_factor": "Two-factor"}
    column_formatters = {"two_factor": _two_factor}
    column_searchable_list = ("email", "name")
    column_filters = ("active", "role_id")
    column_details_exclude_list = ("password_hash", "legacy_api_password_hash", "totp_secret",
                                   "totp_last_step")
    list_template = "admin/admin_user_list.html"
    column_extra_row_actions = [TemplateLinkRowAction("admin_user_macros.row_actions", "Reset two-factor")]
    form_columns = ("email", "name", "role", "active", "time_zone", "new_password", "legacy_api_password",
                    "remove_legacy_api_password")
    form_extra_fields = {
        "new_password": PasswordField(
            "New password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
            description=f"Required for a new admin; leave blank to keep the current password. At least "
                        f"{MIN_PASSWORD_LENGTH} characters, hard to guess, not the email address."),
        # docs/api.md: legacy clients (pywhmcs, PHP scripts) send this admin's email and md5 of it.
        "legacy_api_password": PasswordField(
            "Legacy API password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH)],
            description="Opt-in, for old API clients that log in with an admin's username and md5 of a "
                        "password: set one here, different from the login password (the role still needs "
                        "API Access). Leave blank to keep it as it is."),
        "remove_legacy_api_password": BooleanField("Turn off the legacy API login"),
    }
    form_overrides = {"time_zone": SelectField}
    form_args = {"email": {"validators": [Email(message="Enter a valid email address.")]},
                 "time_zone": {"choices": time_zone_choices, "default": "UTC",
                               "description": "Times are shown to this admin in this zone."}}
    form_ajax_refs = {"role": ROLE_PICKER}
    unique_messages = {"email": "An admin with email {value} already exists."}

    @property
    def can_reset_two_factor(self) -> bool:
        return has_permission(Permission.RESET_TWO_FACTOR)

    def get_query(self):
        return super().get_query().options(selectinload(AdminUser.role))

    def on_model_change(self, form, model, is_created):
        if form.remove_legacy_api_password.data:
            model.set_legacy_api_password(None)
        elif form.legacy_api_password.data:
            if form.legacy_api_password.data == form.new_password.data or (
                    model.password_hash and model.check_password(form.legacy_api_password.data)):
                raise ValidationError("The legacy API password must differ from the login password.")
            model.set_legacy_api_password(form.legacy_api_password.data)
        if form.new_password.data:
            problem = password_problem(form.new_password.data, model.email or "", model.name or "")
            if problem:
                raise ValidationError(problem + ".")
            model.set_password(form.new_password.data)
        elif is_created:
            raise ValidationError("A new admin needs a password.")
        if model.id == current_user.id and not model.active:
            raise ValidationError("You cannot deactivate your own account.")

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise ValidationError("You cannot delete your own account.")

    @expose("/reset-two-factor/", methods=("POST",))
    def reset_two_factor_view(self):
        """A Full Administrator turns another admin's two-factor off (a lost phone): they log in
        with the password alone, or set it up again if their role requires it."""
        if not has_permission(Permission.RESET_TWO_FACTOR):
            abort(403)
        raw_id = request.form.get("id", "")
        admin = db.session.get(AdminUser, int(raw_id)) if is_id(raw_id) else None
        if admin is None:
            abort(404)
        if not admin.two_factor_enabled and not admin.totp_secret:
            flash(f"{admin.email} has no two-factor authentication to reset.", "info")
        else:
            reset_two_factor(db.session, admin, Actor.admin(current_user))
            db.session.commit()
            flash(f"Two-factor authentication of {admin.email} reset; their sessions were ended.", "success")
        return redirect(redirect_target() or self.get_url(".index_view"))


class RoleView(ReauthenticatedViewMixin, SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_ADMIN_ROLES)

    column_list = ("name", "permissions", "requires_two_factor", "builtin")
    column_labels = {"requires_two_factor": "2FA required"}
    column_formatters = {"permissions": lambda view, context, model, name: Markup("<br>").join(
        model.permissions or [])}
    column_searchable_list = ("name",)
    form_columns = ("name", "permissions", "requires_two_factor")
    form_args = {"requires_two_factor": {
        "label": "Two-factor authentication required",
        "description": "Admins of this role without it set it up at their next login."}}
    form_overrides = {"permissions": SelectMultipleField}
    form_args["permissions"] = {"choices": list(ALL_PERMISSIONS), "widget": Select2Widget(multiple=True)}
    unique_messages = {"name": "A role named {value} already exists."}

    def on_model_change(self, form, model, is_created):
        # Built-in roles' names and permissions are reset from code at start-up; a change would
        # silently vanish. Their two-factor switch is the deployer's and stays.
        state = inspect(model)
        same_permissions = sorted(model.permissions or []) == sorted(BUILTIN_ROLES.get(model.name, []))
        if model.builtin and (state.attrs.name.history.has_changes() or not same_permissions):
            raise ValidationError(f"{model.name} is a built-in role: only its two-factor switch can change; "
                                  "create a custom role for other permissions.")

    def on_model_delete(self, model):
        if model.builtin:
            raise ValidationError(f"{model.name} is a built-in role and cannot be deleted.")
        in_use = (select(AdminUser.id).where(AdminUser.role_id == model.id).limit(1),
                  select(ApiCredential.id).where(ApiCredential.role_id == model.id).limit(1))
        if any(db.session.scalar(query) for query in in_use):
            raise ValidationError(f"Role {model.name} is assigned to admins or API credentials.")
