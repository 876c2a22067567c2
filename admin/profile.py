"""My profile: the signed-in admin's own preferences (the time zone times are shown in)."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from actions.admin_users import set_time_zone
from admin.base import SecureBaseView
from admin.presentation import format_datetime
from extensions import db
from models import AdminUser, utcnow
from models.bounds import InvalidInput, time_zone_names


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(time_zone_names())]


class ProfileView(SecureBaseView):
    permission = None  # any signed-in admin, for their own account only

    def is_visible(self) -> bool:
        return False  # reached from the navbar (the admin's name)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        admin = db.session.get(AdminUser, current_user.id)
        if request.method == "POST":
            try:
                set_time_zone(db.session, admin, request.form.get("time_zone", ""))
                db.session.commit()
            except InvalidInput as exc:
                db.session.rollback()
                flash(f"Nothing was saved: {exc.message}", "error")
            else:
                flash(f"Times are now shown in {admin.time_zone}.", "success")
            return redirect(url_for(".index"))
        return self.render("admin/profile.html", admin=admin, zones=time_zone_choices(),
                           now=format_datetime(utcnow()))
