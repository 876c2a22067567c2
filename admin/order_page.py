"""The order details page and its POST endpoints (mixed into OrderView).

The buttons, their permissions, confirmations and outcomes come from the transition table
(actions.transitions.TRANSITIONS): one endpoint, /order/<action>/, runs any row through
run_order_action. Every endpoint: the row's permissions (403, nothing changed), CSRF (global
CSRFProtect), the posted order (gone: "no longer exists"), the version the admin saw
(`expected_version`: a stale or unreadable one is refused), then the action with an Actor for the
admin, commit, flash, redirect. A refused action (TransitionError) is flashed and rolled back.
"""

from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError

from actions.accept import (
    AcceptOptions,
    DomainAcceptOptions,
    ServiceAcceptOptions,
    default_run_module_create,
    module_creates_started,
)
from actions.actor import Actor
from actions.addon_items import default_run_module_create as addon_run_create_default
from actions.addon_transitions import AddonAcceptOptions
from actions.affiliate import assign_affiliate
from actions.apply_upgrade import upgrade_of
from actions.edit_config_options import edit_config_options
from actions.edit_custom_fields import edit_service_custom_fields
from actions.notes import update_admin_notes
from actions.payment_method import change_payment_method
from actions.side_effects import cancel_side_effect, retry_side_effect
from actions.transitions import (
    STALE_MESSAGE,
    TRANSITIONS,
    Action,
    ErrorCode,
    Transition,
    TransitionError,
    run_order_action,
)
from admin.affiliates import AffiliateLoader
from admin.base import has_permission
from admin.config_options import posted_option_values, service_option_controls, service_option_loads
from admin.custom_fields import order_page_fields, row_answers
from admin.filters import order_statuses
from admin.list_input import primary_key_value
from admin.reauth import reauthentication_redirect
from admin.redirects import redirect_target as get_redirect_target
from admin.timeline import describe
from extensions import db
from models import (
    Affiliate,
    EmailLog,
    Gateway,
    Invoice,
    Order,
    OrderEvent,
    OrderKind,
    Permission,
    Server,
    Service,
    ServiceAddon,
    Setting,
    SideEffect,
    addon_payment_status,
    item_payment_status,
)
from models.bounds import MAX_INT, InvalidInput, parse_id, parse_int, parse_optional_id
from models.guards import amend_refusal
from models.permissions import permissions_to_cancel
from modules.registry import available_registrar_modules

OUT_OF_DATE = "This page is out of date — reload it and try again"


def _url_or_none(endpoint: str, **values) -> str | None:
    """A link to another admin view, or None when that view is not installed."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _checked(name: str) -> bool:
    return request.form.get(name) == "1"


def _accept_options(order: Order) -> AcceptOptions:
    """The order page's accept form: per pending item, the admin's choices."""
    options = AcceptOptions()
    for service in order.services:
        prefix = f"service-{service.id}-"
        options.services[service.id] = ServiceAcceptOptions(
            server_id=parse_optional_id(request.form.get(prefix + "server_id"), "Server"),
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
    for item in order.addons:
        prefix = f"addon-{item.id}-"
        options.addons[item.id] = AddonAcceptOptions(
            run_module_create=_checked(prefix + "run_create"),
            send_welcome_email=_checked(prefix + "send_welcome"),
        )
    return options


def _action_inputs(row: Transition, order: Order) -> dict:
    """What the page's own forms add to a row's use case (none for a plain button)."""
    if row.page_form == "accept_options":
        # The order page posts every option; a row action accepts with the products' defaults.
        return {"options": _accept_options(order) if request.form.get("with_options") else None}
    if row.chooses_status:
        return {"new_status": request.form.get("status", "")}
    return {}


def _refund_missing(order: Order) -> str | None:
    """Why the page has no Cancel & Refund although the order holds payments: the gateway's reason."""
    found = TRANSITIONS[Action.CANCEL_AND_REFUND].refusal(db.session, order)
    return found.message if found is not None and found.code == ErrorCode.GATEWAY_CANNOT_REFUND else None


def row_permitted(row: Transition) -> bool:
    return all(has_permission(p) for p in row.permissions)


class OrderPageMixin:
    details_template = "admin/order_details.html"
    # The order page's affiliate picker searches here (./ajax/lookup/?name=affiliate), with Edit Order.
    form_ajax_refs = {"affiliate": AffiliateLoader()}

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        if name == "details_view" and not has_permission(Permission.VIEW_ORDER_DETAILS):
            abort(403)
        if name == "ajax_lookup" and not has_permission(Permission.EDIT_ORDER):
            abort(403)
        return None

    # --- what the templates ask -----------------------------------------------------------------

    def available_actions(self, order: Order) -> list[Transition]:
        """Table rows the admin has the permissions for and whose guard passes, in table order."""
        return [row for row in TRANSITIONS.values()
                if row_permitted(row) and row.refusal(db.session, order) is None]

    def unavailable_actions(self, order: Order) -> list[tuple[Transition, str]]:
        """Rows the admin has the permissions for that this order refuses, each with the reason."""
        permitted = (row for row in TRANSITIONS.values() if row_permitted(row))
        refused = ((row, row.refusal(db.session, order)) for row in permitted)
        return [(row, found.message) for row, found in refused if found is not None]

    def action_url(self, row: Transition) -> str:
        return self.get_url(".order_action_view", action=row.action)

    def confirmation(self, row: Transition, order: Order) -> str | None:
        return row.confirm.format(number=order.order_number) if row.confirm else None

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
                selectinload(Order.services).selectinload(Service.addons).selectinload(ServiceAddon.addon),
                *service_option_loads(selectinload(Order.services)),
                selectinload(Order.domains),
            )
        )

    def render(self, template, **kwargs):
        if template == self.details_template and "model" in kwargs:
            kwargs["order_page"] = self._page_context(kwargs["model"])
        return super().render(template, **kwargs)

    def _page_context(self, order: Order) -> SimpleNamespace:
        can_edit = has_permission(Permission.EDIT_ORDER)
        notes_setting = db.session.get(Setting, "show_notes_on_checkout")
        side_effects = db.session.scalars(
            select(SideEffect).where(SideEffect.order_id == order.id).order_by(SideEffect.id.desc())).all()
        started_creates = module_creates_started(side_effects)  # the Accept form's defaults
        return SimpleNamespace(
            client_url=_url_or_none("clients.details_view", id=order.client_id),
            invoice_url=order.invoice_id and _url_or_none("invoices.details_view", id=order.invoice_id),
            can_edit=can_edit,
            affiliate_lookup_url=self.get_url(".ajax_lookup", name="affiliate"),
            actions=self.available_actions(order),
            unavailable=self.unavailable_actions(order),
            describe=describe,
            refund_missing=_refund_missing(order),
            # Amend order (admin/amend_order.py): offered while the order is still amendable.
            amend_url=_url_or_none("amend_order.amend", order_id=order.id)
            if has_permission(Permission.AMEND_PENDING_ORDERS) and amend_refusal(order, side_effects) is None
            else None,
            can_retry=has_permission(Permission.RETRY_SIDE_EFFECTS),
            can_cancel_effect=lambda effect: all(
                has_permission(p) for p in permissions_to_cancel(effect.kind)),
            show_client_notes=notes_setting is None or notes_setting.value != "0",
            max_attempts=current_app.config["SIDE_EFFECT_MAX_ATTEMPTS"],
            servers=db.session.scalars(select(Server).where(Server.active).order_by(Server.name)).all(),
            registrars=available_registrar_modules(),
            gateways=db.session.scalars(
                select(Gateway).where(Gateway.active).order_by(Gateway.sort_order, Gateway.id)
            ).all() if can_edit else [],
            statuses=order_statuses(),
            item_payment_status=lambda item: item_payment_status(order, item),
            run_create_default=lambda service: default_run_module_create(db.session, service,
                                                                         started_creates),
            addon_payment_status=lambda item: addon_payment_status(order, item),
            addon_run_create_default=lambda item: addon_run_create_default(db.session, item),
            option_controls=service_option_controls,
            can_edit_options=has_permission(Permission.EDIT_SERVICES),
            custom_fields=order_page_fields(db.session, order),
            upgrade=upgrade_of(db.session, order.id) if order.kind == OrderKind.UPGRADE else None,
            can_edit_custom_fields=has_permission(Permission.EDIT_SERVICES),
            events=db.session.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id.desc())
            ).all(),
            side_effects=side_effects,
            emails=db.session.scalars(
                select(EmailLog).where(EmailLog.order_id == order.id).order_by(EmailLog.id.desc())
            ).all() if has_permission(Permission.VIEW_EMAIL_LOG) else None,
        )

    # --- endpoints --------------------------------------------------------------------------------

    def _require(self, *permissions) -> None:
        if not all(has_permission(p) for p in permissions):
            abort(403)

    def _return_url(self) -> str:
        return get_redirect_target() or self.get_url(".index_view")

    def _commit(self, order_number, run, done: str):
        """Run an action, commit, flash the outcome; a refusal is flashed and rolled back."""
        try:
            run(Actor.admin(current_user))
            db.session.commit()
        except TransitionError as exc:
            db.session.rollback()
            flash(f"Order #{order_number}: {exc.message}", "error")
        except StaleDataError:
            db.session.rollback()
            flash(f"Order #{order_number}: {STALE_MESSAGE}", "error")
        except InvalidInput as exc:
            db.session.rollback()
            flash(f"Order #{order_number}: {exc.message}", "error")
        else:
            flash(f"Order #{order_number} {done}.", "success")
        return redirect(self._return_url())

    def _post(self, permissions, done: str, run):
        """An order-page POST: the permissions (403), the posted order and the version the admin saw,
        then run(order, actor, expected_version) through _commit. Delete and refunds need a recent
        login (admin/reauth.py)."""
        self._require(*permissions)
        denied = reauthentication_redirect(permissions, self._return_url())
        if denied is not None:
            return denied
        raw_id = request.form.get("id", "")
        order = self.get_one(raw_id)
        if order is None:
            flash(f"Order {raw_id[:20]} no longer exists (deleted, or never did)." if raw_id
                  else "No order was given.", "error")
            return redirect(self.get_url(".index_view"))
        try:
            version = parse_int(request.form.get("expected_version"), minimum=1, maximum=MAX_INT,
                                what="The page's version")
        except InvalidInput:
            flash(f"Order #{order.order_number}: {OUT_OF_DATE}", "error")
            return redirect(self._return_url())
        return self._commit(order.order_number, lambda actor: run(order, actor, version), done)

    @expose("/order/<action>/", methods=("POST",))
    def order_action_view(self, action):
        row = TRANSITIONS.get(action)
        if row is None:
            abort(404)

        def run(order, actor, version):
            return run_order_action(db.session, row.action, order, actor, expected_version=version,
                                    **_action_inputs(row, order))

        done = row.done
        if row.chooses_status:
            done = f"set to {request.form.get('status', '')[:64]}"
        return self._post(row.permissions, done, run)

    @expose("/order/affiliate/", methods=("POST",))
    def assign_affiliate_view(self):
        def run(order, actor, version):
            affiliate_id = parse_optional_id(request.form.get("affiliate_id"), "Affiliate id")
            return assign_affiliate(db.session, order, affiliate_id, actor, expected_version=version)

        return self._post((Permission.EDIT_ORDER,), "affiliate updated", run)

    @expose("/order/notes/", methods=("POST",))
    def admin_notes_view(self):
        notes = request.form.get("admin_notes", "")
        return self._post((Permission.EDIT_ORDER,), "admin notes saved",
                          lambda order, actor, version: update_admin_notes(
                              db.session, order, notes, actor, expected_version=version))

    @expose("/order/custom-fields/", methods=("POST",))
    def custom_fields_view(self):
        def run(order, actor, version):
            service_id = parse_id(request.form.get("service_id"), what="Service id")
            return edit_service_custom_fields(db.session, order, service_id, row_answers(request.form),
                                              actor, expected_version=version)

        return self._post((Permission.EDIT_SERVICES,), "custom fields saved", run)

    @expose("/order/payment-method/", methods=("POST",))
    def payment_method_view(self):
        gateway = request.form.get("payment_method", "")
        return self._post((Permission.EDIT_ORDER,), "payment method updated",
                          lambda order, actor, version: change_payment_method(
                              db.session, order, gateway, actor, expected_version=version))

    @expose("/order/config-options/", methods=("POST",))
    def config_options_view(self):
        service_id, values = request.form.get("service_id", ""), posted_option_values(request.form)
        return self._post((Permission.EDIT_SERVICES,), "configurable options saved",
                          lambda order, actor, version: edit_config_options(
                              db.session, order, service_id, values, actor, expected_version=version))

    @expose("/side-effect/<verb>/", methods=("POST",))
    def side_effect_view(self, verb):
        if verb not in ("retry", "cancel"):
            abort(404)
        self._require(Permission.RETRY_SIDE_EFFECTS if verb == "retry" else Permission.CANCEL_SIDE_EFFECTS)
        try:
            effect_id = parse_id(request.form.get("side_effect_id"), "Side effect")
        except InvalidInput:
            abort(404)
        effect = db.session.get(SideEffect, effect_id)
        # The posted order must be the effect's; _post then loads it (once) and checks the version.
        if effect is None or effect.order_id != primary_key_value(Order, request.form.get("id")):
            abort(404)
        if verb == "retry":
            return self._post((), "side effect queued again",
                              lambda order, actor, version: retry_side_effect(db.session, effect, actor))
        self._require(*permissions_to_cancel(effect.kind))
        return self._post((), "side effect cancelled", lambda order, actor, version: cancel_side_effect(
            db.session, effect, actor, reason="Cancelled from the order page"))
