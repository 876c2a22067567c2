"""Re-authentication before the back office's most dangerous requests (models.permissions
.REAUTHENTICATE_FOR): the admin must have logged in or confirmed their password (or an
authenticator code) within actions.admin_login.REAUTH_WINDOW.

    reauthentication_redirect(permissions, back) -> response | None
        None when none of `permissions` needs it or the admin proved it lately; else a redirect to
        the confirmation page, which sends the admin back to `back` (nothing was changed)
    recent_login_redirect(back) -> response | None       the same, whatever the permissions
    ReauthenticatedViewMixin   a model view whose forms and POSTs (create, edit, delete, bulk
        actions, its own `reauthenticated_views`) all need it
"""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from actions.admin_login import recently_authenticated
from admin.redirects import redirect_target, safe_redirect_target
from extensions import db
from models.permissions import REAUTHENTICATE_FOR

CONFIRM_FIRST = "Confirm it is you (your password or an authenticator code) before you go on."


def reauthentication_redirect(permissions, back: str | None):
    if not REAUTHENTICATE_FOR.intersection(permissions):
        return None
    return recent_login_redirect(back)


def recent_login_redirect(back: str | None):
    """The same check for the admin's own security settings (two-factor on, off, new codes)."""
    if recently_authenticated(db.session, current_user.session_id):
        return None
    repeat = " Then repeat the action: nothing was changed." if request.method == "POST" else ""
    flash(CONFIRM_FIRST + repeat, "info")
    back = safe_redirect_target(back) or url_for("admin.index")
    return redirect(url_for("account.reauthenticate_view", next=back))


class ReauthenticatedViewMixin:
    reauthenticated_views = ("create_view", "edit_view", "delete_view", "action_view")

    def _handle_view(self, name, **kwargs):
        denied = super()._handle_view(name, **kwargs)
        if denied is not None or name not in self.reauthenticated_views:
            return denied
        # A form asks first (nothing typed is lost); a POST checks again.
        if request.method == "GET":
            back = request.full_path
        else:
            back = redirect_target() or self.get_url(".index_view")
        return reauthentication_redirect({self.permission}, back)
