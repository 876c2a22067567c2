"""Configurable options in the catalog (Catalog > Configurable Options, Catalog > Option Choices):
option groups linked to products with their options inline, and each option's choices with their
prices per cycle inline. Viewing needs View Products/Services; changing needs Configure
Configurable Options."""

from sqlalchemy.orm import selectinload
from wtforms.validators import AnyOf, InputRequired, ValidationError

from admin.base import MoneyInlineForm, SecureModelView
from models import (
    BillingCycle,
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionGroup,
    ConfigOptionPrice,
    ConfigOptionType,
    Permission,
)
from models.bounds import MAX_OPTION_QUANTITY, MAX_SORT_ORDER

CYCLES = [c.value for c in BillingCycle]
TYPES = [t.value for t in ConfigOptionType]
QUANTITY_LIMITS = {"min_quantity": (0, MAX_OPTION_QUANTITY), "max_quantity": (0, MAX_OPTION_QUANTITY),
                   "sort_order": (0, MAX_SORT_ORDER)}


def _not_below_minimum(form, field):
    low = form.min_quantity.data
    if field.data is not None and low is not None and field.data < low:
        raise ValidationError("The maximum cannot be below the minimum.")


def _options(view, context, model, name):
    return ", ".join(f"{o.name} ({o.type})" for o in model.options)


def _products(view, context, model, name):
    return ", ".join(p.name for p in model.products)


def _prices(view, context, model, name):
    return ", ".join(str(price) for price in model.prices)


class ConfigOptionGroupView(SecureModelView):
    permission = Permission.VIEW_PRODUCTS
    create_permission = edit_permission = delete_permission = Permission.CONFIGURE_OPTIONS

    column_list = ("id", "name", "products", "options")
    column_labels = {"id": "ID"}
    column_formatters = {"options": _options, "products": _products}
    column_default_sort = ("name", False)
    column_searchable_list = ("name",)
    form_columns = ("name", "description", "products")
    form_args = {"name": {"validators": [InputRequired("Enter the group's name.")]},
                 "products": {"label": "Assigned products"}}
    form_ajax_refs = {"products": {"fields": ("name", "group_name"), "page_size": 10}}
    inline_models = (MoneyInlineForm(
        ConfigOption,
        number_limits=QUANTITY_LIMITS,
        form_columns=("id", "name", "type", "min_quantity", "max_quantity", "sort_order"),
        form_args={
            "name": {"validators": [InputRequired("Enter the option's name.")]},
            "type": {"validators": [AnyOf(TYPES, message="Option type must be one of: %(values)s.")],
                     "description": "One of: " + ", ".join(TYPES)},
            "min_quantity": {"description": "Quantity options only."},
            "max_quantity": {"description": "Quantity options only.", "validators": [_not_below_minimum]},
        },
    ),)

    def get_query(self):
        return super().get_query().options(selectinload(ConfigOptionGroup.options),
                                           selectinload(ConfigOptionGroup.products))


class ConfigOptionChoiceView(SecureModelView):
    """A choice (sub-option) and its price on each cycle; a yes/no or quantity option has one."""

    permission = Permission.VIEW_PRODUCTS
    create_permission = edit_permission = delete_permission = Permission.CONFIGURE_OPTIONS

    column_list = ("id", "option", "name", "sort_order", "prices")
    column_labels = {"id": "ID"}
    column_formatters = {"prices": _prices}
    column_default_sort = ("option_id", False)
    column_searchable_list = ("name",)
    column_filters = ("option_id",)
    form_columns = ("option", "name", "sort_order")
    form_args = {"option": {"validators": [InputRequired("Choose the option this choice belongs to.")]},
                 "name": {"validators": [InputRequired("Enter the choice's name.")]}}
    form_ajax_refs = {"option": {"fields": ("name",), "page_size": 10}}
    number_limits = {"sort_order": (0, MAX_SORT_ORDER)}
    inline_models = (MoneyInlineForm(
        ConfigOptionPrice,
        form_columns=("id", "cycle", "price", "setup_fee"),
        form_args={"cycle": {"validators": [
            AnyOf(CYCLES, message="Billing cycle must be one of: %(values)s.")]}},
    ),)

    def get_query(self):
        return super().get_query().options(selectinload(ConfigOptionChoice.prices),
                                           selectinload(ConfigOptionChoice.option))
