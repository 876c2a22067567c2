"""Catalog: products with their cycle prices, promotions, TLDs with their yearly prices."""

from sqlalchemy.orm import selectinload
from wtforms import SelectField
from wtforms.validators import AnyOf, ValidationError

from admin.base import MoneyInlineForm, SecureModelView
from admin.items import registrar_choices
from admin.presentation import promotion_value_column
from models import (
    AutoSetup,
    BillingCycle,
    Permission,
    Product,
    ProductPrice,
    ProductType,
    PromotionAmount,
    PromotionType,
    Tld,
    TldPrice,
)
from models.bounds import (
    MAX_PERCENTAGE,
    MAX_PROMOTION_USES,
    MAX_REGISTRATION_YEARS,
    MAX_STOCK,
    MIN_REGISTRATION_YEARS,
)
from modules.registry import available_server_modules

REGISTRATION_YEARS = (MIN_REGISTRATION_YEARS, MAX_REGISTRATION_YEARS)

CYCLES = [c.value for c in BillingCycle]


def _choices(vocabulary) -> list[str]:
    return [item.value for item in vocabulary]


def _prices(view, context, model, name):
    return ", ".join(str(price) for price in model.prices)


class ProductView(SecureModelView):
    permission = Permission.VIEW_PRODUCTS
    create_permission = edit_permission = delete_permission = Permission.EDIT_PRODUCTS

    column_list = ("id", "group_name", "name", "type", "module", "auto_setup", "prices", "hidden",
                   "retired")
    column_labels = {"id": "ID", "group_name": "Group"}
    column_formatters = {"prices": _prices}
    column_default_sort = ("group_name", False)
    column_searchable_list = ("name", "group_name")
    column_filters = ("group_name", "type", "module", "auto_setup", "hidden", "retired")
    form_excluded_columns = ("created_at",)
    # Choices from the vocabularies and the module registry: no free-text module names.
    form_overrides = {"type": SelectField, "auto_setup": SelectField, "module": SelectField}
    form_args = {"type": {"choices": _choices(ProductType)}, "auto_setup": {"choices": _choices(AutoSetup)},
                 "module": {"label": "Server module", "choices": available_server_modules}}
    form_ajax_refs = {"default_server": {"fields": ("name", "hostname"), "page_size": 10}}
    number_limits = {"stock_quantity": (0, MAX_STOCK)}
    inline_models = (MoneyInlineForm(
        ProductPrice,
        form_columns=("id", "currency", "cycle", "price", "setup_fee"),
        form_args={"cycle": {"validators": [
            AnyOf(CYCLES, message="Billing cycle must be one of: %(values)s.")]}},
    ),)

    def get_query(self):
        return super().get_query().options(selectinload(Product.prices))


def _percentage_at_most_100(form, field):
    if form.type.data == PromotionType.PERCENTAGE and field.data is not None and field.data.is_finite() \
            and field.data > MAX_PERCENTAGE:
        raise ValidationError("A percentage is at most 100.")


class PromotionView(SecureModelView):
    permission = Permission.VIEW_PROMOTIONS
    create_permission = edit_permission = Permission.EDIT_PROMOTIONS
    delete_permission = Permission.DELETE_PROMOTIONS

    column_list = ("id", "code", "type", "value", "recurring", "start_date", "expiration_date", "uses",
                   "max_uses")
    column_labels = {"id": "ID"}
    column_formatters = {"value": promotion_value_column}
    column_default_sort = ("id", True)
    column_searchable_list = ("code",)
    column_filters = ("type", "recurring", "start_date", "expiration_date")
    form_excluded_columns = ("uses",)
    form_overrides = {"type": SelectField}
    form_args = {"type": {"choices": _choices(PromotionType)},
                 "value": {"validators": [lambda form, field: _percentage_at_most_100(form, field)]}}
    unique_messages = {"code": "A promotion with code {value} already exists."}
    number_limits = {"max_uses": (0, MAX_PROMOTION_USES), "recur_for": (0, 1000)}
    # Fixed Amount and Price Override: `value` is in the default currency, these in the others.
    inline_models = (MoneyInlineForm(PromotionAmount, form_columns=("id", "currency", "value"),
                                     form_label="Amount in another currency"),)


class TldView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_DOMAIN_PRICING)

    column_list = ("extension", "auto_registrar", "prices", "epp_required")
    column_labels = {"auto_registrar": "Auto registration"}
    column_formatters = {"prices": lambda view, context, model, name: ", ".join(
        f"{p.years}y: {p.register_price}/{p.transfer_price}/{p.renew_price}" for p in model.prices)}
    column_default_sort = ("extension", False)
    column_searchable_list = ("extension",)
    column_filters = ("auto_registrar", "epp_required")
    form_overrides = {"auto_registrar": SelectField}
    form_args = {"auto_registrar": {"label": "Auto registration", "choices": registrar_choices}}
    unique_messages = {"extension": "The TLD {value} already exists."}
    inline_models = (MoneyInlineForm(
        TldPrice,
        form_columns=("id", "currency", "years", "register_price", "transfer_price", "renew_price"),
        number_limits={"years": REGISTRATION_YEARS},
    ),)

    def get_query(self):
        return super().get_query().options(selectinload(Tld.prices))
