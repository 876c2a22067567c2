"""The order lifecycle in a real browser: headless Debian Chromium driven by Playwright.

The app is served by werkzeug on 127.0.0.1 (ephemeral port) with CSRF on, over a SQLite file.
Run it alone with `pytest -m browser tests/test_browser.py`; CHROMIUM_PATH overrides /usr/bin/chromium.
"""

import pytest

from extensions import db
from models import AutoSetup, OrderStatus, Server
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    """The app on a free port, with an admin and four pending orders; yields (base_url, data)."""
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="browser@example.com")
        db.session.add(Server(name="web-01", module="manual"))
        product = factories.make_product(name="Starter Hosting", auto_setup=AutoSetup.ON_ACCEPT)
        orders = [factories.make_order(product=product) for _ in range(4)]
        data = {"email": admin.email, "orders": [(o.id, o.order_number, o.services[0].id) for o in orders]}
        db.session.commit()
    with serving(app) as base:
        yield base, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def test_accept_an_order_then_bulk_cancel_three(served, page):
    from playwright.sync_api import expect

    base, data = served
    (order_id, order_number, service_id), *others = data["orders"]

    log_in(page, base, data["email"])
    expect(page.locator("#pending-orders-badge")).to_have_text("4")

    # Orders > Pending, then the order's page.
    page.click("a.dropdown-toggle:has-text('Orders')")
    page.click("a.dropdown-item:text-is('Pending')")
    page.click(f"a[href*='details/?id={order_id}']")
    expect(page.locator("h4")).to_contain_text(str(order_number))

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "order-page-pending.png"), full_page=True)

    # Accept with Run Module Create: the manual module runs in-process after the commit.
    page.check(f"#service-{service_id}-run_create")
    page.select_option(f"select[name='service-{service_id}-server_id']", label="web-01")
    page.click("button[data-verb=accept]")
    expect(page.locator(".alert-success")).to_contain_text(f"Order #{order_number} accepted.")
    expect(page.locator(f"#service-{service_id} .item-status")).to_have_text("Active")
    expect(page.locator("#order-status")).to_have_text(OrderStatus.ACTIVE.value)
    expect(page.locator("#timeline")).to_contain_text("Order accepted")
    expect(page.locator("#side-effects")).to_contain_text("succeeded")
    page.screenshot(path=str(ARTIFACTS / "order-page.png"), full_page=True)

    # Back on the pending list: tick the three other orders and bulk-cancel them.
    page.click("a.dropdown-toggle:has-text('Orders')")
    page.click("a.dropdown-item:text-is('Pending')")
    for other_id, _, _ in others:
        page.check(f"input.action-checkbox[value='{other_id}']")
    page.screenshot(path=str(ARTIFACTS / "order-list.png"), full_page=True)
    page.click("a.dropdown-toggle:has-text('With selected')")
    page.click("a.dropdown-item:text-is('Cancel Order')")
    expect(page.locator(".alert")).to_contain_text("3 changed, 0 refused")
    expect(page.locator("#pending-orders-badge")).to_have_count(0)
