"""Custom fields in place_order: each type's answers, required and admin-only fields, patterns,
refusals that write nothing (every table counted), passwords encrypted at rest, the catalog's
pattern check."""

import pytest
from sqlalchemy import func, select, text

from actions.actor import Actor
from actions.cart import Cart, CartProduct, PlacementError
from actions.custom_fields import answer_problem, module_custom_fields, pattern_problem, shown_answers
from actions.place import place_order, preview_order
from models import Base, BillingCycle, CustomField, CustomFieldOwner, CustomFieldType, CustomFieldValue
from tests import factories

PRICES = {BillingCycle.MONTHLY: ("10.00", "0.00")}
VAT = {"validation": r"[A-Z]{2}\d{6,10}"}


def make_field(product=None, name=None, field_type=CustomFieldType.TEXT, **kw) -> CustomField:
    from extensions import db

    field = CustomField(
        applies_to=CustomFieldOwner.PRODUCT if product is not None else CustomFieldOwner.CLIENT,
        product=product, name=name or f"Field {factories.next_number()}", field_type=field_type, **kw)
    db.session.add(field)
    db.session.flush()
    return field


def row_counts(session) -> dict[str, int]:
    session.flush()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def cart(client, product, answers, quantity=1) -> Cart:
    return Cart(client_id=client.id, payment_method="banktransfer",
                products=[CartProduct(product.id, BillingCycle.MONTHLY, quantity=quantity,
                                      custom_fields=answers)])


# (type, extra columns, answer, stored answer or None when refused, message part)
VALIDATION = [
    (CustomFieldType.TEXT, {}, "  hello ", "hello", None),
    (CustomFieldType.TEXT, {"required": True}, "", None, "is required"),
    (CustomFieldType.TEXT, {"required": True, "admin_only": True}, "", "", None),
    (CustomFieldType.TEXT, {"admin_only": True}, "filled by admin", "filled by admin", None),
    (CustomFieldType.TEXT, VAT, "GB123456", "GB123456", None),
    (CustomFieldType.TEXT, VAT, "GB12", None, "not in the expected format"),
    (CustomFieldType.TEXT, VAT, "xGB123456", None, "not in the expected format"),
    (CustomFieldType.TEXT, {}, "x" * 1001, None, "at most 1000 characters"),
    (CustomFieldType.TEXT, {}, "bad\x00byte", None, "control characters"),
    (CustomFieldType.TEXTAREA, {}, "line one\nline two", "line one\nline two", None),
    (CustomFieldType.DROPDOWN, {"options": "CentOS, Debian,Ubuntu"}, "Debian", "Debian", None),
    (CustomFieldType.DROPDOWN, {"options": "CentOS, Debian,Ubuntu"}, "Windows", None, "choose one of"),
    (CustomFieldType.TICKBOX, {}, "1", "on", None),
    (CustomFieldType.TICKBOX, {}, "", "", None),
    (CustomFieldType.TICKBOX, {"required": True}, "", None, "must be ticked"),
    (CustomFieldType.TICKBOX, {}, "maybe", None, "tick the box"),
    (CustomFieldType.PASSWORD, {"required": True}, "s3cret-root pass", "s3cret-root pass", None),
    (CustomFieldType.PASSWORD, {"validation": r".{12,}"}, "short", None, "not in the expected format"),
    (CustomFieldType.LINK, {}, "https://example.com/x?y=1", "https://example.com/x?y=1", None),
    (CustomFieldType.LINK, {}, "javascript:alert(1)", None, "web address"),
]


@pytest.mark.parametrize(("field_type", "columns", "answer", "stored", "message"), VALIDATION)
def test_each_type_required_pattern_and_admin_only(session, field_type, columns, answer, stored, message):
    product = factories.make_product(prices=PRICES)
    field = make_field(product, field_type=field_type, **columns)
    client = factories.make_client()
    session.commit()
    the_cart = cart(client, product, {field.id: answer})
    if message is None:
        assert not preview_order(session, the_cart).errors
        order = place_order(session, the_cart, Actor.system())
        (service,) = order.services
        values = {v.field_id: v for v in service.custom_field_values}
        assert (values[field.id].answer if field.id in values else "") == stored
        return
    errors = preview_order(session, the_cart).errors
    assert message in " ".join(errors[f"products-0-customfield-{field.id}"])
    before = row_counts(session)
    with pytest.raises(PlacementError) as caught:
        place_order(session, the_cart, Actor.system())
    session.rollback()
    assert message in " ".join(caught.value.errors[f"products-0-customfield-{field.id}"])
    assert row_counts(session) == before


def test_unknown_field_and_field_of_another_product_are_refused_and_change_nothing(session):
    product = factories.make_product(prices=PRICES)
    other = factories.make_product(prices=PRICES)
    make_field(product, name="Hostname")
    theirs = make_field(other, name="Licence key")
    client = factories.make_client()
    session.commit()
    for answers, message in [({999999: "x"}, "Unknown custom field 999999."),
                             ({theirs.id: "x"}, "Licence key) belongs to another product.")]:
        before = row_counts(session)
        with pytest.raises(PlacementError) as caught:
            place_order(session, cart(client, product, answers), Actor.system())
        session.rollback()
        assert message in " ".join(caught.value.errors["products-0-customfields"])
        assert row_counts(session) == before


def test_every_service_of_a_quantity_gets_the_answers_and_passwords_are_encrypted_at_rest(session):
    product = factories.make_product(prices=PRICES)
    hostname = make_field(product, name="Hostname", required=True, sort_order=1)
    root = make_field(product, name="Root password", field_type=CustomFieldType.PASSWORD, sort_order=2)
    client = factories.make_client()
    session.commit()
    order = place_order(session, cart(client, product, {hostname.id: "srv1.example.com",
                                                         root.id: "Tr0ub4dor&3-root"}, quantity=2),
                        Actor.system())
    session.commit()
    assert len(order.services) == 2
    for service in order.services:
        assert module_custom_fields(service) == {"Hostname": "srv1.example.com",
                                                 "Root password": "Tr0ub4dor&3-root"}
        # The page's view never shows the password in clear.
        assert [(f.name, shown) for f, shown in shown_answers(service.custom_field_values)] == [
            ("Hostname", "srv1.example.com"), ("Root password", "********")]
    raw = session.execute(text("SELECT value, secret FROM custom_field_values WHERE field_id = :f"),
                          {"f": root.id}).all()
    assert len(raw) == 2
    for value, secret in raw:
        assert value == "" and secret and "Tr0ub4dor" not in secret
    assert session.scalar(select(func.count()).select_from(CustomFieldValue)) == 4


@pytest.mark.parametrize(("pattern", "message"), [
    ("", None),
    (r"[A-Z]{2}\d+", None),
    (r"(foo|bar)-\d{1,4}", None),
    (r"([a-z]", "not a valid regular expression"),
    (r"(a+)+$", "matching could take very long"),
    (r"(a|aa)*", "matching could take very long"),
    (r"(\w+)\1", "matching could take very long"),
    ("a" * 256, "longer than 255"),
])
def test_patterns_are_compiled_and_checked_when_saved(pattern, message):
    found = pattern_problem(pattern)
    assert (found is None) if message is None else (message in found)


def test_a_stored_pattern_never_matches_an_answer_past_its_bound():
    # Bounded before matching: a long answer is refused by length, not fed to the pattern.
    field = CustomField(name="Code", field_type=CustomFieldType.TEXT, validation=r"a*", options="")
    assert answer_problem(field, "a" * 1000) == ("a" * 1000, None)
    assert "at most 1000" in answer_problem(field, "a" * 1001)[1]
