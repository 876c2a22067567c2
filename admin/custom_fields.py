"""Custom fields: Setup > Product Custom Fields and Setup > Client Custom Fields (the catalog), the
answers on the order, service, client and invoice pages, and the client answers' edit endpoint.

A pattern is checked when the field is saved (actions.custom_fields.pattern_problem); answers are
changed only through actions.edit_custom_fields (an event each, passwords as "(changed)")."""

from flask import abort, flash, redirect, render_template, request
from flask_admin import expose
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import and_, select
from sqlalchemy.orm import contains_eager
from wtforms import SelectField
from wtforms.validators import ValidationError

from actions.actor import Actor
from actions.custom_fields import client_fields, field_definition_problems, shown_answers, shown_text
from actions.edit_custom_fields import answers_fingerprint, edit_client_custom_fields
from admin.base import SecureBaseView, SecureModelView, has_permission
from admin.redirects import redirect_target
from extensions import db
from models import (
    Client,
    CustomField,
    CustomFieldOwner,
    CustomFieldType,
    CustomFieldValue,
    InvoiceItemType,
    Order,
    Permission,
    Product,
    Service,
)
from models.bounds import MAX_SORT_ORDER, InvalidInput, parse_id
from models.custom_fields import MAX_FIELDS_PER_OWNER

_FORM = ("name", "field_type", "description", "options", "validation", "required", "admin_only",
         "show_on_order_form", "show_on_invoice", "sort_order")
_ARGS = {
    "field_type": {"label": "Field type", "choices": [t.value for t in CustomFieldType]},
    "options": {"description": "Dropdown only: the choices, separated by commas."},
    "validation": {"label": "Validation (regular expression)",
                   "description": "Python regular expression the whole answer must match; empty: none."},
    "admin_only": {"description": "Only admins see and fill it; never required when an order is placed."},
    "sort_order": {"description": f"Lower first (0 .. {MAX_SORT_ORDER})."},
}


class _CustomFieldViewBase(SecureModelView):
    # Setup screens: opening them needs the permission too (roles without it see no Setup menu).
    permission = create_permission = edit_permission = delete_permission = Permission.CONFIGURE_CUSTOM_FIELDS
    applies_to: str = ""

    column_labels = {"id": "ID", "field_type": "Type", "show_on_order_form": "On order form",
                     "show_on_invoice": "On invoice"}
    column_default_sort = ("sort_order", False)
    column_searchable_list = ("name",)
    form_overrides = {"field_type": SelectField}
    form_args = _ARGS

    def get_query(self):
        return super().get_query().filter(CustomField.applies_to == self.applies_to)

    def get_count_query(self):
        return super().get_count_query().filter(CustomField.applies_to == self.applies_to)

    def on_model_change(self, form, model, is_created):
        model.applies_to = self.applies_to
        if not 0 <= (model.sort_order or 0) <= MAX_SORT_ORDER:
            raise ValidationError(f"Sort order: 0 .. {MAX_SORT_ORDER}.")
        problems = field_definition_problems(model)
        if problems:
            raise ValidationError(" ".join(problems.values()))


class ProductCustomFieldView(_CustomFieldViewBase):
    applies_to = CustomFieldOwner.PRODUCT
    column_list = ("id", "product", "name", "field_type", "required", "admin_only", "show_on_order_form",
                   "show_on_invoice", "sort_order")
    column_filters = ("product_id", "field_type", "admin_only")
    form_columns = ("product", *_FORM)
    form_ajax_refs = {"product": {"fields": ("name", "group_name"), "page_size": 10}}


class ClientCustomFieldView(_CustomFieldViewBase):
    applies_to = CustomFieldOwner.CLIENT
    column_list = ("id", "name", "field_type", "required", "admin_only", "show_on_order_form",
                   "show_on_invoice", "sort_order")
    column_filters = ("field_type", "admin_only")
    form_columns = _FORM


# --- the pages ------------------------------------------------------------------------------------


def _answers(rows: list[CustomFieldValue], fields: list[CustomField]) -> dict:
    """What a page needs of an owner's answers: the fields (for the edit form), the answers as shown
    (a password as dots), the clear values of the others, and which passwords are set."""
    return {"fields": fields, "shown": shown_answers(rows),
            "values": {v.field_id: v.value for v in rows if not v.field.is_secret},
            "has_secret": {v.field_id for v in rows if v.field.is_secret and v.secret}}


def order_page_fields(session, order: Order) -> dict[int, dict]:
    """Per service of the order, its answers (see _answers): the services' product fields and
    their answers in one query, however many items the order has."""
    services = order.services
    if not services:
        return {}
    fields: dict[int, list[CustomField]] = {}
    answers: dict[int, list[CustomFieldValue]] = {}
    for field, row in session.execute(
        select(CustomField, CustomFieldValue)
        .outerjoin(CustomFieldValue, and_(CustomFieldValue.field_id == CustomField.id,
                                          CustomFieldValue.service_id.in_([s.id for s in services])))
        .where(CustomField.product_id.in_({s.product_id for s in services}))
        .order_by(CustomField.product_id, CustomField.sort_order, CustomField.id)
    ):
        own = fields.setdefault(field.product_id, [])
        if field not in own:
            own.append(field)
        if row is not None:
            answers.setdefault(row.service_id, []).append(row)
    return {s.id: _answers(answers.get(s.id, []), fields.get(s.product_id, [])) for s in services}


def client_page_fields(session, client: Client) -> dict:
    return _answers(client.custom_field_values, client_fields(session)) | {
        "fingerprint": answers_fingerprint(client), "can_edit": has_permission(Permission.EDIT_CLIENTS)}


def row_answers(form, prefix: str = "") -> dict[int, str]:
    """`<prefix>customfield-<id>` inputs -> {id: text} (at most MAX_FIELDS_PER_OWNER; a bad id is
    refused). A tick box posts its hidden "" after "on": the first value is the answer."""
    answers = {}
    start = prefix + "customfield-"
    for key in form:
        if key.startswith(start):
            if len(answers) >= MAX_FIELDS_PER_OWNER:
                raise InvalidInput(f"At most {MAX_FIELDS_PER_OWNER} custom fields.")
            answers[parse_id(key.removeprefix(start), what="Custom field")] = form.get(key, "")
    return answers


def order_form_fields(session) -> list[CustomField]:
    """Every product field of the products on sale, for Add New Order's rows (shown per product)."""
    return list(session.scalars(
        select(CustomField).join(CustomField.product).where(Product.retired.is_(False))
        .order_by(CustomField.product_id, CustomField.sort_order, CustomField.id)))


class ClientCustomFieldsView(SecureBaseView):
    """POST /admin/client-custom-fields/<client id>/: an admin changes a client's answers."""

    permission = Permission.EDIT_CLIENTS

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        abort(404)  # answers are shown on the client's page

    @expose("/<int:client_id>/", methods=("POST",))
    def edit(self, client_id):
        client = db.session.get(Client, client_id)
        if client is None:
            abort(404)
        back = redirect_target() or f"/admin/clients/details/?id={client.id}"
        try:
            changes = edit_client_custom_fields(
                db.session, client, row_answers(request.form), Actor.admin(current_user),
                expected_answers=request.form.get("expected_answers", ""))
            db.session.commit()
        except InvalidInput as exc:
            db.session.rollback()
            flash(f"Client custom fields not saved: {exc.message}", "error")
        else:
            flash("Client custom fields saved." if changes else "Nothing changed.", "success")
        return redirect(back)


def invoice_custom_fields(session, invoice) -> list[tuple[str, str, str]]:
    """(item label, field name, answer) of the "show on invoice" answers of the invoice's services
    (one query)."""
    ids = sorted({line.related_id for line in invoice.items
                  if line.related_id and line.type == InvoiceItemType.HOSTING})
    if not ids:
        return []
    rows = session.execute(
        select(CustomFieldValue, Product.name, Service.domain)
        .join(CustomFieldValue.field).join(Service, Service.id == CustomFieldValue.service_id)
        .join(Product, Product.id == Service.product_id)
        .where(CustomFieldValue.service_id.in_(ids), CustomField.show_on_invoice)
        .options(contains_eager(CustomFieldValue.field))
        .order_by(Service.id, CustomField.sort_order, CustomField.id))
    return [(name + (f" - {domain}" if domain else ""), row.field.name, shown_text(row))
            for row, name, domain in rows if row.value or row.secret]


class CustomFieldAnswersMixin:
    """A service's or a client's details page lists its answers (a password as dots); a client's
    has their edit form too (a service's answers are edited on its order's page)."""

    def get_details_columns(self):
        return [*super().get_details_columns(), ("custom_field_answers", "Custom fields")]

    @pass_context
    def get_detail_value(self, context, model, name):
        if name != "custom_field_answers":
            return super().get_detail_value(context, model, name)
        if isinstance(model, Client):
            return Markup(render_template("admin/client_custom_fields.html", client=model,
                                          data=client_page_fields(db.session, model)))
        return Markup(render_template("admin/client_custom_fields.html", client=None,
                                      data=_answers(model.custom_field_values, [])))
