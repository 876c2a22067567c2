"""Order items: services and domains. Their status changes only through actions/; the order they
belong to is not editable here (moving an item would bypass the order's actions); every accepted
edit is written on the order's timeline (AuditedEditMixin)."""

from flask import url_for
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from wtforms import SelectField
from wtforms.validators import AnyOf

from admin.audited_edits import AuditedEditMixin
from admin.base import SecureModelView, has_permission
from admin.custom_fields import CustomFieldAnswersMixin
from admin.list_views import GridToolsMixin
from models import BillingCycle, Domain, DomainOrderType, Permission, Service, ServiceStatus
from models.bounds import MAX_REGISTRATION_YEARS, MIN_REGISTRATION_YEARS
from modules.registry import available_registrar_modules

CLIENT_PICKER = {"fields": ("first_name", "last_name", "email", "company_name"), "page_size": 10}
CYCLE_CHOICES = [c.value for c in BillingCycle]


def registrar_choices() -> list[tuple[str, str]]:
    return [("", "— none —"), *available_registrar_modules()]


def upgrade_link(view, context, model, name):
    """The service page's way to an upgrade order (admin/upgrades.py), for an Active service."""
    if model.status != ServiceStatus.ACTIVE or not has_permission(Permission.CREATE_UPGRADE_ORDERS):
        return "—"
    return Markup('<a class="btn btn-sm btn-outline-primary" id="service-upgrade-link" href="{}">'
                  'Upgrade / Downgrade</a>').format(url_for("service_upgrade.index", id=model.id))


class ServiceView(CustomFieldAnswersMixin, AuditedEditMixin, GridToolsMixin, SecureModelView):
    list_template = "admin/export_list.html"
    permission = Permission.LIST_SERVICES
    create_permission = edit_permission = delete_permission = Permission.EDIT_SERVICES
    # Services are created and removed with their order (actions/).
    allow_create = allow_delete = False

    column_list = ("id", "order", "client", "product", "domain", "billing_cycle", "recurring_amount",
                   "next_due_date", "status")
    column_labels = {"id": "ID", "upgrade": "Upgrade / Downgrade"}
    column_default_sort = ("id", True)
    column_searchable_list = ("domain", "username")
    column_filters = ("status", "billing_cycle", "next_due_date", "product_id", "client_id", "order_id")
    # Every column but the password, the configurable options the service has, and the upgrade link.
    column_details_list = (*(c.key for c in Service.__table__.columns if c.key != "password"),
                           "config_options", "upgrade")
    column_formatters = {"config_options": lambda v, c, model, n: ", ".join(map(str, model.config_options)),
                         "upgrade": upgrade_link}
    form_columns = ("product", "server", "domain", "username", "password", "billing_cycle",
                    "first_payment_amount", "recurring_amount", "registration_date", "next_due_date")
    secret_fields = ("password",)
    form_overrides = {"billing_cycle": SelectField}
    form_args = {"billing_cycle": {"choices": CYCLE_CHOICES,
                                   "validators": [AnyOf(CYCLE_CHOICES, message="Choose a billing cycle.")]}}
    form_ajax_refs = {
        "product": {"fields": ("name", "group_name"), "page_size": 10},
        "server": {"fields": ("name", "hostname"), "page_size": 10},
    }

    def get_query(self):
        return super().get_query().options(
            selectinload(Service.order), selectinload(Service.client), selectinload(Service.product)
        )


class DomainView(AuditedEditMixin, GridToolsMixin, SecureModelView):
    list_template = "admin/export_list.html"
    permission = Permission.LIST_DOMAINS
    create_permission = edit_permission = delete_permission = Permission.EDIT_DOMAINS
    allow_create = allow_delete = False

    column_list = ("id", "order", "client", "name", "type", "period_years", "registrar",
                   "recurring_amount", "next_due_date", "status")
    column_labels = {"id": "ID", "period_years": "Years", "epp_code": "EPP code"}
    column_default_sort = ("id", True)
    column_searchable_list = ("name",)
    column_filters = ("status", "type", "registrar", "next_due_date", "client_id", "order_id")
    form_columns = ("name", "type", "period_years", "epp_code", "registrar", "dns_management",
                    "email_forwarding", "id_protection", "first_payment_amount", "recurring_amount",
                    "registration_date", "expiry_date", "next_due_date")
    secret_fields = ("epp_code",)
    number_limits = {"period_years": (MIN_REGISTRATION_YEARS, MAX_REGISTRATION_YEARS)}
    form_overrides = {"type": SelectField, "registrar": SelectField}
    form_args = {
        "type": {"choices": [t.value for t in DomainOrderType]},
        "registrar": {"choices": registrar_choices},
    }

    def get_query(self):
        return super().get_query().options(selectinload(Domain.order), selectinload(Domain.client))
