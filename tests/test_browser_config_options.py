"""Add New Order with an addon, two configurable options and a custom field in a real browser
(headless Chromium, CSRF on): the chosen product shows its own option controls and fields, the live
total equals preview_order, an out-of-range quantity shows its error next to the field, the order
page lists the addon, the options and the custom field's answer under their service, and accept
runs the addon's module create.

The form is filled by STEPS, one per kind of per-product choice (addons, configurable options,
custom fields); each adds its part of the cart that preview_order prices."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.cart import Cart, CartProduct
from actions.place import preview_order
from extensions import db
from models import (
    BillingCycle,
    ConfigOptionType,
    CustomField,
    Order,
    ServiceStatus,
    SideEffect,
    SideEffectStatus,
)
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving, shown_money

pytestmark = pytest.mark.browser
M = BillingCycle.MONTHLY


@pytest.fixture
def shop(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="orders@example.com")
        ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
        vps = factories.make_product(name="Cloud VPS", prices={M: ("20.00", "5.00")})
        other = factories.make_product(name="Starter Hosting", prices={M: ("10.00", "0.00")})
        backups = factories.make_addon([vps], {M: ("3.00", "1.50")}, module="manual", name="Nightly Backups")
        group = factories.make_option_group([vps], [
            ("Memory", ConfigOptionType.DROPDOWN, {"2 GB": {M: ("0.00", "0.00")},
                                                   "8 GB": {M: ("12.00", "4.00")}}, 0, 0),
            ("Extra IPs", ConfigOptionType.QUANTITY, {"IPv4 address": {M: ("1.50", "0.25")}}, 0, 4),
        ])
        factories.make_option_group([other], [
            ("Region", ConfigOptionType.RADIO, {"EU": {}, "US": {}}, 0, 0)])
        memory, ips = group.options
        reference = CustomField(applies_to="product", product=vps, name="Project code", required=True,
                                validation=r"[A-Z]{2}-\d{3}")
        db.session.add(reference)
        db.session.flush()
        data = dict(email=admin.email, client_id=ada.id, vps=vps.id, other=other.id, backups=backups.id,
                    memory=memory.id, eight_gb=memory.choices[1].id, ips=ips.id, reference=reference.id)
        db.session.commit()
    with serving(app) as base:
        yield base, app, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def addon_step(page, row, data):
    row.locator(f"input[name='products-0-addon_ids'][value='{data['backups']}']").check()
    return {"addon_ids": [data["backups"]]}


def options_step(page, row, data):
    memory, ips = (f"products-0-config_options-{data[k]}" for k in ("memory", "ips"))
    page.select_option(f"select[name='{memory}']", str(data["eight_gb"]))
    page.fill(f"input[name='{ips}']", "3")
    return {"config_options": {data["memory"]: data["eight_gb"], data["ips"]: 3}}


def custom_field_step(page, row, data):
    from playwright.sync_api import expect

    name = f"products-0-customfield-{data['reference']}"
    page.fill(f"input[name='{name}']", "ab-1")  # not the pattern: its error next to the field
    expect(row.locator(f"[data-error-for='{name}']")).to_contain_text("Project code")
    page.fill(f"input[name='{name}']", "AB-123")
    expect(row.locator(f"[data-error-for='{name}']")).to_have_count(0)
    return {"custom_fields": {data["reference"]: "AB-123"}}


STEPS = [addon_step, options_step, custom_field_step]


def check_order_page(page, order, data):
    service = order.services[0]
    options = page.locator(f"#service-{service.id}-options")
    assert "Memory" in options.inner_text() and "Extra IPs" in options.inner_text()
    assert options.locator(f"select[name='option-{data['memory']}']").input_value() == str(data["eight_gb"])
    assert options.locator(f"input[name='option-{data['ips']}']").input_value() == "3"
    assert "Project code: AB-123" in page.locator(".order-custom-fields").inner_text()
    assert {v.field_id: v.value for v in service.custom_field_values} == {data["reference"]: "AB-123"}


def test_add_new_order_with_an_addon_two_options_and_a_custom_field(shop, page):
    from playwright.sync_api import expect

    base, app, data = shop
    log_in(page, base, data["email"])
    page.goto(f"{base}/admin/add-order/?client_id={data['client_id']}")
    page.select_option("#payment_method", "banktransfer")
    row = page.locator(".product-row[data-row='0']")
    expect(row.locator(".config-option:visible")).to_have_count(0)  # no product chosen yet
    page.select_option("select[name='products-0-product_id']", str(data["other"]))
    expect(row.locator(".config-option:visible")).to_have_count(1)
    expect(row.locator(".config-option:visible")).to_contain_text("Region")
    page.select_option("select[name='products-0-product_id']", str(data["vps"]))
    expect(row.locator(".config-option:visible")).to_have_count(2)
    page.select_option("select[name='products-0-billing_cycle']", "Monthly")
    line = {}
    for step in STEPS:
        line.update(step(page, row, data))

    cart = Cart(client_id=data["client_id"], payment_method="banktransfer",
                products=[CartProduct(data["vps"], M, **line)])
    with app.app_context():
        quote = preview_order(db.session, cart)
        db.session.rollback()
    # 20 + 5 setup, 8 GB 12 + 4, 3 IPs 4.50 + 0.75, backups 3 + 1.50.
    assert not quote.errors and quote.total == Decimal("50.75")
    expect(page.locator("#preview-total")).to_have_text(str(quote.total))
    expect(page.locator("#preview-lines")).to_contain_text("Memory: 8 GB, Extra IPs: 3 x IPv4 address")

    # Out of range: the error next to the quantity, no total; back in range, the total again.
    ips = f"products-0-config_options-{data['ips']}"
    page.fill(f"input[name='{ips}']", "5")
    error = page.locator(f".live-error[data-error-for='{ips}']")
    expect(error).to_have_text("Extra IPs must be between 0 and 4.")
    expect(page.locator("#preview-total")).to_have_text("—")
    page.fill(f"input[name='{ips}']", "3")
    expect(page.locator("#preview-total")).to_have_text(str(quote.total))
    expect(error).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "add-order-config-options.png"), full_page=True)

    page.click("button:text-is('Submit Order')")
    expect(page.locator(".alert-success")).to_contain_text("placed")
    expect(page.locator("tr:has(th:text-is('Total')) td")).to_have_text(shown_money(quote.total))
    expect(page.locator("tr.order-addon")).to_have_count(1)
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.amount == quote.total
        assert {r.option_id: r.choice_id if r.option_id == data["memory"] else r.quantity
                for r in order.services[0].config_options} == line["config_options"]
        check_order_page(page, order, data)
        addon_id = order.addons[0].id

    expect(page.locator(f"input[name='addon-{addon_id}-run_create']")).to_be_checked()
    page.click("button[data-verb=accept]")
    expect(page.locator(".alert-success")).to_contain_text("accepted")
    expect(page.locator("tr.order-addon .item-status")).to_have_text(["Active"])
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.addons[0].status == ServiceStatus.ACTIVE
        create = db.session.scalar(select(SideEffect).where(SideEffect.kind == "addon_create"))
        assert create.target_id == addon_id and create.status == SideEffectStatus.SUCCEEDED
