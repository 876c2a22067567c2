"""Configurable options after the order: shown on the order page and the service page, changed by
an admin through actions.edit_config_options (re-priced recurring amount, an event with before ->
after, the permission, the page's version), refusals changing nothing."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import Actor
from actions.cart import Cart, CartProduct
from actions.edit_config_options import edit_config_options
from actions.events import Verb
from actions.place import place_order
from actions.transitions import TransitionError
from models import BillingCycle, OrderEvent, Service
from tests import factories
from tests.test_config_options_pricing import OPTIONS, PRODUCT_PRICES, row_counts, values
from tests.test_order_page import page, post

D = Decimal
ADMIN = Actor("admin", 1, "Options Editor")


def placed(session, cycle=BillingCycle.MONTHLY, **chosen):
    product = factories.make_product(prices=PRODUCT_PRICES)
    group = factories.make_option_group([product], OPTIONS)
    options = {o.name: o for o in group.options}
    client = factories.make_client()
    cart = Cart(client_id=client.id, payment_method="banktransfer",
                products=[CartProduct(product.id, cycle, config_options=values(options, **chosen))])
    order = place_order(session, cart, ADMIN)
    session.commit()
    return order, order.services[0], options


def test_the_edit_reprices_the_recurring_amount_and_writes_the_event(session):
    order, service, options = placed(session, RAM="4 GB", IPs=2)
    assert service.recurring_amount == D("10.00") + D("4.00") + D("2.50")
    first_payment, invoice_total = service.first_payment_amount, order.invoice.total
    version = order.version
    chosen = values(options, RAM="2 GB", OS="Windows", IPs=5)
    changes = edit_config_options(session, order, service.id, chosen,
                                  ADMIN, expected_version=version)
    session.commit()
    assert changes == {"RAM": {"from": "4 GB", "to": "2 GB"}, "OS": {"from": "Ubuntu", "to": "Windows"},
                       "IPs": {"from": "2 x IP", "to": "5 x IP"}}
    session.expire_all()
    service = session.get(Service, service.id)
    assert {r.option.name: r.value for r in service.config_options} == {
        "RAM": "2 GB", "OS": "Windows", "Backups": 0, "IPs": 5}
    assert service.recurring_amount == D("10.00") + D("15.00") + 5 * D("1.25")
    # The first payment and the invoice already issued are history.
    assert service.first_payment_amount == first_payment and service.order.invoice.total == invoice_total
    assert service.order.version > version
    event = session.scalar(select(OrderEvent).where(OrderEvent.verb == Verb.CONFIG_OPTIONS_EDITED))
    assert event.order_id == order.id and event.actor_name == "Options Editor"
    assert event.details["options"]["IPs"] == {"from": "2 x IP", "to": "5 x IP"}
    assert event.details["recurring_amount"] == {"from": "16.50", "to": "31.25"}


def test_the_edit_keeps_a_promotion_on_the_rest_of_the_amount(session):
    product = factories.make_product(prices=PRODUCT_PRICES)
    options = {o.name: o for o in factories.make_option_group([product], OPTIONS).options}
    promotion = factories.make_promotion(type="Percentage", value="50.00", recurring=True)
    client = factories.make_client()
    cart = Cart(client_id=client.id, payment_method="banktransfer", promo_code=promotion.code,
                products=[CartProduct(product.id, BillingCycle.MONTHLY)])
    order = place_order(session, cart, ADMIN)
    session.commit()
    (service,) = order.services
    assert service.recurring_amount == D("5.62")  # 11.25 less half of it rounded to 5.63
    edit_config_options(session, order, service.id, values(options, Backups=1), ADMIN)
    session.commit()
    assert session.get(Service, service.id).recurring_amount == D("5.62") + D("2.50")


@pytest.mark.parametrize(("chosen", "message"), [
    ({"IPs": 9}, "IPs must be between 1 and 8."),
    ({"Backups": "yes"}, "Backups must be 0 (no) or 1 (yes)."),
    ({999999: 1}, "Unknown configurable option '999999'."),
])
def test_bad_values_are_refused_and_change_nothing(session, chosen, message):
    order, service, options = placed(session)
    ids = {name: o.id for name, o in options.items()}
    before = row_counts(session), service.recurring_amount, order.version
    with pytest.raises(TransitionError) as caught:
        edit_config_options(session, order, service.id, {ids.get(k, k): v for k, v in chosen.items()}, ADMIN)
    session.rollback()
    assert message in caught.value.message
    session.expire_all()
    assert (row_counts(session), session.get(Service, service.id).recurring_amount,
            session.get(type(order), order.id).version) == before


def test_a_stale_page_is_refused(session):
    order, service, options = placed(session)
    with pytest.raises(TransitionError) as caught:
        edit_config_options(session, order.id, service.id, values(options, IPs=3), ADMIN,
                            expected_version=order.version - 1 if order.version > 1 else order.version + 1)
    assert caught.value.code == "stale"


def test_the_order_page_shows_and_saves_the_options(admin_client, session):
    order, service, options = placed(session, OS="Windows", IPs=3)
    html = page(admin_client, order.id)
    assert f'id="service-{service.id}-options"' in html
    assert "Windows</option>" in html and f'name="option-{options["IPs"].id}"' in html
    form = {f"option-{options['IPs'].id}": "4", f"option-{options['Backups'].id}": ["0", "1"],
            "service_id": str(service.id)}
    response = post(admin_client, "/order/config-options/", order, **form)
    assert "configurable options saved" in response.get_data(as_text=True)
    session.expire_all()
    service = session.get(Service, service.id)
    assert {r.option.name: r.value for r in service.config_options}["IPs"] == 4
    assert {r.option.name: r.value for r in service.config_options}["Backups"] == 1
    timeline = page(admin_client, order.id)
    assert "Configurable options of service" in timeline and "IPs: 3 x IP" in timeline
    # The service page lists them too.
    details = admin_client.get(f"/admin/services/details/?id={service.id}").get_data(as_text=True)
    assert "OS: Windows" in details and "IPs: 4 x IP" in details


def test_the_edit_needs_its_permission(client_as, support_admin, session):
    order, service, options = placed(session)
    web = client_as(support_admin)
    html = page(web, order.id)
    assert "OS: Ubuntu" in html and "Save options" not in html  # shown, not editable
    response = post(web, "/order/config-options/", order, follow=False,
                    service_id=str(service.id), **{f"option-{options['IPs'].id}": "5"})
    assert response.status_code == 403
    session.expire_all()
    assert {r.option.name: r.value for r in session.get(Service, service.id).config_options}["IPs"] == 1


def test_deleting_the_order_removes_the_options_and_its_snapshot_keeps_them(session):
    from actions.cancel import cancel_order
    from actions.delete import delete_order
    from models import ServiceConfigOption

    order, service, _ = placed(session, OS="Windows")
    cancel_order(session, order.id, ADMIN)
    session.commit()
    snapshot = delete_order(session, order.id, ADMIN)
    session.commit()
    assert session.scalar(select(ServiceConfigOption.id)) is None
    assert "OS: Windows" in snapshot["services"][0]["config_options"]
