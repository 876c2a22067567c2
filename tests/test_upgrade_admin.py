"""The Upgrade / Downgrade page (admin/upgrades.py): login and Create Upgrade/Downgrade Orders on
every URL, CSRF on the POST, a preview then the order, and hostile input - bad ids, another group's
product, negative and huge values - answered with a clear message (or 404 for a service that is not
there), never a 500, with nothing written."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    BillingCycle,
    ConfigOptionType,
    Order,
    OrderKind,
    OrderStatus,
    ServiceConfigOption,
    ServiceStatus,
    ServiceUpgrade,
    utcnow,
)
from tests import factories
from tests.test_csrf_default import shipped_app

PAGE = "/admin/service-upgrade/"
M = BillingCycle.MONTHLY


def setup_service(status=ServiceStatus.ACTIVE):
    small = factories.make_product(name="Small", prices={M: ("10.00", "0.00")})
    large = factories.make_product(name="Large", prices={M: ("25.00", "0.00")})
    group = factories.make_option_group([small, large], [
        ("IPs", ConfigOptionType.QUANTITY, {"IP": {M: ("2.00", "0.00")}}, 0, 8)])
    ips = group.options[0]
    order = factories.make_order(status=OrderStatus.ACTIVE, services=(status,), product=small)
    service = order.services[0]
    service.next_due_date = service.next_invoice_date = utcnow().date() + timedelta(days=15)
    db.session.add(ServiceConfigOption(service=service, option_id=ips.id, choice_id=ips.choices[0].id,
                                       quantity=0))
    db.session.commit()
    return service, small, large, ips


def written() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Order)),
            db.session.scalar(select(func.count()).select_from(ServiceUpgrade)))


def test_the_service_page_links_to_the_page_and_an_upgrade_order_is_placed(admin_client, session):
    service, small, large, ips = setup_service()
    details = admin_client.get(f"/admin/services/details/?id={service.id}").get_data(as_text=True)
    assert f'href="{PAGE}?id={service.id}"' in details and "Upgrade / Downgrade" in details
    page = admin_client.get(f"{PAGE}?id={service.id}")
    assert page.status_code == 200 and 'id="upgrade-quote"' not in page.get_data(as_text=True)
    preview = admin_client.get(PAGE, query_string={"id": service.id, "product_id": large.id, "cycle": M,
                                                   f"option-{ips.id}": "2"}).get_data(as_text=True)
    assert 'id="quote-new-price">$29.00 USD<' in preview and 'id="upgrade-order-form"' in preview
    placed = admin_client.post(f"{PAGE}order/", data={"id": service.id, "product_id": large.id, "cycle": M,
                                                     f"option-{ips.id}": "2"})
    assert placed.status_code == 302 and "/admin/orders/details/" in placed.headers["Location"]
    order = db.session.scalar(select(Order).where(Order.kind == OrderKind.UPGRADE))
    upgrade = db.session.scalar(select(ServiceUpgrade))
    # (29.00 - 10.00) x 15 / days in the current month's period, however long it is
    assert upgrade.order_id == order.id and upgrade.new_recurring_amount == Decimal("29.00")
    assert order.invoice.total == upgrade.charge > Decimal("0.00")
    order_page = admin_client.get(placed.headers["Location"]).get_data(as_text=True)
    assert 'id="order-upgrade"' in order_page and 'id="upgrade-status">Pending<' in order_page


def test_permission_and_login_are_needed(client_as, support_admin, sales_admin, anon_client, session):
    service, _small, large, _ips = setup_service()
    data = {"id": service.id, "product_id": large.id, "cycle": M}
    assert anon_client.get(f"{PAGE}?id={service.id}").status_code == 302  # to the login page
    support = client_as(support_admin)
    assert support.get(f"{PAGE}?id={service.id}").status_code == 403
    assert support.post(f"{PAGE}order/", data=data).status_code == 403
    details = support.get(f"/admin/services/details/?id={service.id}").get_data(as_text=True)
    assert 'id="service-upgrade-link"' not in details
    assert written() == (1, 0)
    assert client_as(sales_admin).post(f"{PAGE}order/", data=data).status_code == 302  # Sales Operator has it


def test_a_post_without_the_csrf_token_is_refused(app_ctx, database_url, full_admin):
    service, _small, large, _ips = setup_service()
    app = shipped_app(database_url)
    with app.app_context():
        admin = app.test_client(user=full_admin)
        data = {"id": service.id, "product_id": large.id, "cycle": M}
        assert admin.post(f"{PAGE}order/", data=data).status_code == 400
        assert written() == (1, 0)
        page = admin.get(PAGE, query_string=data).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        assert admin.post(f"{PAGE}order/", data={**data, "csrf_token": token}).status_code == 302
        assert written() == (2, 1)
        db.session.remove()


@pytest.mark.parametrize("raw_id", ["", "abc", "0", "-1", "1e3", "9" * 40, "999999"])
def test_a_bad_service_id_is_not_found(admin_client, session, raw_id):
    setup_service()
    assert admin_client.get(PAGE, query_string={"id": raw_id}).status_code == 404
    posted = admin_client.post(f"{PAGE}order/", data={"id": raw_id, "product_id": "1", "cycle": M})
    assert posted.status_code == 404
    assert written() == (1, 0)


def hostile_cases(small, large, other, ips):
    return [
        ({"product_id": "abc"}, "The product must be a whole number"),
        ({"product_id": "9" * 40}, "The product must be"),
        ({"product_id": "-5"}, "The product must be"),
        ({"product_id": "999999"}, "There is no product 999999"),
        ({"product_id": other.id}, "is not in the Shared Hosting product group"),
        ({"product_id": large.id, "cycle": "Weekly"},
         "'Weekly' is not a billing cycle. Choose a billing cycle other than One Time: Monthly, Quarterly"),
        ({"product_id": large.id, "cycle": BillingCycle.ONE_TIME}, "other than One Time: Monthly"),
        ({"product_id": large.id, "cycle": "x" * 5000}, "other than One Time"),
        ({"product_id": large.id, "cycle": BillingCycle.ANNUALLY}, "is not offered with the Annually"),
        ({"product_id": large.id, f"option-{ips.id}": "-3"}, "IPs"),
        ({"product_id": large.id, f"option-{ips.id}": "9" * 30}, "IPs"),
        ({"product_id": large.id, f"option-{ips.id}": "2.5"}, "IPs"),
        ({"product_id": large.id, "option-abc": "1"}, "Unknown configurable option"),
        ({"product_id": small.id}, "Nothing would change"),
    ]


def test_hostile_input_gets_a_message_and_writes_nothing(admin_client, session):
    service, small, large, ips = setup_service()
    other = factories.make_product(name="VPS One", prices={M: ("50.00", "0.00")})
    other.group_name = "VPS"
    db.session.commit()
    for fields, message in hostile_cases(small, large, other, ips):
        data = {"id": service.id, "cycle": M, **fields}
        for response in (admin_client.post(f"{PAGE}order/", data=data),
                         admin_client.get(PAGE, query_string=data)):
            text = response.get_data(as_text=True)
            assert response.status_code == 400, (fields, response.status_code)
            assert message in text.replace("&#39;", "'"), (fields, message)
        assert written() == (1, 0)


def test_a_service_that_is_not_active_is_refused_on_the_page(admin_client, session):
    service, _small, large, _ips = setup_service(ServiceStatus.SUSPENDED)
    page = admin_client.get(f"{PAGE}?id={service.id}").get_data(as_text=True)
    assert "Only an Active service can be upgraded or downgraded; this one is Suspended." in page
    refused = admin_client.post(f"{PAGE}order/", data={"id": service.id, "product_id": large.id, "cycle": M})
    assert refused.status_code == 400
    assert "Only an Active service can be upgraded or downgraded" in refused.get_data(as_text=True)
    assert written() == (1, 0)


def _preview_form(admin_client, query) -> dict:
    """The hidden fields of the preview's Place upgrade order form, as the browser would post them."""
    text = admin_client.get(PAGE, query_string=query).get_data(as_text=True)
    form = text[text.index('id="upgrade-order-form"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_a_stale_preview_form_is_refused_once_the_price_changed(admin_client, session):
    service, _small, large, ips = setup_service()
    form = _preview_form(admin_client, {"id": service.id, "product_id": large.id, "cycle": M,
                                        f"option-{ips.id}": "2"})
    assert Decimal(form["expected_amount"]) > 0
    service.recurring_amount = Decimal("5.00")  # the service changed after the preview was shown
    db.session.commit()
    stale = admin_client.post(f"{PAGE}order/", data=form)
    assert stale.status_code == 400 and "The price changed since the preview" in stale.get_data(as_text=True)
    assert written() == (1, 0)
    garbage = admin_client.post(f"{PAGE}order/", data={**form, "expected_amount": "1e999"})
    assert garbage.status_code == 400 and "The previewed price must be" in garbage.get_data(as_text=True)
    assert written() == (1, 0)
    fresh = _preview_form(admin_client, {"id": service.id, "product_id": large.id, "cycle": M,
                                         f"option-{ips.id}": "2"})
    assert admin_client.post(f"{PAGE}order/", data=fresh).status_code == 302
    assert written() == (2, 1)
