"""The everyday pages in a real browser (headless Chromium, Playwright, CSRF on): the dashboard,
the review queue cleared with the keyboard only, and an export download."""

import pytest

from extensions import db
from models import Order, OrderStatus
from tests import factories
from tests.browser_support import ARTIFACTS, TIMEOUT_MS, browser_app, browser_page, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="daily@example.com")
        orders = [factories.make_order() for _ in range(3)]
        factories.make_order(status=OrderStatus.ACTIVE, invoice_status="Paid", paid=True)
        data = {"email": admin.email, "pending": [o.id for o in orders]}
        db.session.commit()
    with serving(app) as base:
        yield base, app, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def test_dashboard_then_clear_the_queue_with_the_keyboard_then_export(served, page, tmp_path):
    from playwright.sync_api import expect

    base, app, data = served
    log_in(page, base, data["email"])
    expect(page.locator("#figure-pending")).to_have_text("3")
    expect(page.locator("#chart-orders svg")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.click("#dashboard-figures a:has-text('Review queue')")
    first, second, third = data["pending"]
    expect(page.locator("#queue-order")).to_have_attribute("data-order-id", str(first))
    page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)
    page.wait_for_load_state()  # the queue's key handler is attached at the end of the page
    page.keyboard.press("a")  # accept
    expect(page.locator("#queue-order")).to_have_attribute("data-order-id", str(second), timeout=TIMEOUT_MS)
    page.wait_for_load_state()  # the queue's key handler is attached at the end of the page
    page.keyboard.press("c")  # cancel (the confirm() is accepted by the test browser)
    expect(page.locator("#queue-order")).to_have_attribute("data-order-id", str(third), timeout=TIMEOUT_MS)
    page.wait_for_load_state()  # the queue's key handler is attached at the end of the page
    page.keyboard.press("f")  # set as fraud
    expect(page.locator("#queue-empty")).to_be_visible(timeout=TIMEOUT_MS)
    with app.app_context():
        statuses = [db.session.get(Order, order_id).status for order_id in data["pending"]]
    assert statuses == [OrderStatus.ACTIVE, OrderStatus.CANCELLED, OrderStatus.FRAUD]

    page.goto(f"{base}/admin/orders/?flt0_status_equals=Cancelled")
    page.click("#export-menu a.dropdown-toggle")
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "orders.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.count("\n") == 2 and "Cancelled" in text  # the header and the one cancelled order
