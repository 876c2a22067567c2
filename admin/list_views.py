"""Saved views and the last used filter of every grid (mixed into the list views).

On a grid: a "Views" menu with the admin's own and the team's shared views of that grid, "Save
this view" (name, shared), and a link back to the filter last used on it. The Orders menu's
"Saved views" page lists every view the admin can open. Views are stored as their query string,
re-encoded (actions/saved_views.py), and open only the grid they were saved on.
"""

from flask import abort, flash, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import bindparam, or_, select

from actions.saved_views import delete_view, save_view, view_query
from admin.base import SecureBaseView, has_permission
from admin.export import ExportMixin
from extensions import db
from models import Permission, SavedView
from models.bounds import InvalidInput, is_id

LAST_KEY = "orderdesk_last_views"
SHOWN = 50


# Built once: every grid page reads its saved views (a statement's construction costs as much as
# running it here).
_ALL_VIEWS = (select(SavedView)
              .where(or_(SavedView.admin_id == bindparam("admin_id"), SavedView.shared.is_(True)))
              .order_by(SavedView.endpoint, SavedView.name).limit(SHOWN))
_GRID_VIEWS = _ALL_VIEWS.where(SavedView.endpoint == bindparam("endpoint"))


def views_for(endpoint: str | None = None) -> list[SavedView]:
    """The admin's own views and the team's shared ones (of one grid, or all)."""
    if endpoint is None:
        return db.session.scalars(_ALL_VIEWS, {"admin_id": current_user.id}).all()
    return db.session.scalars(_GRID_VIEWS, {"admin_id": current_user.id, "endpoint": endpoint}).all()


def view_url(view: SavedView) -> str:
    base = url_for(f"{view.endpoint}.index_view")
    return f"{base}?{view.query}" if view.query else base


class ListViewsMixin:
    def saved_views(self) -> list[SavedView]:
        return views_for(self.endpoint)

    def last_used_url(self) -> str | None:
        query = (session.get(LAST_KEY) or {}).get(self.endpoint)
        return f"{url_for('.index_view')}?{query}" if query and not request.args else None

    def view_url(self, view: SavedView) -> str:
        return view_url(view)

    @expose("/")
    def index_view(self):
        if request.args:
            try:
                query = view_query(request.query_string.decode("utf-8", "replace"))
            except InvalidInput:
                query = ""
            if query:
                session[LAST_KEY] = {**(session.get(LAST_KEY) or {}), self.endpoint: query}
        return super().index_view()

    @expose("/views/save/", methods=("POST",))
    def save_view_view(self):
        try:
            save_view(db.session, current_user.id, self.endpoint, request.form.get("name", ""),
                      request.form.get("query", ""), shared=request.form.get("shared") == "yes")
            db.session.commit()
            flash(f"View {request.form.get('name', '').strip()[:100]} saved.", "success")
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.message, "error")
        return redirect(url_for(".index_view"))

    @expose("/views/<view_id>/delete/", methods=("POST",))
    def delete_view_view(self, view_id: str):
        view = db.session.get(SavedView, int(view_id)) if is_id(view_id) else None
        if view is None or view.endpoint != self.endpoint:
            abort(404)
        try:
            delete_view(db.session, view, current_user.id,
                        may_delete_others=has_permission(Permission.CONFIGURE_ADMINISTRATORS))
            db.session.commit()
            flash(f"View {view.name} removed.", "success")
        except InvalidInput as exc:
            db.session.rollback()
            flash(exc.message, "error")
        return redirect(url_for(".index_view"))


class GridToolsMixin(ListViewsMixin, ExportMixin):
    """What every grid offers beside its filters: saved views, the last used filter, export."""


class SavedViewsPage(SecureBaseView):
    """Orders > Saved views: every view the admin can open, by grid."""

    permission = None  # any admin; each view opens a grid that checks its own permission

    @expose("/")
    def index(self):
        views = [view for view in views_for() if self._can_open(view.endpoint)]
        return self.render("admin/saved_views.html", views=views, view_url=view_url)

    def _can_open(self, endpoint: str) -> bool:
        target = next((v for v in self.admin._views if getattr(v, "endpoint", None) == endpoint), None)
        return target is not None and target.is_accessible()
