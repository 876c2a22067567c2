"""The invoice details page's actions and their POST endpoints (mixed into InvoiceView).

Each endpoint: its named permission (403, nothing changed), CSRF (global CSRFProtect), the posted
invoice (gone: "no longer exists"), the version the admin saw (`expected_version`: a stale or
unreadable one is refused, so a double click never pays or refunds twice), then the action in
actions/ with an Actor for the admin, commit, flash, redirect. A refusal is flashed and rolled
back. The inputs are parsed and bounded by models.bounds before the action sees them.
"""

from types import SimpleNamespace

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from actions.actor import Actor
from actions.add_payment import add_payment
from actions.invoice_access import STALE_INVOICE, order_id_of
from actions.transitions import TransitionError
from admin.base import has_permission
from admin.redirects import redirect_target
from extensions import db
from models import Gateway, Invoice, Permission, utcnow
from models.bounds import MAX_INT, InvalidInput, parse_date, parse_int, parse_money
from models.invoice_guards import payment_refusal

OUT_OF_DATE = "This page is out of date — reload it and try again"


def _money(name: str, what: str, default: str = ""):
    return parse_money(request.form.get(name) or default, what=what)


class InvoicePageMixin:
    details_template = "admin/invoice_details.html"

    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs["invoice_page"] = self._invoice_context(kwargs["model"])
        return super().render(template, **kwargs)

    def _invoice_context(self, invoice: Invoice) -> SimpleNamespace:
        order_id = order_id_of(db.session, invoice.id)
        return SimpleNamespace(
            order_id=order_id,
            today=utcnow().date().isoformat(),
            gateways=db.session.scalars(select(Gateway).order_by(Gateway.sort_order, Gateway.id)).all(),
            can_add_payment=has_permission(Permission.ADD_INVOICE_PAYMENTS)
            and payment_refusal(invoice) is None and invoice.balance > 0,
        )

    # --- endpoints --------------------------------------------------------------------------------

    def _back(self, invoice_id) -> str:
        return redirect_target() or self.get_url(".details_view", id=invoice_id)

    def _invoice_post(self, permission: str, done: str, run):
        """run(invoice, actor, expected_version) for the posted invoice, committed and flashed."""
        if not has_permission(permission):
            abort(403)
        try:
            invoice_id = parse_int(request.form.get("id"), minimum=1, maximum=MAX_INT, what="Invoice")
        except InvalidInput:
            invoice_id = None
        invoice = db.session.get(Invoice, invoice_id) if invoice_id else None
        if invoice is None:
            flash("That invoice no longer exists (deleted, or never did).", "error")
            return redirect(self.get_url(".index_view"))
        try:
            version = parse_int(request.form.get("expected_version"), minimum=1, maximum=MAX_INT,
                                what="The page's version")
        except InvalidInput:
            flash(f"Invoice #{invoice.id}: {OUT_OF_DATE}", "error")
            return redirect(self._back(invoice.id))
        try:
            run(invoice, Actor.admin(current_user), version)
            db.session.commit()
        except (TransitionError, InvalidInput) as exc:
            db.session.rollback()
            flash(f"Invoice #{invoice_id}: {exc.message}", "error")
        except StaleDataError:
            db.session.rollback()
            flash(f"Invoice #{invoice_id}: {STALE_INVOICE}", "error")
        else:
            flash(f"Invoice #{invoice_id}: {done}.", "success")
        return redirect(self._back(invoice_id))

    @expose("/invoice/add-payment/", methods=("POST",))
    def add_payment_view(self):
        def run(invoice, actor, version):
            return add_payment(
                db.session, invoice, actor, expected_version=version,
                amount=_money("amount", "The payment amount"),
                fees=_money("fees", "The fees", default="0"),
                paid_on=parse_date(request.form.get("date") or utcnow().date().isoformat(),
                                   "The payment date"),
                gateway=request.form.get("gateway", ""),
                transaction_id=request.form.get("transaction_id", ""))

        return self._invoice_post(Permission.ADD_INVOICE_PAYMENTS, "payment added", run)
