"""The seed's flow in a real browser (headless Chromium, CSRF on, side effects in-process): a Fraud
order is Set Back to Pending (its invoice Unpaid again), the admin Attempts Capture on the invoice
with the Test gateway, the invoice is Paid, the on_payment service is set up, the order stays
Pending until the admin Accepts it."""

import pytest

from extensions import db
from models import AutoSetup, Gateway, InvoiceStatus, Order, OrderStatus, ServiceStatus
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving, shown_money

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="paid-setup@example.com")
        db.session.add(Gateway(name="testgateway", display_name="Test gateway", module="testgateway"))
        product = factories.make_product(name="Instant Hosting", auto_setup=AutoSetup.ON_PAYMENT)
        order = factories.make_order(status=OrderStatus.FRAUD, services=(ServiceStatus.FRAUD,),
                                     product=product,
                                     invoice_status=InvoiceStatus.CANCELLED, gateway="testgateway")
        data = {"email": admin.email, "order": order.id, "service": order.services[0].id}
        db.session.commit()
    with serving(app) as base:
        yield base, app, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def test_fraud_back_to_pending_then_capture_then_setup_then_accept(served, page):
    from playwright.sync_api import expect

    base, app, data = served
    service = f"#service-{data['service']} .item-status"
    log_in(page, base, data["email"])
    page.goto(f"{base}/admin/orders/details/?id={data['order']}")
    expect(page.locator("#order-status")).to_have_text("Fraud")

    page.click("button[data-verb=set_pending]")
    expect(page.locator("#order-status")).to_have_text("Pending")
    expect(page.locator(service)).to_have_text("Pending")

    page.click("a[href*='/admin/invoices/details/']")
    expect(page.locator("#invoice-status")).to_have_text("Unpaid")
    page.click("button:has-text('Attempt Capture')")
    expect(page.locator("#invoice-status")).to_have_text("Paid")
    expect(page.locator("#invoice-balance")).to_have_text(shown_money(0))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invoice-captured.png"), full_page=True)

    page.click("#invoice-summary a:has-text('order')")
    expect(page.locator(service)).to_have_text("Active")  # on_payment: set up when paid
    expect(page.locator("#order-status")).to_have_text("Pending")  # ... and left for review
    expect(page.locator("#timeline")).to_contain_text("Paid setup")
    page.click("button[data-verb=accept]")
    expect(page.locator("#order-status")).to_have_text("Active")
    page.screenshot(path=str(ARTIFACTS / "order-paid-setup-accepted.png"), full_page=True)
    with app.app_context():
        assert db.session.get(Order, data["order"]).status == OrderStatus.ACTIVE
