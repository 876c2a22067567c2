"""Base views: every admin URL needs a login and a named permission."""

from decimal import Decimal

from flask import abort, has_request_context, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from sqlalchemy import Numeric
from wtforms.validators import NumberRange, ValidationError


def has_permission(permission: str | None) -> bool:
    if not has_request_context() or not current_user.is_authenticated:
        return False
    return permission is None or current_user.has_permission(permission)


class PermissionMixin:
    """`permission` opens the view; anonymous users go to the login page, others get 403."""

    permission: str | None = None

    def is_accessible(self) -> bool:
        return has_permission(self.permission)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class SecureBaseView(PermissionMixin, BaseView):
    pass


def money_places(form, field):
    value = field.data
    if isinstance(value, Decimal) and value.as_tuple().exponent < -2:
        raise ValidationError("Enter an amount with at most two decimal places, e.g. 12.34.")


class SecureModelView(PermissionMixin, ModelView):
    """ModelView whose create/edit/delete each need their own named permission.

    View instances are shared across requests, so the can_* flags are properties read per request
    (never assigned per user).
    """

    create_permission: str | None = None
    edit_permission: str | None = None
    delete_permission: str | None = None
    allow_create = allow_edit = allow_delete = True

    page_size = 50
    simple_list_pager = True  # no COUNT(*) over the whole table on every list view
    can_view_details = True
    column_display_pk = True
    # Auto joinedload with a deep OFFSET joins every skipped row; views eager-load in get_query.
    column_auto_select_related = False

    _ENDPOINT_PERMISSIONS = {
        "create_view": "create_permission",
        "edit_view": "edit_permission",
        "ajax_update": "edit_permission",
        "delete_view": "delete_permission",
    }

    @property
    def can_create(self) -> bool:
        return self.allow_create and has_permission(self.create_permission)

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and has_permission(self.edit_permission)

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and has_permission(self.delete_permission)

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        attr = self._ENDPOINT_PERMISSIONS.get(name)
        if attr is not None:
            allowed = {"create_permission": self.can_create, "edit_permission": self.can_edit,
                       "delete_permission": self.can_delete}[attr]
            if not allowed:
                abort(403)
        return None

    def scaffold_form(self):
        """Money columns: at most two decimals and never negative, with a clear message."""
        form_class = super().scaffold_form()
        for column in self.model.__table__.columns:
            field = getattr(form_class, column.key, None)
            if field is not None and isinstance(column.type, Numeric) and column.type.scale == 2:
                validators = list(field.kwargs.get("validators", []))
                validators += [money_places, NumberRange(min=0, message="Amounts cannot be negative.")]
                field.kwargs["validators"] = validators
        return form_class
