"""Configurable options in the catalog (Catalog > Configurable Options, Catalog > Option Choices):
option groups linked to products with their options inline, and each option's choices with their
prices per cycle inline. Viewing needs View Products/Services; changing needs Configure
Configurable Options."""

from sqlalchemy import select
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
    Product,
    Service,
    ServiceConfigOption,
)
from models.bounds import MAX_OPTION_QUANTITY, MAX_SORT_ORDER
from models.config_options import COUNTED_TYPES

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
        form_columns=("id", "currency", "cycle", "price", "setup_fee"),
        form_args={"cycle": {"validators": [
            AnyOf(CYCLES, message="Billing cycle must be one of: %(values)s.")]}},
    ),)

    def get_query(self):
        return super().get_query().options(selectinload(ConfigOptionChoice.prices),
                                           selectinload(ConfigOptionChoice.option))


# --- the options of a service or a cart line in admin forms (order page, Add New Order) -------------


def service_option_loads(services):
    """Loader options for a query's `services` (a selectinload path): each service's values and its
    product's options with their choices, so the order page shows them in a fixed number of queries."""
    values = services.selectinload(Service.config_options)
    groups = services.selectinload(Service.product).selectinload(Product.config_option_groups)
    return (values.selectinload(ServiceConfigOption.option), values.selectinload(ServiceConfigOption.choice),
            groups.selectinload(ConfigOptionGroup.options).selectinload(ConfigOption.choices))


OPTION_FIELD = "option-"  # option-<option id>: a choice id, 0/1 or a count


def posted_option_values(form, start: str = OPTION_FIELD) -> dict:
    """{option id: value} from the `start`<id> fields; a tick box posts a hidden 0 before its 1,
    so the last value wins."""
    return {name[len(start):]: form.getlist(name)[-1] for name in form if name.startswith(start)}


def product_options(product) -> list[ConfigOption]:
    """The options a product offers, in group order (each with its choices)."""
    return [o for group in product.config_option_groups for o in group.options if o.choices]


def service_option_controls(service) -> list[dict]:
    """Per option of the service's product: the option and the service's value (choice id or count)."""
    rows = {row.option_id: row for row in service.config_options}
    controls = []
    for option in product_options(service.product):
        row = rows.get(option.id)
        value = (row.quantity if option.type in COUNTED_TYPES else row.choice_id) if row else None
        controls.append({"option": option, "value": value, "shown": row.shown if row else "—"})
    return controls


def catalog_options(session) -> list[dict]:
    """Every option with choices, as Add New Order's controls need it (with the products it is for)."""
    groups = session.scalars(select(ConfigOptionGroup).order_by(ConfigOptionGroup.id).options(
        selectinload(ConfigOptionGroup.products),
        selectinload(ConfigOptionGroup.options).selectinload(ConfigOption.choices)
        .selectinload(ConfigOptionChoice.prices)))
    return [{"id": str(o.id), "name": o.name, "type": o.type, "min": o.min_quantity, "max": o.max_quantity,
             "products": [str(p.id) for p in group.products],
             "choices": [{"id": str(c.id), "name": c.name, "prices": ", ".join(str(p) for p in c.prices)}
                         for c in o.choices]}
            for group in groups for o in group.options if o.choices]
