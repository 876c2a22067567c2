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
from actions.attempt_capture import attempt_capture, capture_under_way, gateway_capture_refusal
from actions.cancel_invoice import cancel_invoice
from actions.edit_invoice_lines import edit_invoice_lines
from actions.invoice_access import STALE_INVOICE, order_id_of
from actions.mark_paid import mark_invoice_paid_with_payment
from actions.mark_unpaid import mark_invoice_unpaid
from actions.refund_payment import gateway_refunds, refund_payment, refundable_left
from actions.transitions import TransitionError
from admin.base import has_permission
from admin.custom_fields import invoice_custom_fields
from admin.reauth import reauthentication_redirect
from admin.redirects import redirect_target
from extensions import db
from models import Gateway, Invoice, Permission, utcnow
from models.bounds import MAX_INT, InvalidInput, parse_date, parse_id, parse_int, parse_money
from models.invoice_guards import (
    cancel_refusal,
    capture_refusal,
    lines_refusal,
    mark_unpaid_refusal,
    payment_refusal,
)

OUT_OF_DATE = "This page is out of date — reload it and try again"


def _money(name: str, what: str, default: str = "", allow_negative: bool = False):
    return parse_money(request.form.get(name) or default, what=what, allow_negative=allow_negative)


def _payment_date():
    return parse_date(request.form.get("date") or utcnow().date().isoformat(), "The payment date")


def _line_changes(invoice: Invoice) -> dict:
    """The lines form: each line's description and amount, its remove box, and one new line."""
    changed, removed = {}, []
    for item in invoice.items:
        prefix = f"line-{item.id}-"
        if request.form.get(prefix + "remove") == "1":
            removed.append(item.id)
        elif prefix + "amount" in request.form:
            changed[item.id] = (request.form.get(prefix + "description", ""),
                                _money(prefix + "amount", "A line's amount", allow_negative=True))
    added = []
    if (request.form.get("new-description") or "").strip() or (request.form.get("new-amount") or "").strip():
        added.append((request.form.get("new-description", ""),
                      _money("new-amount", "The new line's amount", allow_negative=True)))
    return {"changed": changed, "removed": removed, "added": added}


class InvoicePageMixin:
    details_template = "admin/invoice_details.html"

    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs["invoice_page"] = self._invoice_context(kwargs["model"])
        return super().render(template, **kwargs)

    def _invoice_context(self, invoice: Invoice) -> SimpleNamespace:
        session = db.session
        can_pay = has_permission(Permission.ADD_INVOICE_PAYMENTS) and payment_refusal(invoice) is None
        can_capture = has_permission(Permission.ATTEMPT_CC_CAPTURES) and capture_refusal(invoice) is None
        capture_block = gateway_capture_refusal(session, invoice) if can_capture else None
        can_refund = has_permission(Permission.REFUND_INVOICE_PAYMENTS)
        return SimpleNamespace(
            order_id=order_id_of(session, invoice.id),
            today=utcnow().date().isoformat(),
            gateways=session.scalars(select(Gateway).order_by(Gateway.sort_order, Gateway.id)).all(),
            can_add_payment=can_pay and invoice.balance > 0,
            can_mark_paid=can_pay,
            # Offered when the gateway can capture; otherwise the page says why not.
            can_capture=can_capture and capture_block is None,
            capture_block=capture_block,
            capture_running=capture_under_way(session, invoice.id) is not None,
            refundable=[(payment, left, gateway_refunds(session, payment.gateway))
                        for payment, left in refundable_left(session, invoice)] if can_refund else [],
            can_cancel=has_permission(Permission.CANCEL_INVOICES) and cancel_refusal(invoice) is None,
            can_mark_unpaid=has_permission(Permission.MARK_INVOICES_UNPAID)
            and mark_unpaid_refusal(invoice) is None,
            can_edit_lines=has_permission(Permission.EDIT_INVOICE_LINES) and lines_refusal(invoice) is None,
            custom_fields=invoice_custom_fields(session, invoice),
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
        # Refunds need a recent login (issue 17): nothing changes until the admin confirms it.
        asked = reauthentication_redirect({permission}, self._back(invoice.id))
        if asked is not None:
            return asked
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
                amount=_money("amount", "The payment amount"), fees=_money("fees", "The fees", default="0"),
                paid_on=_payment_date(), gateway=request.form.get("gateway", ""),
                transaction_id=request.form.get("transaction_id", ""))

        return self._invoice_post(Permission.ADD_INVOICE_PAYMENTS, "payment added", run)

    @expose("/invoice/mark-paid/", methods=("POST",))
    def mark_paid_view(self):
        def run(invoice, actor, version):
            return mark_invoice_paid_with_payment(
                db.session, invoice, actor, expected_version=version,
                fees=_money("fees", "The fees", default="0"), paid_on=_payment_date(),
                gateway=request.form.get("gateway", ""),
                transaction_id=request.form.get("transaction_id", ""))

        return self._invoice_post(Permission.ADD_INVOICE_PAYMENTS, "marked Paid", run)

    @expose("/invoice/refund/", methods=("POST",))
    def refund_view(self):
        def run(invoice, actor, version):
            amount = (request.form.get("amount") or "").strip()
            return refund_payment(
                db.session, invoice, actor, expected_version=version,
                payment_id=parse_id(request.form.get("payment_id"), "Payment"),
                amount=parse_money(amount, what="The refund amount") if amount else None,
                manual=request.form.get("manual") == "1")

        return self._invoice_post(Permission.REFUND_INVOICE_PAYMENTS, "refund recorded or requested", run)

    @expose("/invoice/capture/", methods=("POST",))
    def capture_view(self):
        return self._invoice_post(Permission.ATTEMPT_CC_CAPTURES, "capture requested",
                                  lambda invoice, actor, version: attempt_capture(
                                      db.session, invoice, actor, expected_version=version))

    @expose("/invoice/cancel/", methods=("POST",))
    def cancel_invoice_view(self):
        return self._invoice_post(Permission.CANCEL_INVOICES, "cancelled",
                                  lambda invoice, actor, version: cancel_invoice(
                                      db.session, invoice, actor, expected_version=version))

    @expose("/invoice/mark-unpaid/", methods=("POST",))
    def mark_unpaid_view(self):
        return self._invoice_post(Permission.MARK_INVOICES_UNPAID, "marked Unpaid",
                                  lambda invoice, actor, version: mark_invoice_unpaid(
                                      db.session, invoice, actor, expected_version=version))

    @expose("/invoice/lines/", methods=("POST",))
    def lines_view(self):
        return self._invoice_post(Permission.EDIT_INVOICE_LINES, "lines saved",
                                  lambda invoice, actor, version: edit_invoice_lines(
                                      db.session, invoice, actor, expected_version=version,
                                      **_line_changes(invoice)))
