"""Invoices, with their lines and payments/refunds on the details page."""

from sqlalchemy.orm import selectinload

from admin.base import SecureModelView
from admin.items import CLIENT_PICKER
from models import Invoice, Permission


class InvoiceView(SecureModelView):
    permission = Permission.LIST_INVOICES
    create_permission = edit_permission = Permission.MANAGE_INVOICE
    delete_permission = Permission.DELETE_INVOICE
    # Invoices are issued, paid, cancelled and refunded by actions/; orders point at them.
    allow_create = allow_delete = False

    details_template = "admin/invoice_details.html"
    column_list = ("id", "client", "date", "due_date", "date_paid", "total", "payment_method", "status")
    column_labels = {"id": "ID"}
    column_default_sort = ("id", True)
    column_searchable_list = ("payment_method",)
    column_filters = ("status", "date", "due_date", "payment_method", "client_id")
    form_columns = ("client", "date", "due_date", "subtotal", "credit", "tax", "total", "payment_method",
                    "notes")
    form_ajax_refs = {"client": CLIENT_PICKER}

    def get_query(self):
        return super().get_query().options(selectinload(Invoice.client))
