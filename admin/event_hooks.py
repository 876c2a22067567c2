"""Setup > Event Hooks: endpoints (URL, events, active), their delivery log, Send test event.

Opening the pages and changing endpoints needs Manage Event Hooks. An endpoint's secret is shown
once, in the page that answers its create; afterwards only Reveal or Rotate shows it, which need
Reveal and Rotate Event Hook Secrets and a recent re-authentication (admin.reauth), and answer
with a page that is not cached (never a flash message, which travels in the session).
"""

from flask import abort, flash, make_response, redirect, request, url_for
from flask_admin import expose
from sqlalchemy import func, select

from actions.errors import TransitionError
from actions.hook_events import (
    EVENT_TYPES,
    HookEndpointError,
    create_endpoint,
    delete_endpoint,
    rotate_secret,
    send_test_event,
    update_endpoint,
)
from admin.base import SecureBaseView, has_permission
from admin.reauth import reauthentication_redirect
from extensions import db
from models import HookDelivery, HookEndpoint, Permission
from models.bounds import InvalidInput, is_id, parse_int

DELIVERIES_PER_PAGE = 50
MAX_DELIVERY_PAGE = 10_000


def _form() -> dict:
    return {"url": request.form.get("url", ""), "description": request.form.get("description", ""),
            "events": request.form.getlist("events")[:len(EVENT_TYPES) + 1],
            "active": request.form.get("active") == "1"}


class EventHooksView(SecureBaseView):
    permission = create_permission = edit_permission = delete_permission = Permission.MANAGE_EVENT_HOOKS

    def _endpoint(self, raw: str) -> HookEndpoint:
        endpoint = db.session.get(HookEndpoint, int(raw)) if is_id(raw) else None
        if endpoint is None:
            abort(404)
        return endpoint

    def _secret_page(self, endpoint: HookEndpoint, secret: str, done: str):
        response = make_response(self.render("admin/event_hook_secret.html", endpoint=endpoint,
                                             secret=secret, done=done))
        response.headers["Cache-Control"] = "no-store"
        return response

    def _edit_page(self, endpoint: HookEndpoint | None, form: dict, error: str = ""):
        return self.render("admin/event_hook_form.html", endpoint=endpoint, form=form, error=error,
                           event_types=EVENT_TYPES)

    @expose("/")
    def index(self):
        endpoints = db.session.scalars(select(HookEndpoint).order_by(HookEndpoint.id)).all()
        return self.render("admin/event_hooks.html", endpoints=endpoints, event_types=EVENT_TYPES,
                           may_reveal=has_permission(Permission.REVEAL_EVENT_HOOK_SECRETS))

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if request.method == "GET":
            return self._edit_page(None, {"url": "", "description": "", "events": [], "active": True})
        form = _form()
        try:
            endpoint, secret = create_endpoint(db.session, form["url"], form["events"], form["description"],
                                               form["active"])
        except HookEndpointError as exc:
            db.session.rollback()
            return self._edit_page(None, form, str(exc)), 400
        db.session.commit()
        return self._secret_page(endpoint, secret, "created")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        endpoint = self._endpoint(request.values.get("id", ""))
        if request.method == "GET":
            return self._edit_page(endpoint, {"url": endpoint.url, "description": endpoint.description,
                                              "events": endpoint.events, "active": endpoint.active})
        form = _form()
        try:
            update_endpoint(db.session, endpoint, form["url"], form["events"], form["description"],
                            form["active"])
        except HookEndpointError as exc:
            db.session.rollback()
            return self._edit_page(endpoint, form, str(exc)), 400
        db.session.commit()
        flash(f"Endpoint {endpoint.url} saved.", "success")
        return redirect(url_for(".index"))

    @expose("/test/", methods=("POST",))
    def test_view(self):
        endpoint = self._endpoint(request.form.get("id", ""))
        try:
            effect = send_test_event(db.session, endpoint)
        except TransitionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".index"))
        db.session.commit()
        flash(f"Test event {effect.payload['id']} queued for {endpoint.url}: its delivery shows in the log.",
              "success")
        return redirect(url_for(".deliveries_view", id=endpoint.id))

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        endpoint = self._endpoint(request.form.get("id", ""))
        url = endpoint.url
        delete_endpoint(db.session, endpoint)
        db.session.commit()
        flash(f"Endpoint {url} deleted: it gets no more events.", "success")
        return redirect(url_for(".index"))

    def _secret_action(self, change: bool):
        if not has_permission(Permission.REVEAL_EVENT_HOOK_SECRETS):
            abort(403)
        endpoint = self._endpoint(request.form.get("id", ""))
        confirm = reauthentication_redirect({Permission.REVEAL_EVENT_HOOK_SECRETS}, url_for(".index"))
        if confirm is not None:
            return confirm
        if not change:
            return self._secret_page(endpoint, endpoint.secret or "", "secret")
        secret = rotate_secret(db.session, endpoint)
        db.session.commit()
        return self._secret_page(endpoint, secret, "rotated: deliveries from now on are signed with it")

    @expose("/reveal/", methods=("POST",))
    def reveal_view(self):
        return self._secret_action(change=False)

    @expose("/rotate/", methods=("POST",))
    def rotate_view(self):
        return self._secret_action(change=True)

    @expose("/deliveries/")
    def deliveries_view(self):
        endpoint = self._endpoint(request.args.get("id", ""))
        try:
            page = parse_int(request.args.get("page") or "0", minimum=0, maximum=MAX_DELIVERY_PAGE,
                             what="The page")
        except InvalidInput as exc:
            flash(exc.message, "error")
            return redirect(url_for(".deliveries_view", id=endpoint.id))
        rows = db.session.scalars(
            select(HookDelivery).where(HookDelivery.endpoint_id == endpoint.id)
            .order_by(HookDelivery.id.desc()).offset(page * DELIVERIES_PER_PAGE).limit(DELIVERIES_PER_PAGE)
        ).all()
        total = db.session.scalar(select(func.count()).select_from(HookDelivery)
                                  .where(HookDelivery.endpoint_id == endpoint.id))
        return self.render("admin/event_hook_deliveries.html", endpoint=endpoint, rows=rows, page=page,
                           total=total, per_page=DELIVERIES_PER_PAGE)
