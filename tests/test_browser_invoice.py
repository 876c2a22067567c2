"""The newcomer's money flow in a real browser (headless Chromium, Playwright, CSRF on), on the
built-in Test gateway with jobs run in-process: Add Payment (partial), Attempt Capture of the rest,
then Cancel & Refund from the order page."""

import pytest

from extensions import db
from models import Gateway
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def card_order(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="money@example.com")
        db.session.add(Gateway(name="testgateway", display_name="Card (Test gateway)", module="testgateway"))
        order = factories.make_order(gateway="testgateway")  # 15.00, Unpaid
        data = dict(email=admin.email, order_id=order.id, invoice_id=order.invoice.id)
        db.session.commit()
    with serving(app) as base:
        yield base, data


def test_add_payment_attempt_capture_then_cancel_and_refund(card_order):
    from playwright.sync_api import expect

    base, data = card_order
    with browser_page() as page:
        try:
            log_in(page, base, data["email"])
            page.goto(f"{base}/admin/invoices/details/?id={data['invoice_id']}")
            page.fill("#payment-amount", "5.00")
            page.fill("#payment-transaction-id", "COUNTER-1")
            page.click("#add-payment-form button[type=submit]")
            expect(page.locator(".alert-success")).to_contain_text("payment added")
            expect(page.locator("#invoice-balance")).to_have_text("10.00")
            expect(page.locator("#invoice-status")).to_have_text("Unpaid")

            page.click("text=Attempt Capture")
            expect(page.locator(".alert-success")).to_contain_text("capture requested")
            page.reload()  # the capture ran right after the commit (embedded jobs)
            expect(page.locator("#invoice-status")).to_have_text("Paid")
            expect(page.locator("#invoice-balance")).to_have_text("0.00")
            expect(page.locator("#invoice-transactions")).to_contain_text("Captured by Attempt Capture")

            page.goto(f"{base}/admin/orders/details/?id={data['order_id']}")
            page.click("#order-actions button:has-text('Cancel & Refund')")
            expect(page.locator(".alert-success")).to_contain_text("cancelled (refunds requested)")
            page.goto(f"{base}/admin/invoices/details/?id={data['invoice_id']}")
            expect(page.locator("#invoice-status")).to_have_text("Refunded")
            expect(page.locator("#invoice-balance")).to_have_text("15.00")
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "invoice-flow.png"), full_page=True)
            raise
