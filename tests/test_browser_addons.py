"""Add New Order with addons in a real browser (headless Chromium, CSRF on): the chosen product
offers its own addons as tick boxes, the live total equals preview_order, quantity 2 gives each
service the addons, the order page lists them under their services, and accept runs the addon's
module create."""

from decimal import Decimal

import pytest

from actions.cart import Cart, CartProduct
from actions.place import preview_order
from extensions import db
from models import BillingCycle, Order, ServiceStatus
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving, shown_money

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="orders@example.com")
        ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
        hosting = factories.make_product(name="Starter Hosting", prices={
            BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "0.00")})
        vps = factories.make_product(name="Cloud VPS", prices={BillingCycle.MONTHLY: ("24.50", "0.00")})
        backups = factories.make_addon([hosting], {BillingCycle.MONTHLY: ("3.00", "1.50")}, module="manual",
                                       name="Nightly Backups")
        factories.make_addon([hosting], {BillingCycle.ONE_TIME: ("20.00", "0.00")}, name="Site Migration")
        factories.make_addon([vps], {BillingCycle.MONTHLY: ("9.00", "0.00")}, name="Managed Firewall")
        data = dict(email=admin.email, client_id=ada.id, hosting=hosting.id, vps=vps.id, backups=backups.id)
        db.session.commit()
    with serving(app) as base:
        yield base, app, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def test_add_new_order_with_addons_then_accept_runs_the_addon_create(shop, page):
    from playwright.sync_api import expect

    base, app, data = shop
    cart = Cart(client_id=data["client_id"], payment_method="banktransfer",
                products=[CartProduct(data["hosting"], BillingCycle.MONTHLY, quantity=2,
                                      addon_ids=[data["backups"]])])
    with app.app_context():
        quote = preview_order(db.session, cart)
        db.session.rollback()
    assert not quote.errors and quote.total == 2 * (Decimal("15.00") + Decimal("4.50"))

    log_in(page, base, data["email"])
    page.goto(f"{base}/admin/add-order/?client_id={data['client_id']}")
    page.select_option("#payment_method", "banktransfer")
    row = page.locator(".product-row[data-row='0']")
    expect(row.locator(".addon-choice:visible")).to_have_count(0)  # no product chosen yet
    page.select_option("select[name='products-0-product_id']", str(data["vps"]))
    expect(row.locator(".addon-choice:visible")).to_have_count(1)
    expect(row.locator(".addon-choice:visible")).to_contain_text("Managed Firewall")
    page.select_option("select[name='products-0-product_id']", str(data["hosting"]))
    expect(row.locator(".addon-choice:visible")).to_have_count(2)
    page.select_option("select[name='products-0-billing_cycle']", "Monthly")
    page.fill("input[name='products-0-quantity']", "2")
    row.locator(f"input[name='products-0-addon_ids'][value='{data['backups']}']").check()

    expect(page.locator("#preview-total")).to_have_text(str(quote.total))
    expect(page.locator("#preview-lines")).to_contain_text("Addon: Nightly Backups (Monthly)")
    # Nightly Backups is sold monthly only: on Annually the error shows by the addons, and no total.
    page.select_option("select[name='products-0-billing_cycle']", "Annually")
    error = page.locator(".live-error[data-error-for='products-0-addon_ids']")
    expect(error).to_have_text("Nightly Backups is not offered with the Annually billing cycle.")
    expect(error).to_be_visible()
    expect(page.locator("#preview-total")).to_have_text("—")
    page.select_option("select[name='products-0-billing_cycle']", "Monthly")
    expect(page.locator("#preview-total")).to_have_text(str(quote.total))
    expect(error).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "add-order-addons.png"), full_page=True)

    page.click("button:text-is('Submit Order')")
    expect(page.locator(".alert-success")).to_contain_text("placed")
    expect(page.locator("tr:has(th:text-is('Total')) td")).to_have_text(shown_money(quote.total))
    expect(page.locator("tr.order-addon")).to_have_count(2)
    expect(page.locator("tr.order-addon").first).to_contain_text("Nightly Backups")
    expect(page.locator("tr.order-addon").first).to_contain_text("Pending")

    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        assert order.amount == quote.total
        assert [[a.addon_id for a in s.addons] for s in order.services] == [[data["backups"]]] * 2
        addon_ids = [a.id for a in order.addons]

    for addon_id in addon_ids:  # ticked by default: the addon's auto-setup is on accept
        expect(page.locator(f"input[name='addon-{addon_id}-run_create']")).to_be_checked()
    page.click("button[data-verb=accept]")
    expect(page.locator(".alert-success")).to_contain_text("accepted")
    expect(page.locator("tr.order-addon .item-status")).to_have_text(["Active", "Active"])
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        assert [a.status for a in order.addons] == [ServiceStatus.ACTIVE] * 2
