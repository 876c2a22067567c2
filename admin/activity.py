"""The activity log: every event of every order (the timelines) and the back office's own activity
(exports, ...), newest first, filterable by admin, verb, order and date, exportable.

Read-only. Each filter lists newest first from its own index (order_events: actor, verb, created_at,
order id, each with id), so a page costs the same at millions of events."""

from flask import url_for
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from markupsafe import Markup
from sqlalchemy import select

from actions.events import Verb
from admin.base import SecureModelView
from admin.filters import DateRangeFilter, LiveOptions
from admin.list_views import GridToolsMixin
from extensions import db
from models import ActorType, AdminUser, OrderEvent, Permission
from models.bounds import is_id


def _order_link(view, context, model, name):
    if model.order_id is None:
        return ""
    url = url_for("orders.details_view", id=model.order_id)
    return Markup('<a href="{}">{}</a>').format(url, model.order_id)


def _change(view, context, model, name):
    return f"{model.from_status} → {model.to_status}" if model.from_status or model.to_status else ""


def _details(view, context, model, name):
    details = model.details or {}
    shown = ", ".join(f"{key}: {value}" for key, value in details.items() if value not in (None, "", [], {}))
    return shown if len(shown) <= 160 else shown[:160] + "…"


class AdminFilter(BaseSQLAFilter, LiveOptions):
    """Events one admin made (by admin id; the options list every admin by name)."""

    def __init__(self):
        super().__init__(OrderEvent.actor_id, "Admin")

    def live_options(self):
        admins = db.session.scalars(select(AdminUser).order_by(AdminUser.name, AdminUser.id))
        return [(str(admin.id), f"{admin} <{admin.email}>") for admin in admins]

    def validate(self, value):
        return is_id(value)

    def apply(self, query, value, alias=None):
        return query.filter(OrderEvent.actor_type == ActorType.ADMIN, OrderEvent.actor_id == int(value))

    def operation(self):
        return "is"


class OrderIdFilter(BaseSQLAFilter):
    def __init__(self):
        super().__init__(OrderEvent.order_id, "Order ID")

    def validate(self, value):
        return is_id(value)

    def apply(self, query, value, alias=None):
        return query.filter(OrderEvent.order_id == int(value))

    def operation(self):
        return "equals"


class ActivityLogView(GridToolsMixin, SecureModelView):
    permission = Permission.VIEW_ACTIVITY_LOG
    allow_create = allow_edit = allow_delete = False
    list_template = "admin/export_list.html"

    column_list = ("id", "created_at", "actor_name", "verb", "order_id", "change", "details")
    column_labels = {"id": "ID", "created_at": "When (UTC)", "actor_name": "Who", "verb": "What",
                     "order_id": "Order", "change": "From → to"}
    column_formatters = {"order_id": _order_link, "change": _change, "details": _details,
                         "verb": lambda view, context, model, name: model.verb.replace("_", " ").capitalize()}
    column_formatters_export = {"change": _change, "details": _details}
    column_default_sort = ("id", True)
    column_sortable_list = ("id",)
    named_filter_urls = True
    column_filters = (
        AdminFilter(),
        FilterEqual(OrderEvent.verb, "Verb", options=[(verb.value, verb.value.replace("_", " ").capitalize())
                                                      for verb in Verb]),
        OrderIdFilter(),
        DateRangeFilter(OrderEvent.created_at, index_order=None),
    )
