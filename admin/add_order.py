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
from actions.addon_pricing import MAX_ADDONS_PER_LINE
from actions.cart import DOMAIN_TYPES, Cart, CartDomain, CartProduct, PlacementError, PlaceOptions
from actions.place import place_order, preview_order
from actions.search import search
from admin.addons import addon_choices
from admin.base import SecureBaseView
from admin.config_options import catalog_options, posted_option_values
from admin.custom_fields import order_form_fields, row_answers
from admin.filters import order_statuses
from admin.presentation import currency
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
from models.bounds import (
    MAX_QUANTITY,
    MAX_REGISTRATION_YEARS,
    MIN_REGISTRATION_YEARS,
    InvalidInput,
    is_id,
    parse_id,
    parse_int,
    parse_money,
    parse_optional_id,
)

CLIENT_SEARCH_LIMIT = 20
TEMPLATE_ROW = 999999  # the hidden row "Add Another ..." copies; never posted
_ROW = re.compile(r"^(products|domains)-(\d+)-")


def posted_rows(form) -> dict[str, list[int]]:
    """The product and domain row numbers the form's fields name, in order."""
    rows: dict[str, set[int]] = {"products": set(), "domains": set()}
    for key in form:
        match = _ROW.match(key)
        if match:
            rows[match.group(1)].add(int(match.group(2)))
    return {kind: sorted(numbers) for kind, numbers in rows.items()}


def row_choices(form) -> dict:
    """What the product and domain rows (admin/order_rows.html) offer: Add New Order's and Amend order's."""
    return dict(
        products=db.session.scalars(
            select(Product).where(Product.retired.is_(False)).order_by(Product.group_name, Product.name)
        ).all(),
        cycles=[c.value for c in BillingCycle],
        domain_types=[t.value for t in DomainOrderType],
        template_row=TEMPLATE_ROW,
        addons=addon_choices(db.session),
        custom_fields=order_form_fields(db.session),
        chosen_addons=lambda name: form.getlist(name) if form else [],
        config_options=catalog_options(db.session),
    )


class OrderForm:
    """The posted form as a Cart plus the options, and the errors met while reading it."""

    def __init__(self, form):
        self.form = form
        self.errors: dict[str, list[str]] = {}
        rows = posted_rows(form)
        self.product_rows = rows["products"] or [0]
        self.domain_rows = rows["domains"]
        self.cart = Cart(
            client_id=self._parse("client_id", parse_optional_id, what="Client"),
            payment_method=form.get("payment_method", "").strip(),
            promo_code=form.get("promo_code", "").strip(),
            ip_address=request.remote_addr or "",
            notes=form.get("notes", ""),
        )
        # Blank rows are left out; cart line i is then not form row i, so keep the mapping.
        self.product_names, self.domain_names = {}, {}
        # A product row that registers or transfers its domain adds that domain line (WHMCS: the
        # domain is typed once, on the product): cart domain line -> the product row it came from.
        self.product_domains: dict[int, int] = {}
        for row in self.product_rows:
            if self._get(f"products-{row}-product_id"):
                self.product_names[len(self.cart.products)] = row
                self.cart.products.append(self._product(row))
                domain = self._product_domain(row)
                if domain is not None:
                    self.product_domains[len(self.cart.domains)] = row
                    self.cart.domains.append(domain)
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

    def _parse(self, name: str, parse, default=None, **kwargs):
        """The field through its models.bounds parser; blank gives `default`; an unreadable value is
        an error on the field (and `default`, so the rest of the form is still checked)."""
        value = self._get(name)
        if not value:
            return default
        try:
            return parse(value, **kwargs)
        except InvalidInput as exc:
            self.errors.setdefault(name, []).append(exc.message)
            return default

    def _product(self, row: int) -> CartProduct:
        p = f"products-{row}-"
        return CartProduct(
            product_id=self._parse(p + "product_id", parse_optional_id, what="Product"),
            billing_cycle=self._get(p + "billing_cycle") or None,
            quantity=self._parse(p + "quantity", parse_int, 1, minimum=1, maximum=MAX_QUANTITY,
                                 what="Quantity"),
            price_override=self._parse(p + "price_override", parse_money, what="The price override"),
            domain=self._get(p + "domain"),
            addon_ids=self._addon_ids(p + "addon_ids"),
            config_options=posted_option_values(self.form, p + "config_options-"),
            custom_fields=self._custom_fields(p),
        )

    def _custom_fields(self, prefix: str) -> dict[int, str]:
        try:
            return row_answers(self.form, prefix)
        except InvalidInput as exc:
            self.errors.setdefault(prefix + "customfields", []).append(exc.message)
            return {}

    def _addon_ids(self, name: str) -> list[int]:
        """The ticked addons (one more than the most allowed, so pricing can say there are too many)."""
        ids = []
        for raw in self.form.getlist(name)[:MAX_ADDONS_PER_LINE + 1]:
            try:
                ids.append(parse_id(raw.strip(), what="Addon"))
            except InvalidInput as exc:
                self.errors.setdefault(name, []).append(exc.message)
        return ids

    def _domain(self, row: int, prefix: str | None = None, type_: str | None = None) -> CartDomain:
        """A domain row's line; with `prefix` ("products-<row>-domain_"), a product row's domain."""
        p = prefix or f"domains-{row}-"
        return CartDomain(
            type=type_ or self._get(p + "type") or DomainOrderType.REGISTER,
            name=self._get(p + "name") if prefix is None else self._get(f"products-{row}-domain"),
            period_years=self._parse(p + "period_years", parse_int, 1,
                                     minimum=MIN_REGISTRATION_YEARS, maximum=MAX_REGISTRATION_YEARS,
                                     what="Years"),
            epp_code=self._get(p + "epp_code"),
            dns_management=bool(self.form.get(p + "dns_management")),
            email_forwarding=bool(self.form.get(p + "email_forwarding")),
            id_protection=bool(self.form.get(p + "id_protection")),
        )

    def _product_domain(self, row: int) -> CartDomain | None:
        """The product row's domain when it is to be registered or transferred ("" = the client's
        own domain, used as it is: no domain line)."""
        action = self._get(f"products-{row}-domain_type")
        if not action:
            return None
        if action not in DOMAIN_TYPES:
            self.errors.setdefault(f"products-{row}-domain_type", []).append("Choose Register or Transfer.")
            return None
        return self._domain(row, f"products-{row}-domain_", action)

    def form_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Errors keyed by the posted field names (cart line i -> its form row)."""
        result = dict(self.errors)
        for name, messages in errors.items():
            match = _ROW.match(name)
            if match and match.group(1) == "domains" and int(match.group(2)) in self.product_domains:
                field = name[match.end():]
                field = "domain" if field == "name" else f"domain_{field}"
                name = f"products-{self.product_domains[int(match.group(2))]}-{field}"
            elif match:
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
            client_id = request.args.get("client_id", "")
            client = db.session.get(Client, int(client_id)) if is_id(client_id) else None
            return self._render(None, {}, client=client)
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
        """The live total, priced on the server by the same code that places the order.

        `complete` is false while any field has an error: the page then shows the errors and no
        total, since a total that leaves out a row it could not price would lie. `seq` echoes the
        page's request number, so the page can drop an answer that arrives after a newer one."""
        parsed = OrderForm(request.form)
        quote = preview_order(db.session, parsed.cart, parsed.options)
        db.session.rollback()
        errors = parsed.form_errors(quote.errors)
        lines = [{"description": f"{s.product} ({s.cycle})" + "".join(f", {o}" for o in s.options),
                  "amount": str(s.price + s.setup_fee),
                  "discount": str(s.discount)} for s in quote.services]
        lines += [{"description": f"Addon: {a.addon.name} ({a.cycle})", "amount": str(a.price + a.setup_fee),
                   "discount": str(a.discount)} for a in quote.addons]
        lines += [{"description": f"{d.type} {d.name} ({d.period_years} year(s))",
                   "amount": str(d.price + d.addons), "discount": str(d.discount)} for d in quote.domains]
        complete = not errors
        seq = request.form.get("preview_seq", "")
        return jsonify(complete=complete, seq=int(seq) if is_id(seq) else None, lines=lines, errors=errors,
                       subtotal=str(quote.subtotal) if complete else None,
                       discount=str(quote.discount) if complete else None,
                       total=str(quote.total) if complete else None,
                       currency=currency(quote.currency_id).code)

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
        return self.render(
            "admin/add_order.html",
            form=parsed.form if parsed else {},
            product_rows=parsed.product_rows if parsed else [0],
            domain_rows=parsed.domain_rows if parsed else [],
            errors=errors,
            client=client,
            gateways=db.session.scalars(select(Gateway).where(Gateway.active).order_by(Gateway.sort_order)).all(),
            statuses=[status.title for status in order_statuses()],
            defaults=parsed is None,
            **row_choices(parsed.form if parsed else None),
        )
