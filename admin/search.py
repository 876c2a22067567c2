"""Intelligent search results: the navbar box's term, grouped by kind; each group is shown only
to admins who may list that kind (the lookups themselves are in actions/search.py)."""

from flask import request
from flask_admin import expose

from actions.search import search
from admin.base import SecureBaseView, has_permission
from extensions import db
from models import Permission

GROUP_PERMISSIONS = {
    "clients": Permission.LIST_CLIENTS,
    "orders": Permission.VIEW_ORDERS,
    "invoices": Permission.LIST_INVOICES,
    "services": Permission.LIST_SERVICES,
    "domains": Permission.LIST_DOMAINS,
}


class SearchView(SecureBaseView):
    permission = None  # any logged-in admin; each group checks its own permission

    def is_visible(self) -> bool:
        return False  # reached from the navbar box

    @expose("/")
    def index(self):
        kinds = [kind for kind, permission in GROUP_PERMISSIONS.items() if has_permission(permission)]
        results = search(db.session, request.args.get("q", ""), kinds=kinds)
        return self.render("admin/search_results.html", results=results, kinds=kinds)
