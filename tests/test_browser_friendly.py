"""Issue 13's friendlier details in Chromium: the navbar search suggests as you type, and every
state-changing action asks first (a dismissed question changes nothing)."""

import pytest

from extensions import db
from models import Order, OrderStatus
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    with browser_app(tmp_path / "friendly.db") as app:
        admin = factories.make_admin(email="friendly@example.com")
        grace = factories.make_client(first_name="Grace", last_name="Hopper", email="grace@example.com")
        order = factories.make_order(client=grace)
        db.session.commit()
        data = {"email": admin.email, "order_id": order.id, "order_number": order.order_number}
    with serving(app) as base:
        yield app, base, data


def _status(app, order_id) -> str:
    with app.app_context():
        return db.session.get(Order, order_id).status


def test_search_suggests_as_you_type(served):
    from playwright.sync_api import expect

    app, base, data = served
    with browser_page() as page:
        log_in(page, base, data["email"])
        box = page.locator("#intelligent-search input[name=q]")
        box.press_sequentially("hopp")
        suggestions = page.locator("#search-suggestions.show a.search-suggestion")
        expect(suggestions.first).to_be_visible()
        expect(page.locator("#search-suggestions")).to_contain_text("Grace Hopper <grace@example.com>")
        order_link = page.locator(f"#search-suggestions a:has-text('Order #{data['order_number']}')")
        expect(order_link).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search-suggestions.png"))
        order_link.click()
        expect(page.locator("h4")).to_contain_text(str(data["order_number"]))

        box = page.locator("#intelligent-search input[name=q]")
        box.press_sequentially("zzzz-nobody")
        expect(page.locator("#search-no-suggestion")).to_be_visible()
        box.press("Escape")
        expect(page.locator("#search-suggestions")).not_to_have_class("dropdown-menu show")


def test_actions_ask_first_and_a_dismissed_question_changes_nothing(served):
    from playwright.sync_api import expect

    app, base, data = served
    number = data["order_number"]
    with browser_page(accept_dialogs=False) as page:
        asked = []
        answer = {"accept": False}

        def on_dialog(dialog):
            asked.append(dialog.message)
            if answer["accept"]:
                dialog.accept()
            else:
                dialog.dismiss()

        page.on("dialog", on_dialog)
        log_in(page, base, data["email"])
        page.goto(f"{base}/admin/orders/details/?id={data['order_id']}")

        page.click("button[data-verb=accept]")  # dismissed: still pending
        assert asked == [f"Accept order #{number}?"]
        assert _status(app, data["order_id"]) == OrderStatus.PENDING

        answer["accept"] = True
        page.click("button[data-verb=accept]")
        expect(page.locator(".alert-success")).to_contain_text(f"Order #{number} accepted.")
        assert _status(app, data["order_id"]) == OrderStatus.ACTIVE

        page.click("button[data-verb=set_pending]")
        expect(page.locator(".alert-success")).to_contain_text(f"Order #{number} set back to Pending.")
        page.select_option("#status-form select[name=status]", OrderStatus.FRAUD.value)
        page.click("#change-status")
        expect(page.locator("#order-status")).to_have_text(OrderStatus.FRAUD.value)
        assert asked[-2:] == [f"Set order #{number} back to pending?",
                              f"Change the status of order #{number}? New status: Fraud"]
        page.screenshot(path=str(ARTIFACTS / "confirmed-actions.png"), full_page=True)

        # The grid's bulk change asks too, from the menu under the grid.
        page.goto(f"{base}/admin/orders/")
        page.check(f"input.action-checkbox[value='{data['order_id']}']")
        page.click("#bulk-actions-bottom a.dropdown-toggle")
        page.click("#bulk-actions-bottom a.dropdown-item:text-is('Set Back to Pending')")
        expect(page.locator(".alert-success")).to_contain_text("Set Back to Pending")
        assert asked[-1] == "Set the selected orders back to pending (status only)?"
        assert _status(app, data["order_id"]) == OrderStatus.PENDING
