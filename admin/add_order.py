"""Orders > Add New Order: the admin's order form, its live total and its client search.

The face only parses the form into a Cart and calls actions.place; prices, checks and errors all
come from there, so the live total and the placed order always agree.
"""

import re

from flask import flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from actions.actor import Actor
from actions.cart import Cart, CartDomain, CartProduct, PlacementError, PlaceOptions
from actions.place import place_order, preview_order
from actions.search import search
from admin.base import SecureBaseView
from admin.filters import order_statuses
from extensions import db
from models import (
    BillingCycle,
    Client,
    ClientStatus,
    DomainOrderType,
    Gateway,
    OrderStatus,
    Permission,
    Product,
)
from models.bounds import MAX_INT, MIN_INT, InvalidInput, parse_money, whole_number

CLIENT_SEARCH_LIMIT = 20
TEMPLATE_ROW = 999999  # the hidden row "Add Another ..." copies; never posted
_ROW = re.compile(r"^(products|domains)-(\d+)-")


class OrderForm:
    """The posted form as a Cart plus the options, and the errors met while reading it."""

    def __init__(self, form):
        self.form = form
        self.errors: dict[str, list[str]] = {}
        rows = {"products": set(), "domains": set()}
        for key in form:
            match = _ROW.match(key)
            if match:
                rows[match.group(1)].add(int(match.group(2)))
        self.product_rows = sorted(rows["products"]) or [0]
        self.domain_rows = sorted(rows["domains"])
        self.cart = Cart(
            client_id=self._int("client_id"),
            payment_method=form.get("payment_method", "").strip(),
            promo_code=form.get("promo_code", "").strip(),
            ip_address=request.remote_addr or "",
            notes=form.get("notes", ""),
        )
        # Blank rows are left out; cart line i is then not form row i, so keep the mapping.
        self.product_names, self.domain_names = {}, {}
        for row in self.product_rows:
            if self._get(f"products-{row}-product_id"):
                self.product_names[len(self.cart.products)] = row
                self.cart.products.append(self._product(row))
        for row in self.domain_rows:
            if self._get(f"domains-{row}-name"):
                self.domain_names[len(self.cart.domains)] = row
                self.cart.domains.append(self._domain(row))
        self.options = PlaceOptions(
            order_confirmation=bool(form.get("order_confirmation")),
            generate_invoice=bool(form.get("generate_invoice")),
            send_invoice_email=bool(form.get("send_invoice_email")),
            status=form.get("status") or OrderStatus.PENDING,
            placed_by_admin_id=current_user.id,
        )

    def _get(self, name: str) -> str:
        return self.form.get(name, "").strip()

    def _int(self, name: str, default: int | None = None) -> int | None:
        value = self._get(name)
        if not value:
            return default
        number = whole_number(value, minimum=MIN_INT, maximum=MAX_INT)  # the bounds: actions.pricing
        if number is None:
            self.errors.setdefault(name, []).append("Enter a whole number.")
            return default
        return number

    def _product(self, row: int) -> CartProduct:
        override = None
        name = f"products-{row}-price_override"
        if self._get(name):
            try:
                override = parse_money(self._get(name), what="The price override")
            except InvalidInput as exc:
                self.errors.setdefault(name, []).append(exc.message)
        return CartProduct(
            product_id=self._int(f"products-{row}-product_id"),
            billing_cycle=self._get(f"products-{row}-billing_cycle") or None,
            quantity=self._int(f"products-{row}-quantity", 1),
            price_override=override,
            domain=self._get(f"products-{row}-domain"),
        )

    def _domain(self, row: int) -> CartDomain:
        return CartDomain(
            type=self._get(f"domains-{row}-type") or DomainOrderType.REGISTER,
            name=self._get(f"domains-{row}-name"),
            period_years=self._int(f"domains-{row}-period_years", 1),
            epp_code=self._get(f"domains-{row}-epp_code"),
            dns_management=bool(self.form.get(f"domains-{row}-dns_management")),
            email_forwarding=bool(self.form.get(f"domains-{row}-email_forwarding")),
            id_protection=bool(self.form.get(f"domains-{row}-id_protection")),
        )

    def form_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Errors keyed by the posted field names (cart line i -> its form row)."""
        result = dict(self.errors)
        for name, messages in errors.items():
            match = _ROW.match(name)
            if match:
                rows = self.product_names if match.group(1) == "products" else self.domain_names
                line = int(match.group(2))
                name = f"{match.group(1)}-{rows.get(line, line)}-{name[match.end():]}"
            result.setdefault(name, []).extend(messages)
        return result


class AddOrderView(SecureBaseView):
    permission = Permission.ADD_NEW_ORDER

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "GET":
            client_id = whole_number(request.args.get("client_id", ""), minimum=1, maximum=MAX_INT)
            return self._render(None, {}, client=db.session.get(Client, client_id) if client_id else None)
        parsed = OrderForm(request.form)
        try:
            if parsed.errors:  # unreadable fields: still report everything else the action finds
                raise PlacementError(preview_order(db.session, parsed.cart, parsed.options).errors)
            order = place_order(db.session, parsed.cart, Actor.admin(current_user), parsed.options)
        except PlacementError as exc:
            db.session.rollback()
            errors = parsed.form_errors(exc.errors)
            flash("The order was not placed: correct the fields marked below.", "error")
            client = db.session.get(Client, parsed.cart.client_id) if parsed.cart.client_id else None
            return self._render(parsed, errors, client=client), 400
        db.session.commit()
        flash(f"Order #{order.order_number} placed (ID {order.id}).", "success")
        return redirect(url_for("orders.details_view", id=order.id))

    @expose("/preview/", methods=("POST",))
    def preview(self):
        """The live total, priced on the server by the same code that places the order."""
        parsed = OrderForm(request.form)
        quote = preview_order(db.session, parsed.cart, parsed.options)
        db.session.rollback()
        lines = [{"description": f"{s.product} ({s.cycle})", "amount": str(s.price + s.setup_fee),
                  "discount": str(s.discount)} for s in quote.services]
        lines += [{"description": f"{d.type} {d.name} ({d.period_years} year(s))",
                   "amount": str(d.price + d.addons), "discount": str(d.discount)} for d in quote.domains]
        return jsonify(subtotal=str(quote.subtotal), discount=str(quote.discount), total=str(quote.total),
                       lines=lines, errors=parsed.form_errors(quote.errors))

    @expose("/clients/")
    def client_search(self):
        """AJAX client picker: name, company or email starting with the term."""
        term = request.args.get("q", "").strip()
        if term:
            # The navbar's indexed prefix search, so the picker stays fast with many clients.
            clients = search(db.session, term, kinds=("clients",), limit=CLIENT_SEARCH_LIMIT).clients
        else:
            clients = db.session.scalars(
                select(Client).order_by(Client.last_name, Client.first_name).limit(CLIENT_SEARCH_LIMIT))
        # A Closed client cannot order; leave them out of the picker.
        clients = [c for c in clients if c.status != ClientStatus.CLOSED]
        return jsonify(results=[{"id": c.id, "text": f"{c} <{c.email}>"} for c in clients])

    def _render(self, parsed: OrderForm | None, errors: dict, client: Client | None):
        products = db.session.scalars(
            select(Product).where(Product.retired.is_(False)).order_by(Product.group_name, Product.name)
        ).all()
        return self.render(
            "admin/add_order.html",
            form=parsed.form if parsed else {},
            product_rows=parsed.product_rows if parsed else [0],
            domain_rows=parsed.domain_rows if parsed else [],
            errors=errors,
            client=client,
            products=products,
            cycles=[c.value for c in BillingCycle],
            gateways=db.session.scalars(select(Gateway).where(Gateway.active).order_by(Gateway.sort_order)).all(),
            statuses=[status.title for status in order_statuses()],
            domain_types=[t.value for t in DomainOrderType],
            defaults=parsed is None,
            template_row=TEMPLATE_ROW,
        )
