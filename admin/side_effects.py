"""Side effects across all orders (the Jobs menu): the failed ones with a badge, bulk Retry / Cancel,
and the link to rq-dashboard.

Who sees what:
- the list needs View Background Jobs, or Retry Failed Side Effects (an admin allowed to retry must
  be able to find what failed; Sales Operators have that permission but not the job monitor);
- Retry needs Retry Failed Side Effects, Cancel needs Cancel Queued Side Effects (403 otherwise,
  nothing changed); cancelling a terminate or a refund also needs Cancel Queued Terminations and
  Refunds (such rows are refused, with the reason, for an admin without it);
- the rq-dashboard link needs View Background Jobs and REDIS_URL (it is mounted only then).
"""

from flask import abort, current_app, flash, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_admin.menu import MenuLink
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from actions.actor import Actor
from actions.errors import TransitionError
from actions.side_effects import cancel_side_effect, retry_side_effect
from admin.base import FilteredListLink, SecureModelView, capped_count, count_badge, has_permission
from extensions import db
from models import Permission, SideEffect, SideEffectKind, SideEffectStatus
from models.bounds import is_id
from models.permissions import permissions_to_cancel

# The badge counts up to this many failed rows and then shows "999+": the COUNT stays bounded.
BADGE_CAP = 999
# Error text in the list is cut to this many characters; the full text is in the tooltip.
ERROR_SHOWN = 80
# A bulk flash names at most this many refused rows.
REFUSED_SHOWN = 20


FAILED_FILTER = {"flt0_status_equals": SideEffectStatus.FAILED.value}


_ACTION_PERMISSIONS = {"retry": Permission.RETRY_SIDE_EFFECTS, "cancel": Permission.CANCEL_SIDE_EFFECTS}


def can_view_side_effects() -> bool:
    return any(has_permission(p) for p in (Permission.VIEW_JOBS, *_ACTION_PERMISSIONS.values()))


# Built once: every page's menu counts them. Only the indexed column is read, so PostgreSQL can
# answer from the index alone.
_FAILED = select(SideEffect.status).where(SideEffect.status == SideEffectStatus.FAILED)


def failed_side_effects_count() -> int:
    """Failed rows, capped at BADGE_CAP + 1: one COUNT over the (status, next_attempt_at) index,
    at most once per request."""
    if not can_view_side_effects():
        return 0
    return capped_count("failed_side_effects", _FAILED, BADGE_CAP)


class FailedLabel(str):
    """The menu title, with a badge counting failed side effects."""

    __slots__ = ()

    def __html__(self):
        return count_badge(self, failed_side_effects_count(), BADGE_CAP, "failed-side-effects-badge",
                           "Failed side effects")


class JobsDashboardLink(MenuLink):
    def __init__(self):
        super().__init__("Jobs dashboard", category="Jobs")

    def get_url(self):
        return url_for("rq_dashboard.queues_overview")

    def is_accessible(self):
        # jobs/dashboard.py mounts rq-dashboard only when REDIS_URL is set.
        return bool(current_app.config.get("REDIS_URL")) and has_permission(Permission.VIEW_JOBS)


def failed_menu_link() -> MenuLink:
    return FilteredListLink(FailedLabel("Failed side effects"), "Jobs", "side_effects.index_view",
                            can_view_side_effects, **FAILED_FILTER)


def _order_link(view, context, model, name):
    if model.order_id is None:
        return ""
    url = url_for("orders.details_view", id=model.order_id)
    return Markup('<a href="{}">#{}</a>').format(url, model.order_id)


def _target(view, context, model, name):
    return f"{model.target_type} #{model.target_id}" if model.target_id else model.target_type


def _attempts(view, context, model, name):
    return f"{model.attempts}/{current_app.config['SIDE_EFFECT_MAX_ATTEMPTS']}"  # the job's limit


def _short_error(view, context, model, name):
    error = model.last_error or ""
    if len(error) <= ERROR_SHOWN:
        return error
    return Markup('<span title="{}">{}…</span>').format(error, error[:ERROR_SHOWN])


def _options(vocabulary) -> list[tuple[str, str]]:
    return [(item.value, item.value.replace("_", " ").capitalize()) for item in vocabulary]


class SideEffectView(SecureModelView):
    """Read-only: rows change only through actions (the jobs, Retry, Cancel)."""

    allow_create = allow_edit = allow_delete = False

    column_list = ("id", "order_id", "kind", "target_type", "status", "attempts", "last_error",
                   "created_at", "started_at", "finished_at", "next_attempt_at")
    column_labels = {"id": "ID", "order_id": "Order", "target_type": "Target", "attempts": "Attempts",
                     "last_error": "Last error", "created_at": "Created", "started_at": "Started",
                     "finished_at": "Finished", "next_attempt_at": "Next attempt"}
    column_formatters = {"order_id": _order_link, "target_type": _target, "attempts": _attempts,
                         "last_error": _short_error}
    column_formatters_detail = {"order_id": _order_link, "target_type": _target, "attempts": _attempts}
    column_default_sort = ("id", True)
    column_sortable_list = ("id", "created_at")
    named_filter_urls = True
    column_filters = (
        FilterEqual(SideEffect.status, "Status", options=_options(SideEffectStatus)),
        FilterEqual(SideEffect.kind, "Kind", options=_options(SideEffectKind)),
        IntEqualFilter(SideEffect.order_id, "Order"),  # an int: PostgreSQL has no integer = varchar
    )

    def is_accessible(self) -> bool:
        return can_view_side_effects()

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        # A POSTed bulk action the admin may not run: 403, not Flask-Admin's silent redirect.
        if name == "action_view" and request.form.get("action") in _ACTION_PERMISSIONS:
            if not has_permission(_ACTION_PERMISSIONS[request.form["action"]]):
                abort(403)
        return None

    def is_action_allowed(self, name):
        if name in _ACTION_PERMISSIONS:
            return has_permission(_ACTION_PERMISSIONS[name])
        return super().is_action_allowed(name)

    @action("retry", "Retry", "Run the selected side effects again?")
    def action_retry(self, ids):
        self._run_each(ids, retry_side_effect, "retried")

    @action("cancel", "Cancel", "Cancel the selected side effects? They will not run: a cancelled "
            "terminate leaves the account live, a cancelled refund leaves the client unrefunded.")
    def action_cancel(self, ids):
        def cancel(session, effect, actor):
            missing = [p for p in permissions_to_cancel(effect.kind) if not has_permission(p)]
            if missing:
                raise TransitionError("forbidden", f"cancelling a {effect.kind} needs {missing[0]}")
            return cancel_side_effect(session, effect, actor, reason="Cancelled from the side effects list")

        self._run_each(ids, cancel, "cancelled")

    def _run_each(self, ids, run, done: str) -> None:
        """Each row through its action; a refused row is reported and left alone. One commit, after
        which the dispatcher enqueues (or, embedded, runs) every retried row."""
        wanted = [int(i) for i in ids if is_id(i)]
        # Locked, so two admins retrying the same rows queue them once (PostgreSQL; SQLite
        # serialises writers anyway).
        effects = db.session.scalars(
            select(SideEffect).where(SideEffect.id.in_(wanted)).order_by(SideEffect.id).with_for_update()
        ).all()
        actor = Actor.admin(current_user)
        changed, refused = 0, []
        for effect in effects:
            try:
                run(db.session, effect, actor)
                changed += 1
            except TransitionError as exc:
                refused.append(f"#{effect.id}: {exc.message}")
        found = {effect.id for effect in effects}
        refused += [f"#{effect_id}: not found" for effect_id in wanted if effect_id not in found]
        db.session.commit()
        message = f"{changed} {done}, {len(refused)} refused"
        if not refused:
            flash(message + ".", "success")
            return
        more = len(refused) - REFUSED_SHOWN
        flash(f"{message} ({'; '.join(refused[:REFUSED_SHOWN])}"
              + (f"; and {more} more" if more > 0 else "") + ").", "warning")
