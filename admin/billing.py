"""Invoices, with their lines and payments/refunds on the details page.

The generic form edits only dates, the payment method and notes: the client defines the invoice,
and its money is derived from its lines (issued, paid, cancelled and refunded by actions/). Every
accepted edit is written on the order's timeline (AuditedEditMixin)."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField

from admin.audited_edits import AuditedEditMixin
from admin.base import SecureModelView
from admin.invoice_page import InvoicePageMixin
from admin.list_views import GridToolsMixin
from extensions import db
from models import Gateway, Invoice, Permission


def gateway_choices() -> list[tuple[str, str]]:
    gateways = db.session.scalars(select(Gateway).order_by(Gateway.sort_order, Gateway.id))
    return [(gateway.name, gateway.display_name) for gateway in gateways]


class InvoiceView(InvoicePageMixin, AuditedEditMixin, GridToolsMixin, SecureModelView):
    list_template = "admin/export_list.html"
    permission = Permission.LIST_INVOICES
    create_permission = edit_permission = Permission.MANAGE_INVOICE
    delete_permission = Permission.DELETE_INVOICE
    # Invoices are issued, paid, cancelled and refunded by actions/; orders point at them.
    allow_create = allow_delete = False

    column_list = ("id", "client", "date", "due_date", "date_paid", "total", "payment_method", "status")
    column_labels = {"id": "ID"}
    column_default_sort = ("id", True)
    column_searchable_list = ("payment_method",)
    column_filters = ("status", "date", "due_date", "payment_method", "client_id")
    form_columns = ("date", "due_date", "payment_method", "notes")
    # Choices read per request: gateways are configured while the app runs.
    form_overrides = {"payment_method": SelectField}
    form_args = {"payment_method": {"choices": gateway_choices}}

    def get_query(self):
        return super().get_query().options(selectinload(Invoice.client))
