"""Bulk Send Message on the orders grid (WHMCS's mass mail).

"Send Message…" in the "With selected" menu and under "Select all matching" opens a page where the
admin chooses an email template or writes a subject and message with merge fields, previews it for
the first client, then sends it: one message per client, queued through the outbox
(actions.mass_mail). Every step is a POST to the grid's action URL carrying the same selection (the
ticked rows, or "all matching" with the list's query string, whose filters must all apply). Needs
*Mass Mail*.
"""

from flask import current_app, flash, request
from flask_login import current_user

from actions.actor import Actor
from actions.errors import TransitionError
from actions.mass_mail import mass_mail_templates, mass_message, preview_mass_mail, send_mass_mail
from admin.base import has_permission
from admin.redirects import redirect_target
from extensions import db
from models import Permission
from models.bounds import InvalidInput

ACTION = "mass_mail"
LABEL = "Send Message…"

# Shown on the page as a reminder; jobs.mail.merge_fields is what fills them in.
MERGE_FIELDS = ("client_name", "client_first_name", "client_last_name", "client_email", "client_company_name",
                "order_number", "order_date", "order_total", "order_payment_method", "order_items",
                "invoice_id", "invoice_total", "invoice_status", "company_name", "signature")


class MassMailMixin:
    page_actions = (ACTION,)  # opens its own page (with its own confirmation): no "apply to all" confirm

    def init_actions(self):
        super().init_actions()
        self._actions.append((ACTION, LABEL))
        self._actions_data[ACTION] = (self._mass_mail, LABEL, None)

    def is_action_allowed(self, name):
        if name == ACTION:
            return has_permission(Permission.MASS_MAIL)
        return super().is_action_allowed(name)

    def _mass_mail(self, ids):
        target = self._bulk_target(ids)  # None: a filter of "all matching" could not be applied (flashed)
        if target is None:
            return None
        all_matching = request.form.get("all_matching") == "1"
        selection = ("every order matching " + self.matching_description() if all_matching
                     else f"{len(ids)} selected order(s)")
        form = request.form
        step = form.get("step", "")
        limit = int(current_app.config["MASS_MAIL_MAX_RECIPIENTS"])
        page = dict(ids=[] if all_matching else ids, all_matching=all_matching, selection=selection,
                    templates=mass_mail_templates(db.session), chosen=form.get("template", ""),
                    subject=form.get("subject", ""), body=form.get("body", ""), merge_fields=MERGE_FIELDS,
                    limit=limit, action=ACTION, preview=None, error=None,
                    return_url=redirect_target() or self.get_url(".index_view"))
        if step in ("preview", "send"):
            try:
                message = mass_message(db.session, page["chosen"], page["subject"], page["body"])
                if step == "send":
                    sent = send_mass_mail(db.session, target, message, Actor.admin(current_user), selection,
                                          limit)
                    db.session.commit()
                    flash(f"Message queued for {sent:,} client(s), one each; every one is in the email log.",
                          "success")
                    return None  # back to the grid
                page["preview"] = preview_mass_mail(db.session, target, message, limit)
            except (InvalidInput, TransitionError) as exc:
                db.session.rollback()
                page["error"] = exc.message
        return self.render("admin/mass_mail.html", **page)
