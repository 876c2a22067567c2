"""Setup > Currencies: codes, prefixes and suffixes, formats and exchange rates (typed by hand),
which one is the default (actions/currencies.py says what may change)."""

from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from actions.currencies import CurrencyError, check_currency, delete_currency
from admin.guarded_views import ActionCheckedView
from models import Permission
from models.bounds import InvalidInput, parse_rate
from models.currency import FORMAT_LABELS


def _rate(form, field) -> None:
    try:
        field.data = parse_rate(field.data)
    except InvalidInput as exc:
        raise ValidationError(str(exc)) from None


class CurrencyView(ActionCheckedView):
    check, delete = staticmethod(check_currency), staticmethod(delete_currency)
    refusal = CurrencyError
    permission = create_permission = edit_permission = delete_permission = Permission.CONFIGURE_CURRENCIES

    column_list = ("code", "prefix", "suffix", "format", "rate", "is_default")
    column_labels = {"rate": "Rate (1 of the default buys)", "is_default": "Default"}
    column_formatters = {"format": lambda view, context, model, name: FORMAT_LABELS.get(model.format, "")}
    column_default_sort = ("code", False)
    form_columns = ("code", "prefix", "suffix", "format", "rate", "is_default")
    form_overrides = {"format": SelectField, "rate": StringField}
    form_args = {
        "code": {"description": "ISO 4217, e.g. EUR: what gateways charge in and emails show."},
        "prefix": {"description": "Written before amounts, e.g. €."},
        "suffix": {"description": "Written after amounts, e.g. \" EUR\"."},
        "format": {"choices": [(int(f), label) for f, label in FORMAT_LABELS.items()], "coerce": int},
        "rate": {"validators": [_rate], "default": "1",
                 "description": "How much of this currency 1 of the default buys (the default: 1). "
                                "Orders keep the rate of the day they were placed."},
        "is_default": {"description": "Making another currency the default re-expresses every rate "
                                      "against it."},
    }
