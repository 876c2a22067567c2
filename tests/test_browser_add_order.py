"""Add New Order end to end in a real browser (headless Chromium, Playwright, CSRF on): pick the
client by AJAX search, two products, a domain registration and a promo code, watch the live total,
submit, and land on the new order with the right total and its invoice."""

import threading
from decimal import Decimal

import pytest

from actions.cart import Cart, CartDomain, CartProduct
from actions.place import preview_order
from extensions import db
from models import BillingCycle, Order, PromotionType
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving, shown_money

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path):
    """A catalog (two products, .com), two clients and a promotion; yields (base_url, app, data)."""
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="orders@example.com")
        ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
        factories.make_client(first_name="Grace", last_name="Hopper", email="grace@example.com")
        hosting = factories.make_product(name="Starter Hosting", prices={
            BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "0.00")})
        vps = factories.make_product(name="Cloud VPS", prices={BillingCycle.MONTHLY: ("24.50", "19.00")})
        factories.make_tld(".com", register="12.00")
        factories.make_promotion(code="SPRING15", type=PromotionType.PERCENTAGE, value="15.00")
        data = dict(email=admin.email, client_id=ada.id, hosting=hosting.id, vps=vps.id,
                    catalog_subtotal=Decimal("10.00") + Decimal("5.00") + Decimal("24.50") + Decimal("19.00")
                    + Decimal("12.00"))
        db.session.commit()
    with serving(app) as base:
        yield base, app, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def test_add_new_order_with_two_products_a_domain_and_a_promo(shop, page):
    from playwright.sync_api import expect

    base, app, data = shop
    # The expected total, priced by the same code the server uses, from the catalog rows.
    cart = Cart(client_id=data["client_id"], payment_method="banktransfer", promo_code="SPRING15",
                products=[CartProduct(data["hosting"], BillingCycle.MONTHLY, domain="ada-lovelace.com"),
                          CartProduct(data["vps"], BillingCycle.MONTHLY)],
                domains=[CartDomain("Register", "ada-lovelace.com", 1)])
    with app.app_context():
        quote = preview_order(db.session, cart)
        db.session.rollback()
    assert not quote.errors and quote.subtotal == data["catalog_subtotal"]
    assert quote.discount > 0 and quote.total == quote.subtotal - quote.discount

    log_in(page, base, data["email"])
    page.click("a.dropdown-toggle:has-text('Orders')")
    page.click("a.dropdown-item:text-is('Add New Order')")
    expect(page.locator("h5:text-is('Products/Services')")).to_be_visible()

    page.fill("#client-search", "love")  # AJAX picker: only Ada matches
    expect(page.locator("#client_id option")).to_have_count(1)
    expect(page.locator("#client_id option")).to_contain_text("Ada Lovelace")
    page.select_option("#payment_method", "banktransfer")

    page.select_option("select[name='products-0-product_id']", str(data["hosting"]))
    page.select_option("select[name='products-0-billing_cycle']", "Monthly")
    page.fill("input[name='products-0-domain']", "ada-lovelace.com")
    page.click("#add-product")
    page.select_option("select[name='products-1-product_id']", str(data["vps"]))
    page.select_option("select[name='products-1-billing_cycle']", "Monthly")
    page.click("#add-domain")
    page.select_option("select[name='domains-0-type']", "Register")
    page.fill("input[name='domains-0-name']", "ada-lovelace.com")
    page.fill("input[name='domains-0-period_years']", "1")

    # Live total: first without the promotion, then with it.
    expect(page.locator("#preview-total")).to_have_text(str(quote.subtotal))
    page.fill("#promo_code", "SPRING15")
    expect(page.locator("#preview-total")).to_have_text(str(quote.total))
    expect(page.locator("#preview-discount")).to_have_text(str(quote.discount))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "add-order.png"), full_page=True)

    page.click("button:text-is('Submit Order')")
    expect(page.locator(".alert-success")).to_contain_text("placed")
    expect(page.locator("tr:has(th:text-is('Total')) td")).to_have_text(shown_money(quote.total))
    invoice_link = page.locator("tr:has(th:text-is('Invoice')) a")
    expect(invoice_link).to_contain_text("Invoice #")
    expect(page.locator("tr:has(th:text-is('Promotion')) td")).to_contain_text("SPRING15")

    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        assert page.url.endswith(f"/admin/orders/details/?id={order.id}")
        assert (order.client_id, order.amount) == (data["client_id"], quote.total)
        assert order.invoice.total == quote.total
        assert len(order.services) == 2 and [d.name for d in order.domains] == ["ada-lovelace.com"]
        assert invoice_link.get_attribute("href").endswith(f"/admin/invoices/details/?id={order.invoice_id}")

    # The navbar's intelligent search finds the new order's client, service and domain by "ada".
    page.fill("#intelligent-search input[name=q]", "ada")
    page.press("#intelligent-search input[name=q]", "Enter")
    expect(page.locator("#search-clients")).to_contain_text("Ada Lovelace")
    expect(page.locator("#search-services")).to_contain_text("Starter Hosting - ada-lovelace.com")
    expect(page.locator("#search-domains")).to_contain_text("ada-lovelace.com")
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
    page.click("#search-clients a:has-text('Ada Lovelace')")
    expect(page.locator("h3")).to_contain_text("Ada Lovelace")


class HoldFirstPreview:
    """WSGI middleware: once armed, the next preview request waits until released, so its answer
    arrives after the answers to newer requests."""

    def __init__(self, app):
        self.app, self.armed, self.holding, self.release = app, False, threading.Event(), threading.Event()

    def __call__(self, environ, start_response):
        if self.armed and environ["PATH_INFO"].endswith("/add-order/preview/"):
            self.armed = False
            self.holding.set()
            self.release.wait(timeout=10)
        return self.app(environ, start_response)


def test_live_total_shows_row_errors_and_drops_answers_that_arrive_late(shop, page):
    """The answer to an older request arrives after a newer one was shown: the page keeps the newer
    total. A row the server cannot price shows its error and no total at all."""
    from playwright.sync_api import expect

    base, app, data = shop
    log_in(page, base, data["email"])
    page.goto(f"{base}/admin/add-order/?client_id={data['client_id']}")
    expect(page.locator("#preview-incomplete")).to_be_visible()  # nothing chosen yet: no total

    hold = HoldFirstPreview(app.wsgi_app)
    app.wsgi_app, hold.armed = hold, True
    try:
        page.select_option("select[name='products-0-product_id']", str(data["vps"]))
        assert hold.holding.wait(timeout=10), "the VPS preview request reached the server"
        page.select_option("select[name='products-0-product_id']", str(data["hosting"]))
        page.select_option("select[name='products-0-billing_cycle']", "Annually")
        expect(page.locator("#preview-total")).to_have_text("100.00")  # the hosting, annually
    finally:
        hold.release.set()  # the stale answer (the VPS: 43.50) arrives last
        app.wsgi_app = hold.app
    page.wait_for_load_state("networkidle")
    expect(page.locator("#preview-total")).to_have_text("100.00")

    page.fill("input[name='products-0-quantity']", "0")
    expect(page.locator("#preview-total")).to_have_text("—")
    expect(page.locator("[data-error-for='products-0-quantity']")).to_contain_text("Quantity must be between")
    expect(page.locator("#preview-incomplete")).to_be_visible()
    page.fill("input[name='products-0-quantity']", "2")
    expect(page.locator("#preview-total")).to_have_text("200.00")
    expect(page.locator("[data-error-for='products-0-quantity']")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "add-order-live-total.png"), full_page=True)
