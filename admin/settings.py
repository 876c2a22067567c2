"""Setup screens (servers, gateways, settings, email templates) and the read-only email log."""

import json

from wtforms import SelectField
from wtforms.validators import ValidationError

from admin.base import SecureModelView
from models import Permission
from models.bounds import MAX_SORT_ORDER
from modules.registry import available_gateway_modules, available_server_modules


class ServerView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = Permission.CONFIGURE_SERVERS

    column_list = ("id", "name", "hostname", "module", "url", "secret", "active")
    column_labels = {"id": "ID", "url": "Webhook URL", "secret": "Webhook secret"}
    column_searchable_list = ("name", "hostname")
    column_filters = ("module", "active")
    secret_fields = ("secret",)
    form_overrides = {"module": SelectField}
    form_args = {"module": {"choices": available_server_modules}}
    unique_messages = {"name": "A server named {value} already exists."}


class GatewayView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_PAYMENT_GATEWAYS)

    column_list = ("id", "display_name", "name", "module", "settings", "active", "sort_order")
    column_labels = {"id": "ID", "name": "System name", "settings": "Settings (JSON)"}
    column_default_sort = ("sort_order", False)
    column_searchable_list = ("name", "display_name")
    column_filters = ("module", "active")
    secret_fields = ("settings",)
    form_overrides = {"module": SelectField}
    form_args = {"module": {"choices": available_gateway_modules}}
    unique_messages = {"name": "A gateway named {value} already exists."}
    number_limits = {"sort_order": (0, MAX_SORT_ORDER)}

    def on_model_change(self, form, model, is_created):
        if form.settings.data:
            try:
                json.loads(form.settings.data)
            except ValueError:
                raise ValidationError(
                    'Gateway settings must be JSON, e.g. {"api_key": "..."}.') from None


class SettingView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = (
        Permission.CONFIGURE_GENERAL_SETTINGS)

    column_list = ("key", "value")
    column_display_pk = True
    column_default_sort = ("key", False)
    column_searchable_list = ("key",)
    form_columns = ("key", "value")
    unique_messages = {"key": "A setting {value} already exists."}


class EmailTemplateView(SecureModelView):
    permission = create_permission = edit_permission = delete_permission = Permission.MANAGE_EMAIL_TEMPLATES

    column_list = ("id", "name", "type", "subject", "disabled")
    column_labels = {"id": "ID"}
    column_searchable_list = ("name", "subject")
    column_filters = ("type", "disabled")
    unique_messages = {"name": "An email template named {value} already exists."}


class EmailLogView(SecureModelView):
    permission = Permission.VIEW_EMAIL_LOG
    allow_create = allow_edit = allow_delete = False

    column_list = ("id", "created_at", "to", "subject", "template", "status", "client_id", "order_id",
                   "sent_at")
    column_labels = {"id": "ID", "created_at": "Date", "client_id": "Client", "order_id": "Order"}
    column_default_sort = ("id", True)
    column_filters = ("status", "template", "client_id", "order_id", "created_at")
    column_searchable_list = ("to",)
