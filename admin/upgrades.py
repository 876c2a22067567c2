"""Orders > Services > Upgrade / Downgrade: a service's new product (same group), option values and
cycle, a preview of the prorated price, then an upgrade order placed by actions.upgrade_service.

Opening the page and placing the order need Create Upgrade/Downgrade Orders (403 otherwise); the
POST carries the CSRF token (global CSRFProtect). The face only reads the query or form (ids
parsed and bounded by models.bounds) and shows what the actions say: a refusal is a message on
the page with status 400 and nothing written.
"""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from actions.actor import Actor
from actions.config_options import stored_values
from actions.errors import TransitionError
from actions.upgrade_quote import CYCLE_NAMES, quote_upgrade, refusal_for
from actions.upgrade_service import order_upgrade
from admin.base import SecureBaseView, has_permission
from admin.config_options import posted_option_values, product_options
from admin.presentation import format_money
from extensions import db
from models import ConfigOptionGroup, Permission, Product, Service, utcnow
from models.bounds import MAX_ID, InvalidInput, is_id, parse_id, parse_money, whole_number


def _service(raw) -> Service:
    service = db.session.get(Service, parse_id(raw)) if is_id(raw) else None
    if service is None:
        abort(404)
    return service


def group_products(service: Service) -> list[Product]:
    """The products the service can move to: its group's, not retired, with their options."""
    return db.session.scalars(
        select(Product).where(Product.group_name == service.product.group_name, Product.retired.is_(False))
        .order_by(Product.name, Product.id)
        .options(selectinload(Product.prices),
                 selectinload(Product.config_option_groups).selectinload(ConfigOptionGroup.options))
    ).all()


def _controls(product: Product | None, service: Service, values: dict) -> list[dict]:
    """The option fields of `product`, each showing the posted value, else the service's own."""
    if product is None:
        return []
    stored = stored_values(service)
    controls = []
    for option in product_options(product):
        posted = whole_number(values.get(str(option.id)), maximum=MAX_ID)  # None: not posted, or garbage
        controls.append({"option": option, "value": stored.get(option.id) if posted is None else posted})
    return controls


class ServiceUpgradeView(SecureBaseView):
    permission = Permission.CREATE_UPGRADE_ORDERS

    def is_visible(self) -> bool:
        return False  # opened from a service's page (Upgrade / Downgrade), never from the menu

    def _page(self, service: Service, product_raw, cycle: str, values: dict, preview: bool,
              error: str = "", status: int = 200):
        products = group_products(service)
        product_id = parse_id(product_raw) if is_id(product_raw) else service.product_id
        product = next((p for p in products if p.id == product_id), None)
        quote = None
        if preview and not error:
            try:
                quote = quote_upgrade(db.session, service, parse_id(product_raw, "The product"), cycle,
                                      values, utcnow().date())
            except (TransitionError, InvalidInput) as exc:
                error, status = exc.message, 400
        page = self.render("admin/service_upgrade.html", service=service, products=products,
                           product_id=product_id, cycle=cycle, cycles=CYCLE_NAMES, quote=quote,
                           controls=_controls(product, service, values), error=error,
                           refusal=refusal_for(service, utcnow().date()),
                           service_url=url_for("services.details_view", id=service.id)
                           if has_permission(Permission.LIST_SERVICES) else None)
        return page, status

    @expose("/")
    def index(self):
        service = _service(request.args.get("id"))
        cycle = request.args.get("cycle", service.billing_cycle)[:20]
        preview = "product_id" in request.args
        return self._page(service, request.args.get("product_id"), cycle, posted_option_values(request.args),
                          preview)

    @expose("/order/", methods=("POST",))
    def order_view(self):
        service = _service(request.form.get("id"))
        cycle, raw_product = request.form.get("cycle", "")[:20], request.form.get("product_id")
        values = posted_option_values(request.form)
        try:
            product_id = parse_id(raw_product, "The product")
            shown = request.form.get("expected_amount")  # the preview's price (absent: not from the page)
            expected = None if shown is None else parse_money(shown, what="The previewed price",
                                                              allow_negative=True)
            order = order_upgrade(db.session, service.id, product_id, cycle, values,
                                  Actor.admin(current_user), expected_amount=expected)
        except (TransitionError, InvalidInput) as exc:
            db.session.rollback()
            return self._page(db.session.get(Service, service.id), raw_product, cycle, values, False,
                              error=exc.message, status=400)
        db.session.commit()
        flash(f"Upgrade order #{order.order_number} placed for "
              f"{format_money(order.invoice.total, order.currency_id)}: its invoice is "
              f"#{order.invoice_id}.", "success")
        if has_permission(Permission.VIEW_ORDER_DETAILS):
            return redirect(url_for("orders.details_view", id=order.id))
        return redirect(url_for(".index", id=service.id))
