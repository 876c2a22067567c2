"""Base views: every admin URL needs a login and a named permission."""

from decimal import Decimal
from enum import Enum

from flask import abort, has_request_context, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.validators import Unique
from flask_admin.menu import MenuLink
from flask_admin.model import typefmt
from flask_admin.model.fields import AjaxSelectField
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Numeric, Select, func, select
from sqlalchemy.types import TypeDecorator
from wtforms import PasswordField
from wtforms.validators import NumberRange, Optional, ValidationError

from actions.actor import Actor
from actions.record_edits import record_edit
from actions.transitions import TransitionError
from extensions import db
from models.bounds import is_id


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


class FilteredListLink(MenuLink):
    """A menu entry opening a list with URL filters (?flt0_...=...), shown when `accessible()`."""

    def __init__(self, name: str, category: str, endpoint: str, accessible, **filter_args):
        super().__init__(name, endpoint=endpoint, category=category)
        self.accessible = accessible
        self.filter_args = filter_args

    def get_url(self):
        return url_for(self.endpoint, **self.filter_args)

    def is_accessible(self):
        return self.accessible()


def capped_count(key: str, rows: Select, cap: int) -> int:
    """How many rows `rows` selects, counting no further than cap + 1 (so the COUNT stays cheap
    however many there are); computed at most once per request. Cached on the request, not on g:
    an app context may outlive one request (as in tests)."""
    cache_key = f"orderdesk.count.{key}"
    if cache_key not in request.environ:
        first = rows.limit(cap + 1).subquery()
        request.environ[cache_key] = db.session.scalar(select(func.count()).select_from(first))
    return request.environ[cache_key]


def count_badge(label: str, count: int, cap: int, badge_id: str, title: str) -> Markup:
    """A menu title with a red badge counting rows ("<cap>+" past the cap); no badge at zero.
    Menu labels are str subclasses rendering through this in __html__ (Flask-Admin prints item.name)."""
    label = str(label)  # the plain text: escaping the label object itself would recurse into __html__
    if not count:
        return escape(label)
    shown = f"{cap}+" if count > cap else str(count)
    badge = '<span class="badge badge-danger" id="{}" title="{}">{}</span>'
    return Markup("{} " + badge).format(label, badge_id, title, shown)


def money_places(form, field):
    value = field.data
    if isinstance(value, Decimal) and value.as_tuple().exponent < -2:
        raise ValidationError("Enter an amount with at most two decimal places, e.g. 12.34.")


def add_money_validators(form_class, model):
    """Money columns (Numeric(16,2)): at most two decimals and never negative, with a clear message."""
    for column in model.__table__.columns:
        field = getattr(form_class, column.key, None)
        if field is not None and isinstance(column.type, Numeric) and column.type.scale == 2:
            validators = list(field.kwargs.get("validators", []))
            validators += [money_places, NumberRange(min=0, message="Amounts cannot be negative.")]
            field.kwargs["validators"] = validators
    return form_class


class MoneyInlineForm(InlineFormAdmin):
    """Inline child rows (prices) get the same money checks as the parent form."""

    def postprocess_form(self, form_class):
        return add_money_validators(super().postprocess_form(form_class), self.model)


class UniqueValue(Unique):
    """Flask-Admin's unique check, with a message naming the value ("... X already exists")."""

    def __init__(self, original: Unique, template: str):
        super().__init__(original.db_session, original.model, original.column)
        self.template = template

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except ValidationError:
            raise ValidationError(self.template.format(value=field.data)) from None


class SecretField(PasswordField):
    """Write-only: never rendered back; left blank it keeps the stored value."""

    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("description", "Write-only. Leave blank to keep the stored value.")
        super().__init__(label, **kwargs)

    def populate_obj(self, obj, name):
        if self.data:
            setattr(obj, name, self.data)


class TypeDecoratorFilterConverter(FilterConverter):
    """Filters for our own column types (UTCDateTime, EncryptedText) follow their SQL type."""

    def convert(self, type_name, column, name, **kwargs):
        column_type = getattr(column, "type", None)
        if isinstance(column_type, TypeDecorator):
            type_name = type(column_type.impl).__name__
        return super().convert(type_name, column, name, **kwargs)


class StrictAjaxModelLoader(QueryAjaxModelLoader):
    """An AJAX picker's lookup by id: anything that is not a valid id matches no row (never a
    database error for a huge number or a word)."""

    def get_one(self, pk):
        return super().get_one(int(pk)) if is_id(pk) else None


def _masked(view, context, model, name):
    return Markup("<em>set</em>") if getattr(model, name) else Markup("<em>not set</em>")


def _enum_value(view, value, name) -> str:
    # Our vocabularies are StrEnums: show "Unpaid", the business word, not the member name UNPAID.
    return str(value.value)


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
    column_type_formatters = {**typefmt.BASE_FORMATTERS, Enum: _enum_value}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, Enum: _enum_value}
    simple_list_pager = True  # no COUNT(*) over the whole table on every list view
    can_view_details = True
    column_display_pk = True
    # Auto joinedload with a deep OFFSET joins every skipped row; views eager-load in get_query.
    column_auto_select_related = False
    filter_converter = TypeDecoratorFilterConverter()

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

    # Column -> message for a duplicate value, e.g. {"email": "A client with email {value} ..."}.
    unique_messages: dict[str, str] = {}
    # Encrypted columns that are write-only in forms and masked in lists and details pages.
    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        # Before super().__init__, which caches the formatters.
        self.column_formatters = {**dict(self.column_formatters or {}),
                                  **{name: _masked for name in self.secret_fields}}
        super().__init__(*args, **kwargs)

    def scaffold_form(self):
        form_class = add_money_validators(super().scaffold_form(), self.model)
        for name in self.secret_fields:
            setattr(form_class, name, SecretField(self.get_column_name(name)))
        for column in self.model.__table__.columns:
            field = getattr(form_class, column.key, None)
            if field is None:
                continue
            template = self.unique_messages.get(
                column.key, f"{self.get_column_name(column.key)} {{value}} is already in use."
            )
            field.kwargs["validators"] = [
                UniqueValue(v, template) if isinstance(v, Unique) else v
                for v in field.kwargs.get("validators", [])
            ]
        return form_class

    def _create_ajax_loader(self, name, options):
        loader = super()._create_ajax_loader(name, options)
        return StrictAjaxModelLoader(loader.name, loader.session, loader.model, **loader.options)

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        for field in form:
            # An AJAX picker given an id that matches no row is refused with a message, also where
            # the relation may be empty (Flask-Admin would silently store NULL).
            raw = getattr(field, "_formdata", None)
            if isinstance(field, AjaxSelectField) and raw and field.data is None:
                shown = str(raw)[:20]
                field.errors = [f"Unknown {field.label.text.lower()}: no record with id {shown}."]
                valid = False
        return valid


class AuditedEditMixin:
    """Edit forms of an order's records: each accepted change is written on the order's timeline
    with the admin and before -> after (actions.record_edits), under the order's lock."""

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:
            return
        try:
            record_edit(db.session, model, Actor.admin(current_user))
        except TransitionError as exc:
            raise ValidationError(exc.message) from None
