"""Order statuses: core ones keep their titles; custom ones come and go (actions/order_statuses)."""

from markupsafe import Markup

from actions.order_statuses import OrderStatusError, check_order_status, delete_order_status
from admin.guarded_views import ActionCheckedView
from models import Permission
from models.bounds import MAX_SORT_ORDER


def _swatch(view, context, model, name):
    return Markup('<span class="badge" style="background:{0};color:#fff">{0}</span>').format(model.color)


class OrderStatusView(ActionCheckedView):
    check, delete = staticmethod(check_order_status), staticmethod(delete_order_status)
    refusal = OrderStatusError
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_ORDER_STATUSES)

    column_list = ("title", "color", "include_in_pending", "include_in_active", "include_in_cancelled",
                   "sort_order", "is_core")
    column_labels = {"color": "Colour", "is_core": "Core"}
    column_formatters = {"color": _swatch}
    column_default_sort = ("sort_order", False)
    form_columns = ("title", "color", "include_in_pending", "include_in_active", "include_in_cancelled",
                    "sort_order")
    form_args = {"color": {"label": "Colour", "description": "Six-digit hex colour, e.g. #cc0000."}}
    unique_messages = {"title": "An order status named {value} already exists"}
    number_limits = {"sort_order": (0, MAX_SORT_ORDER)}
