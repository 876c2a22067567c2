"""Product addons: the catalog (Catalog > Product Addons) and the Addons grid of ordered addons
(Orders > Addons). An ordered addon's status changes only through its order's actions; its other
columns are editable like a service's, each edit written on the order's timeline."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField
from wtforms.validators import AnyOf

from admin.audited_edits import AuditedEditMixin
from admin.base import MoneyInlineForm, SecureModelView
from admin.list_views import GridToolsMixin
from models import Addon, AddonPrice, AutoSetup, BillingCycle, Permission, ServiceAddon
from modules.registry import available_server_modules

CYCLES = [c.value for c in BillingCycle]


def addon_choices(session) -> list[dict]:
    """Every addon that can be ordered, for Add New Order's tick boxes (shown per product)."""
    addons = session.scalars(
        select(Addon).where(Addon.retired.is_(False)).order_by(Addon.name)
        .options(selectinload(Addon.prices), selectinload(Addon.products))
    )
    return [{"id": str(a.id), "name": a.name, "admin_only": not a.show_on_order_form,
             "prices": ", ".join(str(p) for p in a.prices), "products": [str(p.id) for p in a.products]}
            for a in addons]


def addon_module_choices() -> list[tuple[str, str]]:
    return [("", "— none (no automation) —"), *available_server_modules()]


def _prices(view, context, model, name):
    return ", ".join(str(price) for price in model.prices)


def _products(view, context, model, name):
    return ", ".join(p.name for p in model.products)


class AddonView(SecureModelView):
    permission = Permission.VIEW_PRODUCTS
    create_permission = edit_permission = delete_permission = Permission.EDIT_PRODUCTS

    column_list = ("id", "name", "products", "prices", "module", "auto_setup", "show_on_order_form",
                   "retired")
    column_labels = {"id": "ID", "show_on_order_form": "On order form", "module": "Server module"}
    column_formatters = {"prices": _prices, "products": _products}
    column_default_sort = ("name", False)
    column_searchable_list = ("name",)
    column_filters = ("module", "auto_setup", "show_on_order_form", "retired")
    form_columns = ("name", "description", "products", "module", "auto_setup", "welcome_email",
                    "show_on_order_form", "retired")
    form_overrides = {"auto_setup": SelectField, "module": SelectField}
    form_args = {
        "auto_setup": {"choices": [a.value for a in AutoSetup]},
        "module": {"label": "Server module", "choices": addon_module_choices},
        "products": {"label": "Applies to products"},
        "welcome_email": {"description": "Email template sent when the addon becomes active; empty: none."},
        "show_on_order_form": {"description": "Unticked: admin-only (not offered to storefronts)."},
    }
    form_ajax_refs = {"products": {"fields": ("name", "group_name"), "page_size": 10}}
    inline_models = (MoneyInlineForm(
        AddonPrice,
        form_columns=("id", "currency", "cycle", "price", "setup_fee"),
        form_args={"cycle": {"validators": [
            AnyOf(CYCLES, message="Billing cycle must be one of: %(values)s.")]}},
    ),)

    def get_query(self):
        return super().get_query().options(selectinload(Addon.prices), selectinload(Addon.products))


class ServiceAddonView(AuditedEditMixin, GridToolsMixin, SecureModelView):
    list_template = "admin/export_list.html"
    permission = Permission.LIST_SERVICES
    create_permission = edit_permission = delete_permission = Permission.EDIT_SERVICES
    # Ordered addons come and go with their order (actions/).
    allow_create = allow_delete = False

    column_list = ("id", "order", "client", "service", "addon", "billing_cycle", "recurring_amount",
                   "next_due_date", "status")
    column_labels = {"id": "ID"}
    column_default_sort = ("id", True)
    # Each filter has its index (models/addons.py): status and addon with id, the others by column.
    column_filters = ("status", "addon_id", "next_due_date", "client_id", "order_id", "service_id")
    form_columns = ("billing_cycle", "first_payment_amount", "recurring_amount", "registration_date",
                    "next_due_date")
    form_overrides = {"billing_cycle": SelectField}
    form_args = {"billing_cycle": {"choices": CYCLES,
                                   "validators": [AnyOf(CYCLES, message="Choose a billing cycle.")]}}

    def get_query(self):
        return super().get_query().options(
            selectinload(ServiceAddon.order), selectinload(ServiceAddon.client),
            selectinload(ServiceAddon.service), selectinload(ServiceAddon.addon),
        )
