"""Clients: list, search, summary page and edit forms."""

from iso3166 import countries_by_alpha2
from sqlalchemy import select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Email, Optional, ValidationError

from actions.client_currency import change_client_currency
from actions.errors import TransitionError
from admin.base import SecureModelView
from admin.custom_fields import CustomFieldAnswersMixin
from admin.list_views import GridToolsMixin
from extensions import db
from models import ClientStatus, Currency, Order, Permission

# ISO 3166-1 alpha-2 codes, listed by name, from a maintained source rather than our own list.
COUNTRY_CHOICES = sorted((SelectChoice(code, country.name) for code, country in countries_by_alpha2.items()),
                         key=lambda choice: choice.label)


class ClientView(CustomFieldAnswersMixin, GridToolsMixin, SecureModelView):
    list_template = "admin/export_list.html"
    permission = Permission.LIST_CLIENTS
    create_permission = Permission.ADD_NEW_CLIENT
    edit_permission = Permission.EDIT_CLIENTS
    delete_permission = Permission.DELETE_CLIENT

    column_list = ("id", "first_name", "last_name", "company_name", "email", "country", "status",
                   "created_at")
    column_labels = {"id": "ID", "gateway_customer_id": "Saved card: gateway customer id",
                     "gateway_payment_method_id": "Saved card: gateway payment method id"}
    column_descriptions = {"gateway_payment_method_id": "What Attempt Capture charges (Stripe: cus_... "
                           "and pm_...)"}
    column_default_sort = ("id", True)
    column_searchable_list = ("first_name", "last_name", "company_name", "email")
    column_filters = ("status", "country", "created_at")
    # Custom field answers change through their own form on the client page (actions/edit_custom_fields).
    # The currency changes through actions.client_currency (refused once there is an invoice).
    form_excluded_columns = ("created_at", "custom_field_values", "currency")
    # Left out of a post: the default currency for a new client, unchanged for an edited one.
    form_extra_fields = {"currency_choice": SelectField("Currency", coerce=int, validators=[Optional()])}
    form_overrides = {"status": SelectField, "country": SelectField}
    form_args = {
        "email": {"validators": [Email(message="Enter a valid email address.")]},
        "status": {"choices": [s.value for s in ClientStatus]},
        "country": {"choices": COUNTRY_CHOICES,
                    "validators": [AnyOf([choice.value for choice in COUNTRY_CHOICES],
                                         message="Choose a country (ISO 3166-1 two-letter code).")]},
    }
    unique_messages = {"email": "A client with email {value} already exists."}

    def create_form(self, obj=None):
        return self._with_currencies(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._with_currencies(super().edit_form(obj))
        if obj is not None and form.currency_choice.data is None:
            form.currency_choice.data = obj.currency_id
        return form

    def _with_currencies(self, form):
        rows = db.session.scalars(select(Currency).order_by(Currency.is_default.desc(), Currency.code))
        form.currency_choice.choices = [(c.id, str(c)) for c in rows]
        return form

    def on_model_change(self, form, model, is_created):
        model.email = model.email.strip()
        if form.currency_choice.data is None:
            return
        try:
            change_client_currency(db.session, model, form.currency_choice.data)
        except TransitionError as exc:
            raise ValidationError(exc.message) from None

    def on_model_delete(self, model):
        # Orders keep their client; refuse rather than fail on the foreign key.
        if db.session.scalar(select(Order.id).where(Order.client_id == model.id).limit(1)):
            raise ValidationError(f"{model} has orders and cannot be deleted.")
