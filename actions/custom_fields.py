"""Custom fields: checking a field's definition when it is saved, checking answers, storing them.

    pattern_problem(pattern) -> message | None        a validation pattern the catalog may keep
    answer_problem(field, value) -> (clean, message)  one answer against its field's type and rules
    check_cart_fields(session, cart, quote) -> errors the cart's answers, per product line
    add_service_answers(session, services, quotes, cart)   one row per answer per service placed
    client_answer_problems(session, answers, client_id)    AddClient / a client edit
    set_answers(owner, fields, answers)               write (or clear) answers on a service or client
    module_custom_fields(service) -> {name: value}    what a server module sees (passwords in clear)
    custom_field_secrets(owner) -> [str]              the clear passwords, for redaction

Answers arrive keyed by field id (the form, WHMCS's AddOrder). Errors are keyed by the form's
names, `products-<line>-customfield-<id>`, so each shows next to its control. Admin-only fields are
never required when an order is placed (the storefront does not ask them) but may be filled.

Patterns are Python regular expressions matched against the whole answer (re.fullmatch). An
answer is bounded (MAX_VALUE_LENGTH) before a pattern sees it, and a pattern whose matching time
can explode (a repeat inside an unbounded repeat, an alternation under one, a back-reference) is
refused when saved, so no answer can make a match run away.
"""

import re
from collections.abc import Iterable, Mapping

# The parser re.compile itself uses (private, stable since 3.11): read a pattern's structure.
from re import _constants as sre_constants  # noqa: E402
from re import _parser as sre_parse  # noqa: E402

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.cart import Cart, product_field
from models import Client, CustomField, CustomFieldOwner, CustomFieldType, CustomFieldValue, Service
from models.bounds import has_forbidden_characters
from models.custom_fields import (
    MAX_FIELDS_PER_OWNER,
    MAX_PATTERN_LENGTH,
    MAX_TEXTAREA_LENGTH,
    MAX_VALUE_LENGTH,
)

TICKED = "on"  # WHMCS stores a ticked box as "on"
_TICK_WORDS = {"on", "1", "yes", "true"}
_UNTICK_WORDS = {"", "0", "off", "no", "false"}
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def cart_field(line: int, field_id: int | str) -> str:
    return product_field(line, f"customfield-{field_id}")


def client_field(field_id: int | str) -> str:
    return f"customfield-{field_id}"


# --- the catalog ---------------------------------------------------------------------------------


def _explosive(parsed, inside_unbounded: bool = False) -> bool:
    """True when matching may backtrack exponentially: nested repeats under an unbounded one,
    an alternation under one, or a back-reference (which no bound on the answer tames)."""
    for op, arg in parsed:
        if op == sre_constants.GROUPREF or op == sre_constants.GROUPREF_EXISTS:
            return True
        if op in _REPEATS:
            low, high, body = arg
            unbounded = high == sre_constants.MAXREPEAT or high > 1000
            if inside_unbounded and high > 1:
                return True
            if _explosive(body, inside_unbounded or unbounded):
                return True
        elif op == sre_constants.SUBPATTERN:
            if _explosive(arg[-1], inside_unbounded):
                return True
        elif op == sre_constants.BRANCH:
            if inside_unbounded:
                return True
            if any(_explosive(branch, inside_unbounded) for branch in arg[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            if _explosive(arg[1], inside_unbounded):
                return True
    return False


def pattern_problem(pattern: str) -> str | None:
    if not pattern:
        return None
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"The validation pattern is longer than {MAX_PATTERN_LENGTH} characters."
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"The validation pattern is not a valid regular expression ({exc})."
    if _explosive(parsed):
        return ("The validation pattern nests repeats (like (a+)+), repeats an alternation or uses a "
                "back-reference: matching could take very long. Write it without.")
    return None


def field_definition_problems(field: CustomField) -> dict[str, str]:
    """What is wrong with a field about to be saved, by column."""
    problems = {}
    found = pattern_problem(field.validation or "")
    if found:
        problems["validation"] = found
    if field.field_type not in set(CustomFieldType):
        problems["field_type"] = "Choose one of: " + ", ".join(CustomFieldType) + "."
    if field.field_type == CustomFieldType.DROPDOWN and not field.choices:
        problems["options"] = "A dropdown needs its options, separated by commas."
    if field.applies_to == CustomFieldOwner.PRODUCT and field.product_id is None and field.product is None:
        problems["product"] = "Choose the product this field belongs to."
    if field.applies_to == CustomFieldOwner.CLIENT and (field.product_id is not None or field.product):
        problems["product"] = "A client field belongs to no product."
    return problems


# --- answers -------------------------------------------------------------------------------------


def answer_problem(field: CustomField, value: str | None, *, placing: bool = False) -> tuple[str, str | None]:
    """The answer as stored and the reason it cannot be (None when it can).

    `placing`: an order being placed, where an admin-only field may stay empty though required."""
    kind = field.field_type
    value = "" if value is None else str(value)
    if kind != CustomFieldType.TEXTAREA and kind != CustomFieldType.PASSWORD:
        value = value.strip()
    limit = MAX_TEXTAREA_LENGTH if kind == CustomFieldType.TEXTAREA else MAX_VALUE_LENGTH
    if len(value) > limit:
        return "", f"{field.name}: at most {limit} characters."
    if has_forbidden_characters(value, line_breaks=kind == CustomFieldType.TEXTAREA):
        return "", f"{field.name}: remove the control characters."
    if kind == CustomFieldType.TICKBOX:
        word = value.lower()
        if word not in _TICK_WORDS | _UNTICK_WORDS:
            return "", f"{field.name}: tick the box or leave it empty."
        value = TICKED if word in _TICK_WORDS else ""
    if not value:
        if field.required and not (placing and field.admin_only):
            return "", f"{field.name} is required." if kind != CustomFieldType.TICKBOX else \
                f"{field.name} must be ticked."
        return "", None
    if kind == CustomFieldType.DROPDOWN and value not in field.choices:
        return "", f"{field.name}: choose one of {', '.join(field.choices)}."
    if kind == CustomFieldType.LINK and not _LINK.fullmatch(value):
        return "", f"{field.name}: enter a web address starting with http:// or https://."
    if field.validation and len(value) <= MAX_VALUE_LENGTH and not _matches(field.validation, value):
        return "", f"{field.name}: the value is not in the expected format."
    return value, None


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # a pattern stored before the check existed: refuse rather than 500
        return False


def _fields(session: Session, query) -> list[CustomField]:
    return list(session.scalars(query.order_by(CustomField.sort_order, CustomField.id)))


def product_fields(session: Session, product_ids: Iterable[int]) -> dict[int, list[CustomField]]:
    ids = sorted({i for i in product_ids if i})
    found: dict[int, list[CustomField]] = {i: [] for i in ids}
    if ids:
        for field in _fields(session, select(CustomField).where(CustomField.product_id.in_(ids))):
            found[field.product_id].append(field)
    return found


def client_fields(session: Session) -> list[CustomField]:
    return _fields(session, select(CustomField).where(CustomField.applies_to == CustomFieldOwner.CLIENT))


def check_answers(
    fields: list[CustomField], answers: Mapping[int, str], name_of, *, placing: bool,
    all_fields: Mapping[int, CustomField] | None = None,
) -> tuple[dict[int, str], dict[str, list[str]]]:
    """Each field's stored answer, and the errors (unknown ids, wrong owner, bad answers)."""
    own = {f.id: f for f in fields}
    errors: dict[str, list[str]] = {}
    if len(answers) > MAX_FIELDS_PER_OWNER:
        return {}, {name_of("customfields"): [f"At most {MAX_FIELDS_PER_OWNER} custom fields."]}
    for field_id in answers:
        if field_id not in own:
            other = (all_fields or {}).get(field_id)
            errors.setdefault(name_of("customfields"), []).append(
                f"Custom field {field_id} ({other.name}) belongs to another product." if other
                else f"Unknown custom field {field_id}.")
    clean = {}
    for field in fields:
        value, problem = answer_problem(field, answers.get(field.id), placing=placing)
        if problem:
            errors.setdefault(name_of(f"customfield-{field.id}"), []).append(problem)
        elif value:
            clean[field.id] = value
    return clean, errors


def check_cart_fields(session: Session, cart: Cart, products: Mapping[int, object]) -> dict[str, list[str]]:
    """Every product line's answers against its product's fields (`products`: line -> Product)."""
    lines = [(i, line) for i, line in enumerate(cart.products) if i in products]
    by_product = product_fields(session, (products[i].id for i, _ in lines))
    asked = {fid for _, line in lines for fid in line.custom_fields}
    others = {f.id: f for f in session.scalars(select(CustomField).where(
        CustomField.id.in_(asked), CustomField.applies_to == CustomFieldOwner.PRODUCT))} if asked else {}
    errors: dict[str, list[str]] = {}
    for i, line in lines:
        _, found = check_answers(by_product[products[i].id], line.custom_fields,
                                  lambda name, i=i: product_field(i, name), placing=True, all_fields=others)
        for name, messages in found.items():
            errors.setdefault(name, []).extend(messages)
    return errors


def set_answers(owner: Service | Client, fields: list[CustomField], answers: Mapping[int, str]) -> dict:
    """Write each field's (already checked) answer on the owner; {field name: {from, to}} of what
    changed, a password's sides as "(changed)"."""
    from actions.record_edits import HIDDEN  # the edit events' word for a secret

    current = {v.field_id: v for v in owner.custom_field_values}
    changes = {}
    for field in fields:
        new = answers.get(field.id, "")
        row = current.get(field.id)
        old = row.answer if row is not None else ""
        if new == old:
            continue
        if row is None:
            row = CustomFieldValue(field=field)
            owner.custom_field_values.append(row)
        if field.is_secret:
            row.secret, row.value = (new or None), ""
        else:
            row.value = new
        changes[field.name] = {"from": HIDDEN, "to": HIDDEN} if field.is_secret else {"from": old, "to": new}
    return changes


def answer_columns(field: CustomField, value: str) -> dict:
    """The value / secret columns of one stored answer (a password's goes in the encrypted one)."""
    return {"value": "", "secret": value} if field.is_secret else {"value": value, "secret": None}


def add_service_answers(session: Session, services: list[Service], quotes, cart: Cart) -> int:
    """Each placed service gets its cart line's answers (N copies of a line: the same answers)."""
    by_product = product_fields(session, (q.product.id for q in quotes))
    written = 0
    for service, quote in zip(services, quotes, strict=True):
        fields = by_product[quote.product.id]
        answers, _ = check_answers(fields, cart.products[quote.line].custom_fields, str, placing=True)
        for field in fields:
            if field.id in answers:
                session.add(CustomFieldValue(field=field, service=service,
                                             **answer_columns(field, answers[field.id])))
                written += 1
    return written


def client_answer_problems(
    session: Session, answers: Mapping[int, str], *, placing: bool = True
) -> tuple[list[CustomField], dict[int, str], dict[str, list[str]]]:
    """A new client's answers (AddClient, Add New Order's new client): fields, clean answers, errors."""
    fields = client_fields(session)
    clean, errors = check_answers(fields, answers, client_field, placing=placing)
    return fields, clean, errors


def shown_text(row: CustomFieldValue) -> str:
    """An answer as the pages show it: a password as dots, never in clear."""
    return "********" if row.field.is_secret and row.secret else row.value


def shown_answers(rows: Iterable[CustomFieldValue]) -> list[tuple[CustomField, str]]:
    """(field, text to show) of the given answers, in the fields' order."""
    rows = sorted(rows, key=lambda v: (v.field.sort_order, v.field_id))
    return [(v.field, shown_text(v)) for v in rows if v.value or v.secret]


def module_custom_fields(service: Service) -> dict[str, str]:
    """WHMCS's `customfields` module parameter: field name -> answer (a password decrypted)."""
    return {v.field.name: v.answer for v in sorted(service.custom_field_values, key=lambda v: v.field_id)}


def custom_field_secrets(owner: Service | Client) -> list[str]:
    return [v.secret for v in owner.custom_field_values if v.field.is_secret and v.secret]
