"""Add New Order in a real browser (headless Chromium): a product that comes with a domain takes it
once - Register / Transfer / use existing on the product row, with the years, the EPP code and the
domain addons beside it - and the product's custom fields show on its row (an error next to the
field). The live total equals preview_order; the order page shows the domain and the answers."""

from decimal import Decimal

import pytest

from actions.cart import Cart, CartDomain, CartProduct
from actions.place import preview_order
from extensions import db
from models import BillingCycle, CustomField, CustomFieldType, Order
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving, shown_money

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        admin = factories.make_admin(email="orders@example.com")
        ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
        hosting = factories.make_product(name="Starter Hosting", requires_domain=True, prices={
            BillingCycle.MONTHLY: ("10.00", "5.00")})
        other = factories.make_product(name="Other Plan", prices={BillingCycle.MONTHLY: ("3.00", "0.00")})
        factories.make_tld(".com", register="12.00", transfer="9.00", addons=("2.00", "1.00", "4.00"))
        fields = [
            CustomField(applies_to="product", product=hosting, name="Site reference", required=True,
                        validation=r"[A-Z]{3}-\d{4}", sort_order=1),
            CustomField(applies_to="product", product=hosting, name="Control panel",
                        field_type=CustomFieldType.DROPDOWN, options="cPanel,Plesk", sort_order=2),
            CustomField(applies_to="product", product=other, name="Other's field", required=True),
        ]
        db.session.add_all(fields)
        db.session.commit()
        data = dict(email=admin.email, client_id=ada.id, hosting=hosting.id, other=other.id,
                    reference=fields[0].id, panel=fields[1].id)
    with serving(app) as base:
        yield base, app, data


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def test_the_domain_is_typed_once_with_its_addons_and_the_custom_fields_reach_the_order(shop, page):
    from playwright.sync_api import expect

    base, app, data = shop
    answers = {data["reference"]: "ADA-2026", data["panel"]: "Plesk"}
    cart = Cart(client_id=data["client_id"], payment_method="banktransfer",
                products=[CartProduct(data["hosting"], BillingCycle.MONTHLY, domain="ada-lovelace.com",
                                      custom_fields=answers)],
                domains=[CartDomain("Transfer", "ada-lovelace.com", 1, epp_code="EPP-1234",
                                    dns_management=True, id_protection=True)])
    with app.app_context():
        quote = preview_order(db.session, cart)
        db.session.rollback()
    # 10 + 5 setup, the transfer 9 with DNS management 2 and ID protection 4.
    assert not quote.errors and quote.total == Decimal("30.00")

    log_in(page, base, data["email"])
    page.goto(f"{base}/admin/add-order/?client_id={data['client_id']}")
    page.select_option("#payment_method", "banktransfer")
    row = page.locator(".product-row[data-row='0']")
    row.locator("select[name='products-0-product_id']").select_option(str(data["hosting"]))
    # Only this product's fields show; the other product's stay hidden (and are never posted).
    expect(row.locator(".custom-field-choice:visible")).to_have_count(2)
    page.select_option("select[name='products-0-billing_cycle']", "Monthly")
    page.fill("input[name='products-0-domain']", "ada-lovelace.com")
    expect(row.locator("input[name='products-0-domain_epp_code']")).to_be_hidden()
    row.locator("select[name='products-0-domain_type']").select_option("Transfer")
    expect(row.locator("input[name='products-0-domain_epp_code']")).to_be_visible()
    page.fill("input[name='products-0-domain_epp_code']", "EPP-1234")
    row.locator("input[name='products-0-domain_dns_management']").check()
    row.locator("input[name='products-0-domain_id_protection']").check()
    page.select_option(f"select[name='products-0-customfield-{data['panel']}']", "Plesk")

    # The required reference in the wrong format: its error shows next to it, no total.
    page.fill(f"input[name='products-0-customfield-{data['reference']}']", "ada")
    expect(row.locator(f"[data-error-for='products-0-customfield-{data['reference']}']")).to_contain_text(
        "Site reference: the value is not in the expected format.")
    expect(page.locator("#preview-total")).to_have_text("—")
    page.fill(f"input[name='products-0-customfield-{data['reference']}']", "ADA-2026")
    expect(page.locator("#preview-total")).to_have_text(str(quote.total))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "add-order-domain-once.png"), full_page=True)

    page.click("button:text-is('Submit Order')")
    expect(page.locator(".alert-success")).to_contain_text("placed")
    expect(page.locator("tr:has(th:text-is('Total')) td")).to_have_text(shown_money(quote.total))
    answers_row = page.locator(".order-custom-fields")
    expect(answers_row).to_contain_text("Site reference: ADA-2026")
    expect(answers_row).to_contain_text("Control panel: Plesk")

    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        assert order.amount == quote.total
        (service,) = order.services
        (domain,) = order.domains
        assert service.domain == domain.name == "ada-lovelace.com"
        assert (domain.type, domain.epp_code, domain.dns_management, domain.id_protection,
                domain.email_forwarding) == ("Transfer", "EPP-1234", True, True, False)
        assert {v.field_id: v.value for v in service.custom_field_values} == answers
