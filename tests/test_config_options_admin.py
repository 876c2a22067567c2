"""The admin faces of configurable options: the catalog forms (groups with options, choices with
prices per cycle), their bounds and field errors, and the permission they need."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionGroup,
    ConfigOptionPrice,
    ConfigOptionType,
    default_currency,
)
from tests import factories


@pytest.fixture
def web(admin_client, session):
    session.commit()
    return admin_client


def _group_form(product_id: int, **overrides) -> dict:
    data = {"name": "VPS options", "description": "", "products": str(product_id),
            "options-0-name": "IPs", "options-0-type": "Quantity", "options-0-min_quantity": "1",
            "options-0-max_quantity": "8", "options-0-sort_order": "0"}
    data.update(overrides)
    return data


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_the_group_form_creates_a_group_with_its_options_and_products(web, session):
    product = factories.make_product()
    session.commit()
    response = web.post("/admin/config-options/new/", data=_group_form(product.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    group = session.scalar(select(ConfigOptionGroup))
    assert group.name == "VPS options" and [p.id for p in group.products] == [product.id]
    assert [(o.name, o.type, o.min_quantity, o.max_quantity) for o in group.options] == [
        ("IPs", "Quantity", 1, 8)]
    listing = web.get("/admin/config-options/").get_data(as_text=True)
    assert "VPS options" in listing and "IPs (Quantity)" in listing


@pytest.mark.parametrize(("field", "value", "message"), [
    ("options-0-type", "Slider", "Option type must be one of"),
    ("options-0-max_quantity", "0", "The maximum cannot be below the minimum."),
    ("options-0-min_quantity", "-1", "Enter a whole number from 0 to 10,000."),
    ("options-0-max_quantity", "10000000000", "Enter a whole number from 0 to 10,000."),
    ("options-0-max_quantity", "many", "Not a valid integer value"),
    ("name", "", "Enter the group&#39;s name."),
])
def test_bad_group_input_is_refused_next_to_the_field_and_writes_nothing(web, session, field, value, message):
    product = factories.make_product()
    session.commit()
    response = web.post("/admin/config-options/new/", data=_group_form(product.id, **{field: value}))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(session, ConfigOptionGroup) == 0 and _count(session, ConfigOption) == 0


def _option(session):
    product = factories.make_product()
    group = factories.make_option_group([product], [("RAM", ConfigOptionType.DROPDOWN, {}, 0, 0)])
    session.commit()
    return group.options[0]


def _usd(session) -> str:
    return str(default_currency(session).id)


def test_the_choice_form_prices_a_choice_per_cycle(web, session):
    option = _option(session)
    response = web.post("/admin/config-option-choices/new/", data={
        "option": str(option.id), "name": "4 GB", "sort_order": "1",
        "prices-0-cycle": "Monthly", "prices-0-price": "4.00", "prices-0-setup_fee": "2.00",
        "prices-1-cycle": "Annually", "prices-1-price": "40.00", "prices-1-setup_fee": "0.00",
        "prices-0-currency": _usd(session), "prices-1-currency": _usd(session)})
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    choice = session.scalar(select(ConfigOptionChoice))
    assert choice.option_id == option.id and choice.name == "4 GB"
    assert [(p.cycle, p.price, p.setup_fee) for p in choice.prices] == [
        ("Monthly", Decimal("4.00"), Decimal("2.00")), ("Annually", Decimal("40.00"), Decimal("0.00"))]
    assert "Monthly: USD 4.00 + 2.00 setup" in web.get("/admin/config-option-choices/").get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("prices-0-price", "-1.00", "cannot be negative"),
    ("prices-0-setup_fee", "1.005", "at most two decimal"),
    ("prices-0-cycle", "Weekly", "Billing cycle must be one of"),
    ("option", "999999", "Unknown option"),
    ("sort_order", "99999999999", "Enter a whole number from 0 to 1,000,000."),
])
def test_bad_choice_input_is_refused_and_writes_nothing(web, session, field, value, message):
    option = _option(session)
    data = {"option": str(option.id), "name": "4 GB", "sort_order": "0",
            "prices-0-cycle": "Monthly", "prices-0-price": "4.00", "prices-0-setup_fee": "0.00",
            "prices-0-currency": _usd(session)}
    response = web.post("/admin/config-option-choices/new/", data={**data, field: value})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _count(session, ConfigOptionChoice) == 0 and _count(session, ConfigOptionPrice) == 0


def test_changing_the_catalog_needs_its_permission(client_as, sales_admin, session):
    """A Sales Operator sees the option groups (View Products/Services) but cannot change them."""
    product = factories.make_product()
    session.commit()
    web = client_as(sales_admin)
    assert web.get("/admin/config-options/").status_code == 200
    response = web.post("/admin/config-options/new/", data=_group_form(product.id))
    assert response.status_code in (302, 403)
    assert _count(session, ConfigOptionGroup) == 0
