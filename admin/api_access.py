"""Setup > API Credentials (create, list, rotate, revoke) and Logs > API Log (read-only, filtered).

A secret is shown once, in the page that answers the create or rotate POST (never in a flash
message, which would travel in the session), and only its argon2 hash is stored.
"""

from flask import abort, flash, make_response, redirect, request, url_for
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_admin.model.template import TemplateLinkRowAction
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from actions.api_credentials import (
    ApiCredentialError,
    check_allowlist,
    create_api_credential,
    revoke_api_credential,
    rotate_api_credential,
)
from admin.base import SecureModelView, has_permission
from admin.reauth import ReauthenticatedViewMixin
from admin.users import ROLE_PICKER
from extensions import db
from models import ApiCredential, Permission
from models.bounds import is_id


def _valid_allowlist(form, field):
    try:
        check_allowlist(field.data or "")
    except ApiCredentialError as exc:
        raise ValidationError(str(exc)) from None


class ApiCredentialView(ReauthenticatedViewMixin, SecureModelView):
    permission = create_permission = edit_permission = delete_permission = Permission.MANAGE_API_CREDENTIALS
    reauthenticated_views = ReauthenticatedViewMixin.reauthenticated_views + ("rotate_view", "revoke_view")

    list_template = "admin/api_credential_list.html"
    column_list = ("identifier", "description", "role", "active", "created_at", "last_used_at")
    column_searchable_list = ("identifier", "description")
    column_filters = ("active", "role_id")
    column_details_exclude_list = ("secret_hash",)
    form_columns = ("description", "role", "ip_allowlist", "active")
    form_args = {
        "ip_allowlist": {
            "label": "IP allow-list",
            "validators": [_valid_allowlist],
            "description": "One IP address or CIDR range per line; empty: the "
            "API_ALLOWED_IPS setting (by default this host only).",
        }
    }
    form_ajax_refs = {"role": ROLE_PICKER}
    column_extra_row_actions = [TemplateLinkRowAction("credential_macros.row_actions", "Rotate / revoke")]

    def get_query(self):
        return super().get_query().options(selectinload(ApiCredential.role))

    def on_model_change(self, form, model, is_created):
        model.ip_allowlist = check_allowlist(model.ip_allowlist or "")

    def _secret_page(self, credential: ApiCredential, secret: str, done: str):
        response = make_response(
            self.render("admin/api_credential_secret.html", credential=credential, secret=secret, done=done)
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Flask-Admin's create form; a valid POST creates through actions.api_credentials and answers
        with the secret."""
        if request.method != "POST":
            return super().create_view()
        form = self.create_form()
        if not self.validate_form(form):
            return super().create_view()
        role = form.role.data
        try:
            credential, secret = create_api_credential(
                db.session, role.name, form.ip_allowlist.data or "", form.description.data or ""
            )
        except ApiCredentialError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return super().create_view()
        credential.active = bool(form.active.data)
        db.session.commit()
        return self._secret_page(credential, secret, "created")

    def _credential_from_form(self) -> ApiCredential:
        credential_id = request.form.get("id", "")
        credential = db.session.get(ApiCredential, int(credential_id)) if is_id(credential_id) else None
        if credential is None:
            abort(404)
        return credential

    @expose("/rotate/", methods=("POST",))
    def rotate_view(self):
        if not has_permission(self.edit_permission):
            abort(403)
        credential = self._credential_from_form()
        secret = rotate_api_credential(db.session, credential)
        db.session.commit()
        return self._secret_page(credential, secret, "rotated: the old secret no longer works")

    @expose("/revoke/", methods=("POST",))
    def revoke_view(self):
        if not has_permission(self.edit_permission):
            abort(403)
        credential = self._credential_from_form()
        revoke_api_credential(db.session, credential)
        db.session.commit()
        flash(f"API credential {credential.identifier} revoked: it can no longer call the API.", "success")
        return redirect(get_redirect_target() or url_for(".index_view"))


class ApiLogView(SecureModelView):
    """Every API call: who, from where, what, the result, how long. Read-only."""

    permission = Permission.VIEW_API_LOG
    allow_create = allow_edit = allow_delete = False
    column_list = (
        "created_at",
        "action",
        "caller",
        "ip_address",
        "result",
        "http_status",
        "message",
        "duration_ms",
        "order_id",
    )
    column_labels = {
        "created_at": "Time",
        "caller": "Credential / admin",
        "ip_address": "IP",
        "http_status": "HTTP",
        "duration_ms": "ms",
        "order_id": "Order ID",
    }
    column_default_sort = ("id", True)
    column_sortable_list = ()
    # Each filter narrows on an indexed column (models.api_log).
    column_filters = ("action", "credential_id", "ip_address", "result", "created_at", "order_id")
