"""A setup list whose saves and deletes its action checks (actions/currencies.py,
actions/order_statuses.py): the action's refusal is the form's error, and nothing is written."""

from wtforms.validators import ValidationError

from admin.base import SecureModelView
from extensions import db


class ActionCheckedView(SecureModelView):
    # Set by each view: check(session, model) and delete(session, model) raise `refusal` to refuse.
    check = delete = None
    refusal: type[Exception] = Exception

    def on_model_change(self, form, model, is_created):
        try:
            self.check(db.session, model)
        except self.refusal as exc:
            raise ValidationError(str(exc)) from None

    def delete_model(self, model):
        try:
            self.delete(db.session, model)
        except self.refusal as exc:
            db.session.rollback()
            self.handle_view_exception(ValidationError(str(exc)))
            return False
        db.session.commit()
        self.after_model_delete(model)
        return True
