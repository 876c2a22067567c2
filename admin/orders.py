"""Orders list and details."""

from markupsafe import Markup, escape
from sqlalchemy.orm import selectinload

from admin.base import SecureModelView
from admin.order_page import OrderPageMixin
from models import Order, Permission


def _status_badge(view, context, model, name):
    definition = model.status_definition
    color = definition.color if definition else "#888888"
    return Markup('<span class="badge" style="background:{};color:#fff">{}</span>').format(
        color, escape(model.status)
    )


class OrderView(OrderPageMixin, SecureModelView):
    permission = Permission.VIEW_ORDERS
    create_permission = Permission.ADD_NEW_ORDER
    edit_permission = Permission.EDIT_ORDER
    delete_permission = Permission.DELETE_ORDER

    column_list = ("id", "order_number", "date", "client", "payment_method", "amount",
                   "payment_status", "status")
    column_labels = {"id": "ID", "order_number": "Order #", "amount": "Total"}
    column_formatters = {"status": _status_badge}
    column_default_sort = ("id", True)
    # Orders are placed, changed and deleted only through actions/; the generic form edits notes.
    allow_create = False
    allow_delete = False
    form_columns = ("payment_method", "notes", "admin_notes")
    form_ajax_refs = {
        "client": {"fields": ("first_name", "last_name", "email", "company_name"), "page_size": 10},
    }

    def get_query(self):
        return super().get_query().options(
            selectinload(Order.client), selectinload(Order.invoice), selectinload(Order.status_definition)
        )
