"""Bulk Send Message in a real browser (headless Chromium, Playwright, CSRF on): tick orders on the
grid, write a message with merge fields, preview it for one client, send it; then every order
matching a filter."""

import pytest
from sqlalchemy import select

from extensions import db
from models import EmailLog, OrderStatus
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="mailer@example.com")
        orders = [factories.make_order(client=factories.make_client(first_name=name))
                  for name in ("Ada", "Bob", "Cy")]
        dee = factories.make_client(first_name="Dee")
        active = factories.make_order(status=OrderStatus.ACTIVE, client=dee)
        data = {"email": admin.email, "ticked": [(o.id, o.order_number) for o in orders[:2]],
                "active": active.id}
        db.session.commit()
    with serving(app) as base:
        yield base, app, data


def sent_logs(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.execute(select(EmailLog.order_id, EmailLog.subject, EmailLog.body)
                                  .where(EmailLog.template == "Mass Mail").order_by(EmailLog.id)).all()
        db.session.remove()
        return [tuple(row) for row in rows]


def test_tick_orders_preview_and_send_a_message_then_all_matching(served, tmp_path):
    from playwright.sync_api import expect

    base, app, data = served
    with browser_page() as page:
        log_in(page, base, data["email"])
        page.goto(f"{base}/admin/orders/")
        for order_id, _ in data["ticked"]:
            page.check(f"input.action-checkbox[value='{order_id}']")
        page.click("a.dropdown-toggle:has-text('With selected')")
        page.click("a.dropdown-item:text-is('Send Message…')")
        expect(page.locator("#mass-mail-selection")).to_contain_text("2 selected order(s)")
        page.fill("#mass-mail-subject", "Hello {{ client_first_name }}")
        page.fill("#mass-mail-body", "Your order {{ order_number }} is on its way.")
        page.click("#mass-mail-preview")
        first_id, first_number = data["ticked"][0]
        expect(page.locator("#preview-subject")).to_have_text("Hello Ada")
        expect(page.locator("#preview-body")).to_have_text(f"Your order {first_number} is on its way.")
        expect(page.locator("#mass-mail-recipients")).to_have_text("2")
        assert sent_logs(app) == []  # the preview sent nothing
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "mass-mail-preview.png"), full_page=True)
        page.click("#mass-mail-send")  # its confirm() is accepted by the test browser
        expect(page.locator(".alert")).to_contain_text("Message queued for 2 client(s)")
        logs = sent_logs(app)
        assert [(order_id, subject) for order_id, subject, _ in logs] == [
            (first_id, "Hello Ada"), (data["ticked"][1][0], "Hello Bob")]
        assert logs[0][2] == f"Your order {first_number} is on its way."

        # Every order matching a filter: the Active one only.
        page.goto(f"{base}/admin/orders/?flt0_status_equals=Active&all_matching=1")
        page.select_option("#select-all-matching select[name=action]", "mass_mail")
        page.click("#apply-to-all")  # opens the page: no confirmation yet
        expect(page.locator("#mass-mail-selection")).to_contain_text(
            "every order matching Status equals Active")
        page.select_option("#mass-mail-template", "Order Confirmation")
        page.click("#mass-mail-preview")
        expect(page.locator("#mass-mail-recipients")).to_have_text("1")
        expect(page.locator("#mass-mail-preview-card")).to_contain_text("Dee")
        page.screenshot(path=str(ARTIFACTS / "mass-mail-all-matching.png"), full_page=True)
        page.click("#mass-mail-send")
        expect(page.locator(".alert")).to_contain_text("Message queued for 1 client(s)")
    with app.app_context():
        [log] = db.session.scalars(select(EmailLog).where(EmailLog.template == "Order Confirmation")).all()
        assert log.order_id == data["active"]
        db.session.remove()
