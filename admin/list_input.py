"""What a list's URL may ask, for every admin list (SecureModelView): filters that cannot be applied
are errors, never silently dropped, and ids are parsed to the primary key's range.

Flask-Admin drops a filter it cannot use - an unknown name (?flt0_nonsense_equals=1), a value its
validate() refuses ("abc" for an id, a mistyped status group) - and lists everything, so
"select all matching" would widen to the whole table. Here every `flt<N>_<name>` parameter is
either applied or reported:

    parse_list_filters(view, args) -> ListFilters(applied, errors, described)
        applied: Flask-Admin's (index, name, value) tuples, in URL order
        errors: one message per filter that cannot be applied (the list then matches nothing)
        described: "Status group equals pending", one per applied filter (for confirmations)

A value is refused when the filter's own validate() refuses it, when the filter has a fixed list of
options and the value is not one of them, or when it does not fit the column (an integer beyond
INTEGER/BIGINT, an amount beyond NUMERIC(16,2)).

    primary_key_value(model, raw) -> value | None      the model's id from a URL or form, or None
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.model import filters as base_filters
from sqlalchemy import Integer, Numeric, String

from models.base import Money
from models.bounds import MAX_MONEY, integer_range, parse_money, whole_number

_FILTER_ARG = re.compile(r"^flt(\d{1,4})_(.+)$")
_LIST_FILTERS = (base_filters.BaseIntListFilter, base_filters.BaseFloatListFilter, sqla_filters.FilterInList)
_SHOWN_VALUE = 40


@dataclass
class ListFilters:
    applied: list[tuple] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    described: list[str] = field(default_factory=list)


def parse_list_filters(view, args) -> ListFilters:
    result = ListFilters()
    known = view._filter_args or {}
    found = []
    for arg in args:
        if not arg.startswith("flt"):
            continue
        match = _FILTER_ARG.match(arg)
        if match is None or match.group(2) not in known:
            result.errors.append(f"Unknown filter {_shown(arg)}: this list has no such filter.")
            continue
        values = args.getlist(arg)
        index, flt = known[match.group(2)]
        label = f"{flt.name} {flt.operation()}"
        if len(values) > 1:
            result.errors.append(f"Filter {label} is given {len(values)} times; give it once.")
            continue
        refusal = filter_value_refusal(view, flt, values[0])
        if refusal:
            result.errors.append(f"Filter {label}: {refusal}")
            continue
        found.append((int(match.group(1)), (index, str(flt.name), values[0]), f"{label} {values[0]}"))
    found.sort(key=lambda item: item[0])
    result.applied = [item[1] for item in found]
    result.described = [item[2] for item in found]
    return result


def filter_value_refusal(view, flt, value: str) -> str | None:
    """Why `value` cannot be applied with this filter, or None."""
    bad = f"{_shown(value)} is not a valid value."
    try:
        if not flt.validate(value):
            return bad
        values = flt.clean(value) if isinstance(flt, _LIST_FILTERS) else [value]
    except (ValueError, TypeError, ArithmeticError):
        return bad
    options = flt.get_options(view)
    if options:
        allowed = {str(key) for key, _ in options}
        wrong = [v for v in map(str, values) if v not in allowed]
        if wrong:
            return f"{_shown(wrong[0])} is not one of its choices."
    column_type = getattr(getattr(flt, "column", None), "type", None)
    if isinstance(column_type, Money):  # whatever the filter's class: an amount the column can hold
        cleaned = flt.clean(value)
        return _numbers_refusal(cleaned if isinstance(cleaned, list) else [cleaned], column_type)
    plain = type(flt) in (sqla_filters.FilterEqual, sqla_filters.FilterNotEqual, sqla_filters.FilterInList,
                          sqla_filters.FilterNotInList)  # the text filters, put on an integer column
    if isinstance(flt, (base_filters.BaseIntFilter, base_filters.BaseIntListFilter)) or (
            plain and isinstance(column_type, Integer)):
        return _integers_refusal(values, column_type)
    if isinstance(flt, (base_filters.BaseFloatFilter, base_filters.BaseFloatListFilter)):
        return _numbers_refusal(values, column_type)
    return None


def _integers_refusal(values, column_type) -> str | None:
    lowest, highest = integer_range(column_type)
    for raw in values:
        if whole_number(str(raw), minimum=lowest, maximum=highest) is None:
            return f"{_shown(raw)} is not a whole number between {lowest:,} and {highest:,}."
    return None


def _numbers_refusal(values, column_type) -> str | None:
    limit = MAX_MONEY
    if isinstance(column_type, Numeric) and not isinstance(column_type, Money) and column_type.precision:
        limit = Decimal(10) ** (column_type.precision - (column_type.scale or 0))
    for raw in values:
        number = _decimal(raw)
        if number is None or not number.is_finite() or abs(number) > limit:
            return f"{_shown(raw)} is not a number within ±{limit:,}."
    return None


def _decimal(raw) -> Decimal | None:
    if isinstance(raw, Decimal):
        return raw
    try:
        return Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())
    except InvalidOperation:
        return None


def _shown(value) -> str:
    text = str(value)
    return repr(text if len(text) <= _SHOWN_VALUE else text[:_SHOWN_VALUE] + "...")


# --- money filters: the value is a Decimal, as exact as the column --------------------------------

class _MoneyValue:
    def clean(self, value):
        return parse_money(value, allow_negative=True)


class _MoneyValues:
    def clean(self, value):
        return [parse_money(v, allow_negative=True) for v in value.split(",") if v.strip()]


def money_filters(column, name, **kwargs) -> list:
    """Flask-Admin's number filters for a Money column, comparing exact Decimals (not floats)."""
    classes = [
        type("MoneyEqualFilter", (_MoneyValue, sqla_filters.FloatEqualFilter), {}),
        type("MoneyNotEqualFilter", (_MoneyValue, sqla_filters.FloatNotEqualFilter), {}),
        type("MoneyGreaterFilter", (_MoneyValue, sqla_filters.FloatGreaterFilter), {}),
        type("MoneySmallerFilter", (_MoneyValue, sqla_filters.FloatSmallerFilter), {}),
        sqla_filters.FilterEmpty,
        type("MoneyInListFilter", (_MoneyValues, sqla_filters.FloatInListFilter), {}),
        type("MoneyNotInListFilter", (_MoneyValues, sqla_filters.FloatNotInListFilter), {}),
    ]
    return [cls(column, name, **kwargs) for cls in classes]


# --- ids --------------------------------------------------------------------------------------------

def primary_key_value(model, raw):
    """The primary key `raw` names (a URL's ?id=, a posted rowid), parsed to the column's type and
    range; None when it cannot name a row (then the view says "does not exist", never a 500)."""
    columns = model.__mapper__.primary_key
    if len(columns) != 1 or raw is None:
        return None
    column_type = columns[0].type
    text = str(raw)
    if isinstance(column_type, Integer):
        return whole_number(text, minimum=1, maximum=integer_range(column_type)[1])
    if isinstance(column_type, String) and column_type.length and len(text) > column_type.length:
        return None
    return text if text else None

