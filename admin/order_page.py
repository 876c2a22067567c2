"""The order details page, its action endpoints, row actions and bulk actions (mixed into OrderView).

Every endpoint: the named permission (403, nothing changed), CSRF (global CSRFProtect), parse the
form, call the action from actions/ with an Actor for the admin, commit, flash, redirect. A refused
action (TransitionError) is flashed with its message and rolled back. The `expected_version` field
carries the version the admin saw, so an action on a stale page is refused.
"""

from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import TemplateLinkRowAction
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError

from actions.accept import (
    AcceptOptions,
    DomainAcceptOptions,
    ServiceAcceptOptions,
    accept_order,
    default_run_module_create,
)
from actions.actor import Actor
from actions.affiliate import assign_affiliate
from actions.bulk import bulk_change_status, bulk_delete_orders
from actions.cancel import cancel_order, refund_refusal
from actions.delete import delete_order
from actions.fraud import set_order_fraud
from actions.notes import update_admin_notes
from actions.pending import set_order_pending
from actions.side_effects import cancel_side_effect, retry_side_effect
from actions.status import change_order_status
from actions.transitions import STALE_MESSAGE, TransitionError
from admin.base import capped_count, count_badge, has_permission
from admin.filters import order_statuses, status_group_titles
from admin.list_input import primary_key_value
from admin.redirects import redirect_target as get_redirect_target
from extensions import db
from models import (
    Affiliate,
    EmailLog,
    Invoice,
    InvoiceItemType,
    Order,
    OrderEvent,
    Permission,
    Server,
    Service,
    SideEffect,
    payment_status_of,
)
from models.bounds import MAX_ID, whole_number
from models.guards import OrderAction, refusal
from modules.registry import available_registrar_modules

# verb -> (order action, permissions needed, button label, confirmation question or None)
ORDER_VERBS = {
    "accept": (OrderAction.ACCEPT, (Permission.ACCEPT_ORDER,), "Accept Order", None),
    "cancel": (OrderAction.CANCEL, (Permission.CANCEL_ORDER,), "Cancel Order", "Cancel order #{number}?"),
    "cancel_refund": (OrderAction.CANCEL_AND_REFUND,
                      (Permission.CANCEL_ORDER, Permission.REFUND_INVOICE_PAYMENTS),
                      "Cancel & Refund", "Cancel order #{number} and refund its payments?"),
    "fraud": (OrderAction.SET_FRAUD, (Permission.SET_AS_FRAUD,), "Set as Fraud",
              "Set order #{number} as fraud?"),
    "pending": (OrderAction.SET_PENDING, (Permission.SET_BACK_TO_PENDING,), "Set Back to Pending", None),
    "delete": (OrderAction.DELETE, (Permission.DELETE_ORDER,), "Delete Order",
               "Delete order #{number} for good, with its items and invoice?"),
    "status": (OrderAction.CHANGE_STATUS, (Permission.CHANGE_ORDER_STATUS,), "Change Status", None),
}

# Bulk action name -> (bulk function's action, permission)
BULK_ACTIONS = {
    "bulk_accept": (OrderAction.ACCEPT, Permission.ACCEPT_ORDER),
    "bulk_cancel": (OrderAction.CANCEL, Permission.CANCEL_ORDER),
    "bulk_fraud": (OrderAction.SET_FRAUD, Permission.SET_AS_FRAUD),
    "bulk_pending": (OrderAction.SET_PENDING, Permission.SET_BACK_TO_PENDING),
    "bulk_delete": (OrderAction.DELETE, Permission.DELETE_ORDER),
    "bulk_status": (OrderAction.CHANGE_STATUS, Permission.CHANGE_ORDER_STATUS),
}


# Which invoice lines bill a service and which a domain (their related_id is the item's id).
_ITEM_LINE_TYPES = {
    "service": {InvoiceItemType.HOSTING, InvoiceItemType.SETUP, InvoiceItemType.PROMO_HOSTING},
    "domain": {InvoiceItemType.DOMAIN_REGISTER, InvoiceItemType.DOMAIN_TRANSFER,
               InvoiceItemType.PROMO_DOMAIN},
}

# A bulk flash lists at most this many refused orders by number.
_REFUSED_SHOWN = 50


class PendingOrdersLabel(str):
    """The Orders menu title; rendered in the menu with a badge counting pending orders."""

    __slots__ = ()

    def __html__(self):
        return count_badge(self, pending_orders_count(), PENDING_BADGE_CAP, "pending-orders-badge",
                           "Pending orders")


# The badge counts pending orders up to this many, then shows "999+": the COUNT on every page
# view reads at most this many index entries, however many orders wait.
PENDING_BADGE_CAP = 999


def pending_orders_count() -> int:
    """Orders whose status counts as pending, up to PENDING_BADGE_CAP + 1: one indexed COUNT, at
    most once per request."""
    if not has_permission(Permission.VIEW_ORDERS):
        return 0
    pending = select(Order.id).where(Order.status.in_(status_group_titles("pending")))
    return capped_count("pending_orders", pending, PENDING_BADGE_CAP)


def _url_or_none(endpoint: str, **values) -> str | None:
    """A link to another admin view, or None when that view is not installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _checked(name: str) -> bool:
    return request.form.get(name) == "1"


def _accept_options(order: Order) -> AcceptOptions:
    options = AcceptOptions()
    for service in order.services:
        prefix = f"service-{service.id}-"
        server_id = request.form.get(prefix + "server_id", "")
        options.services[service.id] = ServiceAcceptOptions(
            server_id=whole_number(server_id, minimum=1, maximum=MAX_ID),
            username=request.form.get(prefix + "username", "").strip() or None,
            password=request.form.get(prefix + "password") or None,
            run_module_create=_checked(prefix + "run_create"),
            send_welcome_email=_checked(prefix + "send_welcome"),
        )
    for domain in order.domains:
        prefix = f"domain-{domain.id}-"
        options.domains[domain.id] = DomainAcceptOptions(
            registrar=request.form.get(prefix + "registrar", ""),
            send_to_registrar=_checked(prefix + "send_to_registrar"),
        )
    return options


def _accept(session, order, actor, expected_version):
    # The order page posts every option; a row action accepts with the products' defaults.
    options = _accept_options(order) if request.form.get("with_options") else None
    return accept_order(session, order, options, actor, expected_version=expected_version)


# The verbs posted to /order/<verb>/ (page buttons and list row actions):
# verb -> (action(session, order, actor, expected_version=..., **extra), extra, flashed outcome).
_RUN = {
    "accept": (_accept, {}, "accepted"),
    "cancel": (cancel_order, {}, "cancelled"),
    "cancel_refund": (cancel_order, {"refund": True}, "cancelled (refunds requested)"),
    "fraud": (set_order_fraud, {}, "set as Fraud"),
    "pending": (set_order_pending, {}, "set back to Pending"),
    "delete": (delete_order, {}, "deleted"),
}


class OrderPageMixin:
    details_template = "admin/order_details.html"
    order_list_template = "admin/order_list.html"

    column_extra_row_actions = [
        TemplateLinkRowAction("order_macros.accept_row", "Accept Order"),
        TemplateLinkRowAction("order_macros.cancel_row", "Cancel Order"),
        TemplateLinkRowAction("order_macros.fraud_row", "Set as Fraud"),
        TemplateLinkRowAction("order_macros.pending_row", "Set Back to Pending"),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Our list template adds the row-action macros and "select all matching" on top of the list
        # template the list configuration chose (it extends that one).
        self.list_base_template = self.list_template
        self.list_template = self.order_list_template

    def create_blueprint(self, admin):
        # Called before the view joins the menu: create its category with the pending badge.
        if self.category and admin.get_category_menu_item(self.category) is None:
            admin.add_category(PendingOrdersLabel(self.category))
        return super().create_blueprint(admin)

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        if name == "details_view" and not has_permission(Permission.VIEW_ORDER_DETAILS):
            abort(403)
        # Flask-Admin silently skips a bulk action the admin may not run; we answer 403.
        if name == "action_view" and request.form.get("action") in BULK_ACTIONS:
            self._require(BULK_ACTIONS[request.form["action"]][1])
        return None

    # --- what the templates ask -----------------------------------------------------------------

    def order_allows(self, verb: str, order: Order) -> bool:
        """Show a button only when the admin has the permission and the order's guard passes."""
        order_action, permissions, _, _ = ORDER_VERBS[verb]
        if not all(has_permission(p) for p in permissions):
            return False
        if order_action == OrderAction.CANCEL_AND_REFUND:  # also asks whether the gateway can refund
            return refund_refusal(db.session, order) is None
        return refusal(order, order_action) is None

    def order_button(self, verb: str) -> SimpleNamespace:
        _, _, label, confirm = ORDER_VERBS[verb]
        url = self.get_url(".order_action_view", verb=verb)
        return SimpleNamespace(label=label, confirm=confirm, url=url)

    def get_one(self, id):
        """The order with everything its page shows, in a fixed number of queries."""
        order_id = primary_key_value(Order, id)
        if order_id is None:
            return None
        return db.session.scalar(
            select(Order).where(Order.id == order_id).options(
                selectinload(Order.client),
                selectinload(Order.invoice).selectinload(Invoice.items),
                selectinload(Order.invoice).selectinload(Invoice.transactions),
                selectinload(Order.affiliate).selectinload(Affiliate.client),
                selectinload(Order.status_definition),
                selectinload(Order.services).selectinload(Service.product),
                selectinload(Order.services).selectinload(Service.server),
                selectinload(Order.domains),
            )
        )

    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs["order_page"] = self._page_context(kwargs["model"])
        return super().render(template, **kwargs)

    def _page_context(self, order: Order) -> SimpleNamespace:
        can_edit = has_permission(Permission.EDIT_ORDER)
        lines = order.invoice.items if order.invoice else []
        billed = {kind: {line.related_id for line in lines if line.type in types}
                  for kind, types in _ITEM_LINE_TYPES.items()}

        def item_payment_status(item) -> str:
            # Items are billed on the order's first invoice; one without a line there has none.
            kind = "service" if isinstance(item, Service) else "domain"
            return payment_status_of(order.invoice if item.id in billed[kind] else None)

        fraud = order.fraud_output or {}
        return SimpleNamespace(
            client_url=_url_or_none("clients.details_view", id=order.client_id),
            invoice_url=order.invoice_id and _url_or_none("invoices.details_view", id=order.invoice_id),
            can_edit=can_edit,
            can_retry=has_permission(Permission.RETRY_SIDE_EFFECTS),
            max_attempts=current_app.config["SIDE_EFFECT_MAX_ATTEMPTS"],
            fraud_reasons=fraud.get("reasons", []) if isinstance(fraud, dict) else [],
            servers=db.session.scalars(select(Server).where(Server.active).order_by(Server.name)).all(),
            registrars=available_registrar_modules(),
            statuses=order_statuses(),
            item_payment_status=item_payment_status,
            run_create_default=lambda service: default_run_module_create(db.session, service),
            events=db.session.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id.desc())
            ).all(),
            side_effects=db.session.scalars(
                select(SideEffect).where(SideEffect.order_id == order.id).order_by(SideEffect.id.desc())
            ).all(),
            emails=db.session.scalars(
                select(EmailLog).where(EmailLog.order_id == order.id).order_by(EmailLog.id.desc())
            ).all() if has_permission(Permission.VIEW_EMAIL_LOG) else None,
        )

    # --- endpoints --------------------------------------------------------------------------------

    def _require(self, *permissions) -> None:
        if not all(has_permission(p) for p in permissions):
            abort(403)

    def _posted_order(self) -> Order:
        order = self.get_one(request.form.get("id"))
        if order is None:
            abort(404)
        return order

    def _expected_version(self) -> int | None:
        value = request.form.get("expected_version", "")
        return int(value) if value.isdigit() else None

    def _commit(self, order_number, run, done: str):
        """Run an action, commit, flash the outcome; a refusal is flashed and rolled back."""
        return_url = get_redirect_target() or self.get_url(".index_view")
        try:
            run(Actor.admin(current_user))
            db.session.commit()
        except TransitionError as exc:
            db.session.rollback()
            flash(f"Order #{order_number}: {exc.message}", "error")
        except StaleDataError:
            db.session.rollback()
            flash(f"Order #{order_number}: {STALE_MESSAGE}", "error")
        else:
            flash(f"Order #{order_number} {done}.", "success")
        return redirect(return_url)

    def _post(self, permissions, done: str, action, *args, **extra):
        """An order-page POST: the permissions (403), the posted order (404), then
        action(session, order, *args, actor, expected_version=..., **extra) through _commit."""
        self._require(*permissions)
        order = self._posted_order()
        version = self._expected_version()
        return self._commit(
            order.order_number,
            lambda actor: action(db.session, order, *args, actor, expected_version=version, **extra),
            done,
        )

    @expose("/order/<verb>/", methods=("POST",))
    def order_action_view(self, verb):
        if verb not in _RUN:
            abort(404)
        action, extra, done = _RUN[verb]
        return self._post(ORDER_VERBS[verb][1], done, action, **extra)

    @expose("/order/status/", methods=("POST",))
    def change_status_view(self):
        new_status = request.form.get("status", "")
        return self._post((Permission.CHANGE_ORDER_STATUS,), f"set to {new_status}", change_order_status,
                          new_status)

    @expose("/order/affiliate/", methods=("POST",))
    def assign_affiliate_view(self):
        value = request.form.get("affiliate_id", "")
        affiliate_id = whole_number(value, minimum=1, maximum=MAX_ID)
        return self._post((Permission.EDIT_ORDER,), "affiliate updated", assign_affiliate, affiliate_id)

    @expose("/order/notes/", methods=("POST",))
    def admin_notes_view(self):
        notes = request.form.get("admin_notes", "")
        return self._post((Permission.EDIT_ORDER,), "admin notes saved", update_admin_notes, notes)

    @expose("/side-effect/<verb>/", methods=("POST",))
    def side_effect_view(self, verb):
        run = {"retry": retry_side_effect, "cancel": cancel_side_effect}.get(verb)
        if run is None:
            abort(404)
        self._require(Permission.RETRY_SIDE_EFFECTS)
        order = self._posted_order()
        effect_id = request.form.get("side_effect_id", "")
        effect_id = whole_number(effect_id, minimum=1, maximum=MAX_ID)
        effect = db.session.get(SideEffect, effect_id) if effect_id else None
        if effect is None or effect.order_id != order.id:
            abort(404)
        done = "side effect queued again" if verb == "retry" else "side effect cancelled"
        return self._commit(order.order_number, lambda actor: run(db.session, effect, actor), done)

    # --- bulk actions on the list grid: order status only, each row checked by its guard ---------

    def is_action_allowed(self, name):
        if name in BULK_ACTIONS:
            return has_permission(BULK_ACTIONS[name][1])
        return super().is_action_allowed(name)

    def matching_orders(self):
        """SELECT of the ids of every order the list shows for its current filters and search
        (all pages), built by Flask-Admin's own list machinery so it matches what is on screen."""
        args = self._get_list_extra_args()
        _, query = self.get_list(None, None, False, args.search, args.filters, execute=False, page_size=False)
        return query.enable_eagerloads(False).with_entities(Order.id).order_by(None).statement

    def matching_count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self.matching_orders().subquery()))

    def matching_description(self) -> str:
        """What "all matching" covers, restated in its confirmation: every filter and the search."""
        parts = list(self.list_filters().described)
        if request.args.get("search"):
            parts.append(f"Search {request.args['search']!r}")
        return ", ".join(parts) or "no filter (every order)"

    def _bulk_target(self, ids):
        """The orders a bulk action applies to: the ticked rows, or every order matching the filter;
        None (refused, flashed) when a filter of "all matching" could not be applied."""
        if request.form.get("all_matching") == "1":
            if self.list_filters().errors:
                flash("Nothing was changed: a filter could not be applied, so \"all matching\" would not "
                      "mean what the list shows. Correct the filter first.", "error")
                return None
            return self.matching_orders()
        self._check_posted_ids(ids)
        return [int(i) for i in ids]

    def _run_bulk(self, name: str, ids, new_status: str | None = None) -> None:
        order_action, permission = BULK_ACTIONS[name]
        self._require(permission)
        target = self._bulk_target(ids)
        if target is None:
            return
        actor = Actor.admin(current_user)
        try:
            if order_action == OrderAction.DELETE:  # each deleted order keeps its own snapshot event
                ids = target if isinstance(target, list) else db.session.scalars(target).all()
                result = bulk_delete_orders(db.session, ids, actor)
            else:
                result = bulk_change_status(db.session, target, order_action, actor, new_status=new_status)
            db.session.commit()
        except TransitionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return
        message = f"{result.changed} changed, {len(result.refused)} refused"
        if not result.refused:
            flash(message + ".", "success")
            return
        shown = "; ".join(f"#{number}: {reason}" for number, reason in result.refused[:_REFUSED_SHOWN])
        more = len(result.refused) - _REFUSED_SHOWN
        flash(f"{message}. Refused: {shown}" + (f" (and {more} more)" if more > 0 else ""), "warning")

    @action("bulk_accept", "Accept", "Accept the selected orders (status only)?")
    def action_bulk_accept(self, ids):
        return self._run_bulk("bulk_accept", ids)

    @action("bulk_cancel", "Cancel", "Cancel the selected orders (status only, no module commands)?")
    def action_bulk_cancel(self, ids):
        return self._run_bulk("bulk_cancel", ids)

    @action("bulk_fraud", "Set as Fraud", "Set the selected orders as fraud (status only)?")
    def action_bulk_fraud(self, ids):
        return self._run_bulk("bulk_fraud", ids)

    @action("bulk_pending", "Set Back to Pending", "Set the selected orders back to pending (status only)?")
    def action_bulk_pending(self, ids):
        return self._run_bulk("bulk_pending", ids)

    @action("bulk_delete", "Delete", "Delete the selected orders for good?")
    def action_bulk_delete(self, ids):
        return self._run_bulk("bulk_delete", ids)

    @action("bulk_status", "Set status…")
    def action_bulk_status(self, ids):
        """A second small page: choose the status, then apply it to the same selection."""
        self._require(Permission.CHANGE_ORDER_STATUS)
        return self.render("admin/order_bulk_status.html", ids=ids, statuses=order_statuses(),
                           all_matching=request.form.get("all_matching") == "1",
                           return_url=get_redirect_target() or self.get_url(".index_view"))

    @expose("/bulk-status/", methods=("POST",))
    def bulk_status_view(self):
        self._require(Permission.CHANGE_ORDER_STATUS)
        self._run_bulk("bulk_status", request.form.getlist("rowid"), request.form.get("status", ""))
        return redirect(get_redirect_target() or self.get_url(".index_view"))
