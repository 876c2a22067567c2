"""Intelligent search results: the navbar box's term, grouped by kind; each group is shown only
to admins who may list that kind (the lookups themselves are in actions/search.py)."""

from flask import jsonify, request, url_for
from flask_admin import expose

from actions.search import search
from admin.base import SecureBaseView, has_permission
from admin.presentation import format_money
from extensions import db
from models import Permission

# The navbar's suggestions: at most this many per kind, for a term of at least MIN_TERM characters
# (cut to MAX_TERM); five kinds, so never more than 25 rows in one answer.
SUGGEST_PER_KIND, MIN_TERM, MAX_TERM = 5, 2, 100


def _suggestions(results) -> list[dict]:
    rows = []
    for c in results.clients:
        rows.append(("Client", f"{c.full_name} <{c.email}>",
                     url_for("client_summary.summary", client_id=c.id)))
    for o in results.orders:
        rows.append(("Order", f"Order #{o.order_number} · {o.client.full_name} · "
                     f"{format_money(o.amount, o.currency_id)} · {o.status}",
                     url_for("orders.details_view", id=o.id)))
    for i in results.invoices:
        rows.append(("Invoice", f"Invoice #{i.id} · {i.client.full_name} · "
                     f"{format_money(i.total, i.currency_id)} · {i.status}",
                     url_for("invoices.details_view", id=i.id)))
    for s in results.services:
        rows.append(("Service", f"{s.product.name} {s.domain or s.username} · {s.client.full_name}",
                     url_for("services.details_view", id=s.id)))
    for d in results.domains:
        rows.append(("Domain", f"{d.name} · {d.client.full_name}", url_for("domains.details_view", id=d.id)))
    return [{"kind": kind, "label": label, "url": url} for kind, label, url in rows]

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

    @staticmethod
    def _kinds() -> list[str]:
        return [kind for kind, permission in GROUP_PERMISSIONS.items() if has_permission(permission)]

    @expose("/")
    def index(self):
        kinds = self._kinds()
        results = search(db.session, request.args.get("q", ""), kinds=kinds)
        return self.render("admin/search_results.html", results=results, kinds=kinds)

    @expose("/suggest/")
    def suggest(self):
        """JSON for the navbar box as the admin types: {"term", "suggestions": [{kind, label, url}]}."""
        term = " ".join(request.args.get("q", "").split())[:MAX_TERM]
        if len(term) < MIN_TERM:
            return jsonify(term=term, suggestions=[])
        results = search(db.session, term, kinds=self._kinds(), limit=SUGGEST_PER_KIND)
        return jsonify(term=term, suggestions=_suggestions(results),
                       more_url=url_for(".index", q=term))
