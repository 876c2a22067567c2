"""Edit forms of an order's records (services, domains, invoices) go through the domain."""

from flask_login import current_user
from wtforms.validators import ValidationError

from actions.actor import Actor
from actions.record_edits import record_edit
from actions.transitions import TransitionError
from extensions import db


class AuditedEditMixin:
    """Edit forms of an order's records: each accepted change is written on the order's timeline
    with the admin and before -> after (actions.record_edits), under the order's lock."""

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:
            return
        try:
            record_edit(db.session, model, Actor.admin(current_user))
        except TransitionError as exc:
            raise ValidationError(exc.message) from None
