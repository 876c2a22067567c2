"""Admin users, roles (named permissions) and API credentials."""

from flask_admin.form import Select2Widget
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField
from wtforms.validators import Email, Length, Optional, ValidationError

from actions.admin_users import MIN_PASSWORD_LENGTH
from admin.base import SecureModelView
from admin.profile import time_zone_choices
from extensions import db
from models import AdminUser, ApiCredential, Permission
from models.permissions import ALL_PERMISSIONS

ROLE_PICKER = {"fields": ("name",), "page_size": 10}


class AdminUserView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_ADMINISTRATORS)

    column_list = ("id", "email", "name", "role", "active", "last_login_at", "created_at")
    column_labels = {"id": "ID"}
    column_searchable_list = ("email", "name")
    column_filters = ("active", "role_id")
    column_details_exclude_list = ("password_hash", "legacy_api_password_hash")
    form_columns = ("email", "name", "role", "active", "time_zone", "new_password", "legacy_api_password",
                    "remove_legacy_api_password")
    form_extra_fields = {
        "new_password": PasswordField(
            "New password", validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH)],
            description="Required for a new admin; leave blank to keep the current password."),
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
            model.set_password(form.new_password.data)
        elif is_created:
            raise ValidationError("A new admin needs a password.")
        if model.id == current_user.id and not model.active:
            raise ValidationError("You cannot deactivate your own account.")

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise ValidationError("You cannot delete your own account.")


class RoleView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_ADMIN_ROLES)

    column_list = ("name", "permissions", "builtin")
    column_formatters = {"permissions": lambda view, context, model, name: Markup("<br>").join(
        model.permissions or [])}
    column_searchable_list = ("name",)
    form_columns = ("name", "permissions")
    form_overrides = {"permissions": SelectMultipleField}
    form_args = {"permissions": {"choices": list(ALL_PERMISSIONS),
                                 "widget": Select2Widget(multiple=True)}}
    unique_messages = {"name": "A role named {value} already exists."}

    def on_model_change(self, form, model, is_created):
        # Built-in roles are reset from code at start-up; a change would silently vanish.
        if model.builtin:
            raise ValidationError(f"{model.name} is a built-in role; create a custom role instead.")

    def on_model_delete(self, model):
        if model.builtin:
            raise ValidationError(f"{model.name} is a built-in role and cannot be deleted.")
        in_use = (select(AdminUser.id).where(AdminUser.role_id == model.id).limit(1),
                  select(ApiCredential.id).where(ApiCredential.role_id == model.id).limit(1))
        if any(db.session.scalar(query) for query in in_use):
            raise ValidationError(f"Role {model.name} is assigned to admins or API credentials.")
