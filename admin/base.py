"""Base views: every admin URL needs a login and a named permission."""

import logging
from datetime import date, datetime
from enum import Enum
from functools import lru_cache

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.contrib.sqla.validators import Unique
from flask_admin.menu import MenuLink
from flask_admin.model import typefmt
from flask_admin.model.fields import AjaxSelectField
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Integer, Select, false, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator
from werkzeug.exceptions import BadRequest
from wtforms.validators import ValidationError

from admin.access import has_permission
from admin.errors import log_unexpected
from admin.form_fields import SecretField, UniqueValue
from admin.grid import FriendlyListMixin
from admin.keyset import KeysetPagingMixin
from admin.list_input import ListFilters, money_filters, parse_list_filters, primary_key_value
from admin.presentation import date_type_formatter, datetime_type_formatter, gateway_column, money_column
from extensions import db, read_columns
from models.base import Money
from models.bounds import InvalidInput, check_money, integer_range, whole_number


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


def capped_count(key: str, rows: Select, cap: int, parameters: dict | None = None) -> int:
    """How many rows `rows` selects, counting no further than cap + 1 (so the COUNT stays cheap
    however many there are); computed at most once per request. Cached on the request, not on g:
    an app context may outlive one request (as in tests). `rows` may be a statement built once
    with bind parameters (`parameters`), as the menu badges' are: its COUNT is then built once too."""
    cache_key = f"orderdesk.count.{key}"
    if cache_key not in request.environ:
        request.environ[cache_key] = read_columns(_capped(rows, cap), parameters).scalar()
    return request.environ[cache_key]


@lru_cache(maxsize=64)
def _capped(rows: Select, cap: int) -> Select:
    """COUNT of rows' first cap + 1, per statement object (held here, so never another's id)."""
    return select(func.count()).select_from(rows.limit(cap + 1).subquery())


def count_badge(label: str, count: int, cap: int, badge_id: str, title: str) -> Markup:
    """A menu title with a red badge counting rows ("<cap>+" past the cap); no badge at zero.
    Menu labels are str subclasses rendering through this in __html__ (Flask-Admin prints item.name)."""
    label = str(label)  # the plain text: escaping the label object itself would recurse into __html__
    if not count:
        return escape(label)
    shown = f"{cap}+" if count > cap else str(count)
    badge = '<span class="badge badge-danger" id="{}" title="{}">{}</span>'
    return Markup("{} " + badge).format(label, badge_id, title, shown)


def money_amount(form, field):
    """A Money field: a finite amount, at most two decimals, not negative, within NUMERIC(16,2)."""
    if field.data is None:
        return
    try:
        check_money(field.data, what=field.label.text or "The amount")
    except InvalidInput as exc:
        raise ValidationError(exc.message) from None


class NumberWithin:
    """A whole-number field within [minimum, maximum] (blank is left to Optional/InputRequired)."""

    def __init__(self, minimum: int, maximum: int):
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, form, field):
        if field.data is not None and not self.minimum <= field.data <= self.maximum:
            raise ValidationError(f"Enter a whole number from {self.minimum:,} to {self.maximum:,}.")


def add_money_validators(form_class, model, number_limits: dict | None = None):
    """Every Money column's field gets money_amount; every integer column's field a range: the
    business limit in `number_limits` ({"stock_quantity": (0, MAX_STOCK)}) or else what the
    column holds. Each message shows next to its field."""
    limits = number_limits or {}
    for column in model.__table__.columns:
        field = getattr(form_class, column.key, None)
        if field is None:
            continue
        validators = list(field.kwargs.get("validators", []))
        if isinstance(column.type, Money):
            validators.append(money_amount)
        elif isinstance(column.type, Integer) and not column.primary_key and not column.foreign_keys:
            validators.append(NumberWithin(*limits.get(column.key, integer_range(column.type))))
        field.kwargs["validators"] = validators
    return form_class


class MoneyInlineForm(InlineFormAdmin):
    """Inline child rows (prices) get the same money and number checks as the parent form."""

    def __init__(self, model, number_limits: dict | None = None, **kwargs):
        super().__init__(model, **kwargs)
        self.number_limits = number_limits or {}

    def postprocess_form(self, form_class):
        return add_money_validators(super().postprocess_form(form_class), self.model, self.number_limits)


class BoundedAjaxLoader(QueryAjaxModelLoader):
    """A picker (form_ajax_refs) given an id it cannot hold finds nothing, instead of a database error."""

    def get_one(self, pk):
        value = primary_key_value(self.model, pk)
        return None if value is None else super().get_one(value)


class TypeDecoratorFilterConverter(FilterConverter):
    """Filters for our own column types (UTCDateTime, EncryptedText) follow their SQL type; Money
    filters compare exact Decimals."""

    def convert(self, type_name, column, name, **kwargs):
        column_type = getattr(column, "type", None)
        if isinstance(column_type, Money):
            return money_filters(column, name, **kwargs)
        if isinstance(column_type, TypeDecorator):
            type_name = type(column_type.impl).__name__
        return super().convert(type_name, column, name, **kwargs)


class TypeDecoratorFormConverter(AdminModelConverter):
    """Form fields for our own column types follow the type they store: Money is a decimal field
    (then checked by money_amount), UTCDateTime a date-time field."""

    def get_converter(self, column):
        converter = super().get_converter(column)
        if converter is None and isinstance(getattr(column, "type", None), TypeDecorator):
            impl = column.type.impl
            names = [f"{t.__module__}.{t.__name__}" for t in type(impl).__mro__]
            names += [t.__name__ for t in type(impl).__mro__]
            return next((self.converters[name] for name in names if name in self.converters), None)
        return converter


# AJAX picker paging (?offset=&limit=) beyond these is refused.
MAX_AJAX_OFFSET, MAX_AJAX_LIMIT = 10_000, 100


def _masked(view, context, model, name):
    return Markup("<em>set</em>") if getattr(model, name) else Markup("<em>not set</em>")


def _enum_value(view, value, name) -> str:
    # Our vocabularies are StrEnums: show "Unpaid", the business word, not the member name UNPAID.
    return str(value.value)


class SecureModelView(PermissionMixin, FriendlyListMixin, KeysetPagingMixin, ModelView):
    """ModelView whose create/edit/delete each need their own named permission.

    View instances are shared across requests, so the can_* flags are properties read per request
    (never assigned per user).
    """

    create_permission: str | None = None
    edit_permission: str | None = None
    delete_permission: str | None = None
    allow_create = allow_edit = allow_delete = True

    page_size = 50
    list_template = "admin/grid.html"
    # datetime before date: a datetime is a date too (Flask-Admin takes the first isinstance match).
    _friendly_types = {Enum: _enum_value, datetime: datetime_type_formatter, date: date_type_formatter}
    column_type_formatters = {**typefmt.BASE_FORMATTERS, **_friendly_types}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, **_friendly_types}
    simple_list_pager = True  # no COUNT(*) over the whole table on every list view
    can_view_details = True
    column_display_pk = True
    # Auto joinedload with a deep OFFSET joins every skipped row; views eager-load in get_query.
    column_auto_select_related = False
    filter_converter = TypeDecoratorFilterConverter()
    model_form_converter = TypeDecoratorFormConverter

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
        if name == "action_view":
            # Flask-Admin answers an unknown or forbidden bulk action with a silent redirect.
            chosen = request.form.get("action", "")
            if chosen not in self._actions_data:
                raise BadRequest(f"There is no bulk action {chosen[:40]!r} here; nothing was changed.")
            if not self.is_action_allowed(chosen):
                abort(403)
            self._check_posted_ids(request.form.getlist("rowid"))
        if name == "ajax_lookup":
            for arg, lowest, highest in (("offset", 0, MAX_AJAX_OFFSET), ("limit", 1, MAX_AJAX_LIMIT)):
                raw = request.args.get(arg)
                if raw is not None and whole_number(raw, minimum=lowest, maximum=highest) is None:
                    raise BadRequest(f"The {arg} of a lookup must be a whole number from {lowest} "
                                     f"to {highest:,}.")
        return None

    # --- ids: parsed to the primary key's range; an id that cannot exist is "not found", never a 500

    def get_one(self, id):
        pk = primary_key_value(self.model, id)
        return None if pk is None else db.session.get(self.model, pk)

    def _check_posted_ids(self, ids) -> None:
        """Ticked rows of a bulk action: every one must be an id this list's rows can have."""
        for raw in ids:
            if primary_key_value(self.model, raw) is None:
                shown = raw if len(raw) <= 40 else raw[:40] + "..."
                raise BadRequest(f"{shown!r} is not the id of a {self.name or self.model.__name__} row; "
                                 "nothing was changed.")

    @action("delete", lazy_gettext("Delete"),
            lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        # Flask-Admin compares the posted strings with the key column (PostgreSQL: integer = varchar).
        return super().action_delete([primary_key_value(self.model, raw) for raw in ids])

    def _create_ajax_loader(self, name, options):
        loader = super()._create_ajax_loader(name, options)
        return BoundedAjaxLoader(loader.name, loader.session, loader.model, **options)

    # --- lists: every filter applied or reported (admin/list_input.py), pages bounded; pages beyond
    # the first few go by position (admin/keyset.py) ------------------------------------------------

    def list_filters(self) -> ListFilters:
        """The filters this request's URL asks for, parsed once per request; each one that cannot be
        applied is flashed, and then the list matches nothing."""
        key = f"orderdesk.list_filters.{self.endpoint}"
        if key not in request.environ:
            parsed = parse_list_filters(self, request.args)
            request.environ[key] = parsed
            for message in parsed.errors:
                flash(f"{message} Nothing is listed until the filter is corrected.", "error")
        return request.environ[key]

    def _get_list_filter_args(self):
        return self.list_filters().applied if self._filters else None

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        # One past the bound at most: get_list says the page is beyond it and shows the last page.
        args.page = min(max(args.page or 0, 0), self.max_list_page + 1)
        return args

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        if self.list_filters().errors:  # a filter that did not apply: nothing matches, never all
            if execute:
                return (None if self.simple_list_pager else 0), []
            return None, self.get_query().filter(false())
        return super().get_list(page, sort_column, sort_desc, search, filters, execute=execute,
                                page_size=page_size)

    def handle_view_exception(self, exc) -> bool:
        """A refused save: the form's own message, or - for anything else, database errors
        included - a message with a reference; the SQL and its parameters go only to the log."""
        if isinstance(exc, ValidationError) or current_app.config.get("FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION"):
            return super().handle_view_exception(exc)
        # A constraint the form could not know (a row still in use): expected, so only a warning.
        reference = log_unexpected(exc, logging.WARNING if isinstance(exc, IntegrityError) else logging.ERROR)
        if isinstance(exc, IntegrityError):
            message = ("The database refused the change: a value is already in use, missing or out of "
                       "range.")
        elif isinstance(exc, SQLAlchemyError):
            message = "The database could not store the change."
        else:
            message = "The change could not be made."
        flash(f"{message} Nothing was saved. Reference {reference}.", "error")
        return True

    # Column -> message for a duplicate value, e.g. {"email": "A client with email {value} ..."}.
    unique_messages: dict[str, str] = {}
    # Encrypted columns that are write-only in forms and masked in lists and details pages.
    secret_fields: tuple[str, ...] = ()
    # Integer column -> (lowest, highest) its form accepts; others: what the column holds.
    number_limits: dict[str, tuple[int, int]] = {}

    # Columns holding a payment method (a gateway's system name): shown by display name.
    gateway_columns: tuple[str, ...] = ("payment_method", "gateway")

    def __init__(self, *args, **kwargs):
        # Before super().__init__, which caches the formatters. Money columns with the currency and
        # gateways by display name, unless the view formats the column itself.
        model = args[0] if args else kwargs.get("model")
        friendly = {column.key: money_column for column in model.__table__.columns
                    if isinstance(column.type, Money)}
        friendly.update({name: gateway_column for name in self.gateway_columns
                         if name in model.__table__.columns})
        own = {**dict(self.column_formatters or {}), **{name: _masked for name in self.secret_fields}}
        if self.column_formatters_export is None:  # exports keep plain numbers and system names
            self.column_formatters_export = own
        self.column_formatters = {**friendly, **own}
        super().__init__(*args, **kwargs)

    def scaffold_form(self):
        form_class = add_money_validators(super().scaffold_form(), self.model, self.number_limits)
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

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        for field in form:
            # An AJAX picker given an id that matches no row is refused with a message, also where
            # the relation may be empty (Flask-Admin would silently store NULL).
            raw = getattr(field, "_formdata", None)
            if isinstance(field, AjaxSelectField) and raw and field.data is None:
                shown = str(raw) if len(str(raw)) <= 20 else str(raw)[:20]
                field.errors = [f"Unknown {field.label.text.lower()}: no record with id {shown}."]
                valid = False
        return valid
