"""Amend order: the order page's form for changing a pending order's lines (actions.amend_order).

GET shows the order's lines in Add New Order's rows (admin/templates/admin/order_rows.html), each
kept item carrying its id, plus a blank product row and a blank domain row to add one; POST reads
them with Add New Order's form reader and calls amend_order with the version the page showed.
Needs Amend Pending Orders; the POST is CSRF-checked (global CSRFProtect). A refusal (the order is
no longer amendable, someone changed it, nothing to amend) goes back to the order page with the
reason; a line the pricing refuses shows its message next to its field (400), nothing changed.
"""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from actions.actor import Actor
from actions.amend_cart import Amendment, current_amendment
from actions.amend_order import amend_order
from actions.cart import PlacementError
from actions.errors import TransitionError
from actions.transitions import STALE_MESSAGE
from admin.add_order import OrderForm, posted_rows, row_choices
from admin.base import SecureBaseView
from extensions import db
from models import Order, Permission
from models.bounds import MAX_INT, InvalidInput, parse_int, parse_money, parse_optional_id
from models.guards import amend_refusal, set_up_commands

OUT_OF_DATE = "This page is out of date — reload it and try again"


class AmendForm(OrderForm):
    """Add New Order's reader, plus each row's kept item id and a domain row's price overrides."""

    def __init__(self, form):
        super().__init__(form)
        lines = self.cart.products
        service_ids = [self._parse(f"products-{self.product_names[i]}-service_id", parse_optional_id,
                                   what="Service") for i in range(len(lines))]
        domain_ids = []
        for i, line in enumerate(self.cart.domains):
            row = self.domain_names.get(i)
            if row is None:  # a product row's new domain
                domain_ids.append(None)
                continue
            p = f"domains-{row}-"
            domain_ids.append(self._parse(p + "domain_id", parse_optional_id, what="Domain"))
            line.price_override = self._parse(p + "price_override", parse_money, what="The price override")
            line.renewal_override = self._parse(p + "renewal_override", parse_money,
                                                what="The renewal override")
        self.amendment = Amendment(promo_code=self.cart.promo_code, products=lines, domains=self.cart.domains,
                                   service_ids=service_ids, domain_ids=domain_ids)


def _money(value) -> str:
    return "" if value is None else str(value)


def amendment_form(amendment: Amendment) -> MultiDict:
    """The amendment as the rows' fields (what the page shows, and what posting it back means)."""
    data = MultiDict({"promo_code": amendment.promo_code})
    for row, (line, service_id) in enumerate(zip(amendment.products, amendment.service_ids, strict=True)):
        p = f"products-{row}-"
        data.update({p + "service_id": str(service_id or ""), p + "product_id": str(line.product_id),
                     p + "billing_cycle": line.billing_cycle or "", p + "quantity": str(line.quantity),
                     p + "price_override": _money(line.price_override), p + "domain": line.domain})
        for addon_id in line.addon_ids:
            data.add(p + "addon_ids", str(addon_id))
        for option_id, value in line.config_options.items():
            data[f"{p}config_options-{option_id}"] = str(value)
    for row, (line, domain_id) in enumerate(zip(amendment.domains, amendment.domain_ids, strict=True)):
        p = f"domains-{row}-"
        # The EPP code is not put back in the page (a secret): left blank, the stored one is kept.
        data.update({p + "domain_id": str(domain_id or ""), p + "type": line.type, p + "name": line.name,
                     p + "period_years": str(line.period_years),
                     p + "price_override": _money(line.price_override),
                     p + "renewal_override": _money(line.renewal_override)})
        for name in ("dns_management", "email_forwarding", "id_protection"):
            if getattr(line, name):
                data[p + name] = "1"
    return data


class AmendOrderView(SecureBaseView):
    permission = Permission.AMEND_PENDING_ORDERS

    def is_visible(self) -> bool:
        return False  # reached from the order page

    @expose("/")
    def index(self):
        abort(404)

    def _order_page(self, order_id: int):
        return redirect(url_for("orders.details_view", id=order_id))

    @expose("/<int:order_id>/", methods=("GET", "POST"))
    def amend(self, order_id: int):
        order = db.session.get(Order, order_id) if order_id <= MAX_INT else None
        if order is None:
            flash(f"Order {order_id} no longer exists (deleted, or never did).", "error")
            return redirect(url_for("orders.index_view"))
        if request.method == "GET":
            refusal = amend_refusal(order, set_up_commands(db.session, order.id))
            if refusal is not None:
                flash(f"Order #{order.order_number}: {refusal.message}", "error")
                return self._order_page(order.id)
            form = amendment_form(current_amendment(db.session, order))
            form["expected_version"] = str(order.version)
            return self._render(order, form, {})
        parsed = AmendForm(request.form)
        try:
            version = parse_int(request.form.get("expected_version"), minimum=1, maximum=MAX_INT,
                                what="The page's version")
        except InvalidInput:
            flash(f"Order #{order.order_number}: {OUT_OF_DATE}", "error")
            return self._order_page(order.id)
        try:
            if parsed.errors:  # unreadable fields: nothing is tried, each shows next to its field
                raise PlacementError({})
            amend_order(db.session, order.id, parsed.amendment, Actor.admin(current_user),
                        expected_version=version)
        except PlacementError as exc:
            db.session.rollback()
            flash("The order was not amended: correct the fields marked below.", "error")
            order = db.session.get(Order, order_id)
            return self._render(order, request.form, parsed.form_errors(exc.errors)), 400
        except (TransitionError, InvalidInput) as exc:
            db.session.rollback()
            flash(f"Order #{order.order_number}: {exc.message}", "error")
            return self._order_page(order_id)
        except StaleDataError:
            db.session.rollback()
            flash(f"Order #{order.order_number}: {STALE_MESSAGE}", "error")
            return self._order_page(order_id)
        db.session.commit()
        flash(f"Order #{order.order_number} amended; its invoice follows.", "success")
        return self._order_page(order_id)

    def _render(self, order: Order, form, errors: dict):
        rows = posted_rows(form)
        return self.render("admin/amend_order.html", order=order, errors=errors, form=form,
                           product_rows=rows["products"] + [max(rows["products"], default=-1) + 1],
                           domain_rows=rows["domains"] + [max(rows["domains"], default=-1) + 1],
                           amending=True, defaults=False, **row_choices(form))
