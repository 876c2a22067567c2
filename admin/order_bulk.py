"""Bulk actions on the orders grid, one per row of the transition table offered in bulk.

Flask-Admin collects @action methods; here the actions come from actions.transitions.TRANSITIONS
instead (label, permissions, confirmation, bulk), so a new row appears in the "With selected" menu
and under "Select all matching" without code here. Status only, each order checked by its guard
(actions.bulk); a row that `removes` (Delete) runs order by order; one that lets the admin choose
the status (Change status) first asks for it on a small page.
"""

from flask import abort, flash, request
from flask_login import current_user
from sqlalchemy import func, select

from actions.actor import Actor
from actions.bulk import bulk_change_status, bulk_each
from actions.transitions import TRANSITIONS, Transition, TransitionError
from admin.filters import StatusFilter, StatusGroupFilter, order_statuses, status_group_titles
from admin.order_page import row_permitted
from admin.reauth import reauthentication_redirect
from admin.redirects import redirect_target as get_redirect_target
from extensions import db
from models import Order
from models.order_counts import counts_by_status

# A bulk flash lists at most this many refused orders by number.
REFUSED_SHOWN = 50
PREFIX = "bulk_"


def bulk_name(row: Transition) -> str:
    return PREFIX + row.action


def bulk_row(name: str) -> Transition | None:
    row = TRANSITIONS.get(name.removeprefix(PREFIX)) if name.startswith(PREFIX) else None
    return row if row is not None and row.bulk else None


class OrderBulkMixin:
    def init_actions(self):
        super().init_actions()
        for row in TRANSITIONS.values():
            if not row.bulk:
                continue
            name = bulk_name(row)
            text = row.label + ("…" if row.chooses_status else "")
            self._actions.append((name, text))
            self._actions_data[name] = (lambda ids, row=row: self._bulk(row, ids), text, row.bulk_confirm)

    def is_action_allowed(self, name):
        row = bulk_row(name)
        if row is not None:
            return row_permitted(row)
        return super().is_action_allowed(name)

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None:
            return denied
        # Flask-Admin silently skips a bulk action the admin may not run; we answer 403.
        if name == "action_view":
            row = bulk_row(request.form.get("action", ""))
            if row is not None and not row_permitted(row):
                abort(403)
            if row is not None:  # Delete: a recent login (admin/reauth.py)
                back = get_redirect_target() or self.get_url(".index_view")
                return reauthentication_redirect(row.permissions, back)
        return None

    def matching_orders(self):
        """SELECT of the ids of every order the list shows for its current filters and search
        (all pages), built by Flask-Admin's own list machinery so it matches what is on screen."""
        args = self._get_list_extra_args()
        _, query = self.get_list(None, None, False, args.search, args.filters, execute=False, page_size=False)
        return query.enable_eagerloads(False).with_entities(Order.id).order_by(None).statement

    def matching_count(self) -> int:
        titles = self._only_statuses()
        if titles is not None:  # the status counters (models/order_counts.py): no walk of the statuses
            return sum(count for status, count in counts_by_status(db.session).items() if status in titles)
        return db.session.scalar(select(func.count()).select_from(self.matching_orders().subquery()))

    def _only_statuses(self) -> set[str] | None:
        """The statuses "all matching" covers when the list's one filter is a status or a status
        group and nothing is searched; None otherwise."""
        applied = self.list_filters().applied
        if request.args.get("search") or len(applied) != 1 or self.list_filters().errors:
            return None
        (index, _, value), = applied
        flt = self._filters[index]
        if isinstance(flt, StatusGroupFilter):
            return set(status_group_titles(value))
        if isinstance(flt, StatusFilter):
            return {value}
        return None

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

    def _bulk(self, row: Transition, ids):
        if not row_permitted(row):
            abort(403)
        if row.chooses_status and "status" not in request.form:
            # A second small page: choose the status, then post the same action and selection again.
            return self.render("admin/order_bulk_status.html", ids=ids, statuses=order_statuses(),
                               action=bulk_name(row), all_matching=request.form.get("all_matching") == "1",
                               return_url=get_redirect_target() or self.get_url(".index_view"))
        target = self._bulk_target(ids)
        if target is not None:
            self._run_bulk(row, target, request.form.get("status"))
        return None

    def _run_bulk(self, row: Transition, target, new_status: str | None) -> None:
        actor = Actor.admin(current_user)
        try:
            if row.removes:  # order by order: each deleted order keeps its own snapshot event
                ids = target if isinstance(target, list) else db.session.scalars(target).all()
                result = bulk_each(db.session, ids, row.action, actor)
            else:
                result = bulk_change_status(db.session, target, row.action, actor, new_status=new_status)
            db.session.commit()
        except TransitionError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return
        if not result.refused:
            flash(f"{row.label}: {result.summary}.", "success")
            return
        shown = "; ".join(f"#{number}: {reason}" for number, reason in result.refused[:REFUSED_SHOWN])
        more = len(result.refused) - REFUSED_SHOWN
        more_text = f" (and {more} more)" if more > 0 else ""
        flash(f"{row.label}: {result.summary}. Refused: {shown}{more_text}", "warning")
