"""Form fields and validators every admin form shares."""

from flask_admin.contrib.sqla.validators import Unique
from wtforms import PasswordField
from wtforms.validators import Optional, ValidationError


class UniqueValue(Unique):
    """Flask-Admin's unique check, with a message naming the value ("... X already exists")."""

    def __init__(self, original: Unique, template: str):
        super().__init__(original.db_session, original.model, original.column)
        self.template = template

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except ValidationError:
            raise ValidationError(self.template.format(value=field.data)) from None


class SecretField(PasswordField):
    """Write-only: never rendered back; left blank it keeps the stored value."""

    def __init__(self, label=None, **kwargs):
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("description", "Write-only. Leave blank to keep the stored value.")
        super().__init__(label, **kwargs)

    def populate_obj(self, obj, name):
        if self.data:
            setattr(obj, name, self.data)
