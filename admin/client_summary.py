"""The client summary page: details, services, domains, orders, invoices, emails, notes, and the
"Add New Order" link that preselects the client."""

from flask import abort
from flask_admin import expose
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin.base import SecureBaseView, has_permission
from extensions import db
from models import Client, Domain, EmailLog, Invoice, Order, Permission, Service

LATEST = 25  # each list shows the newest rows; the full lists are filtered views elsewhere


class ClientSummaryView(SecureBaseView):
    permission = Permission.LIST_CLIENTS

    def is_visible(self) -> bool:
        return False  # reached from a client, never from the menu

    @expose("/")
    def index(self):
        abort(404)

    @expose("/<int:client_id>/")
    def summary(self, client_id: int):
        client = db.session.get(Client, client_id) or abort(404)

        def latest(model, *options):
            query = select(model).where(model.client_id == client_id).order_by(model.id.desc()).limit(LATEST)
            return db.session.scalars(query.options(*options)).all()

        return self.render(
            "admin/client_summary.html",
            client=client,
            services=latest(Service, selectinload(Service.product)),
            domains=latest(Domain),
            orders=latest(Order, selectinload(Order.invoice), selectinload(Order.status_definition)),
            invoices=latest(Invoice),
            emails=latest(EmailLog),
            can_add_order=has_permission(Permission.ADD_NEW_ORDER),
            can_view_orders=has_permission(Permission.VIEW_ORDER_DETAILS),
        )
