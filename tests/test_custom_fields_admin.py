"""Custom fields in the back office: the answers on the order, service, client and invoice pages
(a password never in clear), an admin's edit (permission, version check, refusal changes nothing,
one event with before -> after and a password as "(changed)"), the catalog screens' pattern check."""

from sqlalchemy import select

from actions.actor import Actor
from actions.cart import Cart, CartProduct
from actions.custom_fields import module_custom_fields
from actions.edit_custom_fields import STALE_ANSWERS
from actions.errors import STALE_MESSAGE
from actions.place import place_order
from extensions import db
from models import BillingCycle, CustomField, CustomFieldType, Order, OrderEvent, Service
from tests import factories
from tests.test_custom_fields import PRICES, make_field
from tests.test_order_page import PAGE, page, post

ROOT_PASSWORD = "Root-Pa55word-for-the-box"


def placed_with_answers(session):
    product = factories.make_product(prices=PRICES)
    hostname = make_field(product, name="Hostname", required=True, sort_order=1)
    root = make_field(product, name="Root password", field_type=CustomFieldType.PASSWORD, sort_order=2)
    os_field = make_field(product, name="Operating system", field_type=CustomFieldType.DROPDOWN,
                          options="Debian,Ubuntu", sort_order=3, show_on_invoice=True)
    client = factories.make_client()
    cart = Cart(client_id=client.id, payment_method="banktransfer", products=[CartProduct(
        product.id, BillingCycle.MONTHLY,
        custom_fields={hostname.id: "box1.example.net", root.id: ROOT_PASSWORD, os_field.id: "Debian"})])
    order = place_order(session, cart, Actor.system())
    session.commit()
    return order, hostname, root, os_field


def test_the_order_service_and_invoice_pages_show_the_answers_but_never_the_password(
        admin_client, support_admin, client_as, session):
    order, hostname, root, os_field = placed_with_answers(session)
    service = order.services[0]
    html = page(admin_client, order.id)
    assert f'id="service-{service.id}-custom-fields"' in html
    assert "box1.example.net" in html and "Debian" in html and "********" in html
    assert ROOT_PASSWORD not in html
    support = client_as(support_admin)
    for url in (PAGE.format(order.id), f"/admin/services/details/?id={service.id}",
                f"/admin/invoices/details/?id={order.invoice_id}"):
        response = support.get(url)
        assert response.status_code == 200, url
        assert ROOT_PASSWORD not in response.get_data(as_text=True), url
    # Support may look, not edit: no edit form for them.
    assert 'class="custom-field-edit' not in support.get(PAGE.format(order.id)).get_data(as_text=True)


def test_an_admin_edit_writes_one_event_and_a_password_only_as_changed(admin_client, session):
    order, hostname, root, os_field = placed_with_answers(session)
    service_id = order.services[0].id
    version = order.version
    response = post(admin_client, "/order/custom-fields/", order, service_id=service_id,
                    **{f"customfield-{hostname.id}": "box2.example.net",
                       f"customfield-{root.id}": "New-Root-pass-99", f"customfield-{os_field.id}": "Debian"})
    assert response.status_code == 200
    assert "custom fields saved" in response.get_data(as_text=True)
    db.session.expire_all()
    event = session.scalar(select(OrderEvent).where(OrderEvent.verb == "record_edited"))
    assert event.details["changes"] == {
        "Custom field: Hostname": {"from": "box1.example.net", "to": "box2.example.net"},
        "Custom field: Root password": {"from": "(changed)", "to": "(changed)"}}
    assert "New-Root-pass-99" not in str(event.details) and ROOT_PASSWORD not in str(event.details)
    assert session.get(Order, order.id).version > version
    assert module_custom_fields(session.get(Service, service_id))["Root password"] == "New-Root-pass-99"

    # An empty password box keeps the password; the stale version of the page is refused.
    stale = post(admin_client, "/order/custom-fields/", order, service_id=service_id,
                 expected_version=version, **{f"customfield-{hostname.id}": "box3.example.net"})
    assert STALE_MESSAGE in stale.get_data(as_text=True)
    db.session.expire_all()
    assert module_custom_fields(session.get(Service, service_id))["Hostname"] == "box2.example.net"
    fresh = post(admin_client, "/order/custom-fields/", order, service_id=service_id,
                 **{f"customfield-{hostname.id}": "box3.example.net", f"customfield-{root.id}": ""})
    assert "custom fields saved" in fresh.get_data(as_text=True)
    db.session.expire_all()
    assert module_custom_fields(session.get(Service, service_id)) == {
        "Hostname": "box3.example.net", "Root password": "New-Root-pass-99", "Operating system": "Debian"}


def test_a_bad_answer_is_refused_and_changes_nothing(admin_client, session):
    order, hostname, root, os_field = placed_with_answers(session)
    events_before = session.scalar(select(db.func.count()).select_from(OrderEvent))
    response = post(admin_client, "/order/custom-fields/", order, service_id=order.services[0].id,
                    **{f"customfield-{hostname.id}": "", f"customfield-{os_field.id}": "Windows"})
    text = response.get_data(as_text=True)
    assert "Hostname is required." in text and "Operating system: choose one of Debian, Ubuntu." in text
    db.session.expire_all()
    assert session.scalar(select(db.func.count()).select_from(OrderEvent)) == events_before
    values = {v.field_id: v.value for v in order.services[0].custom_field_values}
    assert values[hostname.id] == "box1.example.net" and values[os_field.id] == "Debian"


def test_editing_answers_needs_the_permission(support_admin, client_as, session):
    order, hostname, *_ = placed_with_answers(session)
    response = post(client_as(support_admin), "/order/custom-fields/", order, follow=False,
                    service_id=order.services[0].id, **{f"customfield-{hostname.id}": "x.example"})
    assert response.status_code == 403


def test_client_answers_on_the_client_page_and_their_edit(admin_client, session):
    vat = make_field(None, name="VAT number", validation=r"[A-Z]{2}\d{8,12}")
    pin = make_field(None, name="Phone PIN", field_type=CustomFieldType.PASSWORD)
    client = factories.make_client()
    session.commit()
    html = admin_client.get(f"/admin/clients/details/?id={client.id}").get_data(as_text=True)
    fingerprint = html.split('name="expected_answers" value="')[1].split('"')[0]
    url = f"/admin/client-custom-fields/{client.id}/"
    bad = admin_client.post(url, data={f"customfield-{vat.id}": "nope", "expected_answers": fingerprint},
                            follow_redirects=True)
    assert "VAT number: the value is not in the expected format." in bad.get_data(as_text=True)
    good = admin_client.post(url, data={f"customfield-{vat.id}": "GB12345678",
                                        f"customfield-{pin.id}": "4321-pin", "expected_answers": fingerprint},
                             follow_redirects=True)
    text = good.get_data(as_text=True)
    assert "Client custom fields saved." in text and "GB12345678" in text and "4321-pin" not in text
    again = admin_client.post(url, follow_redirects=True,
                              data={f"customfield-{vat.id}": "GB99999999", "expected_answers": fingerprint})
    assert STALE_ANSWERS in again.get_data(as_text=True)  # the page's answers were out of date
    event = session.scalar(select(OrderEvent).where(OrderEvent.verb == "record_edited"))
    assert event.order_id is None and event.details["record"] == "client"
    assert event.details["changes"]["Custom field: Phone PIN"] == {"from": "(changed)", "to": "(changed)"}


def test_the_catalog_refuses_a_pattern_that_does_not_compile_or_could_run_away(admin_client, session):
    product = factories.make_product(prices=PRICES)
    session.commit()
    for pattern, message in [("([a-z]", "not a valid regular expression"), ("(a+)+", "could take very long")]:
        response = admin_client.post("/admin/custom-fields/product/new/", data={
            "product": product.id, "name": "Bad", "field_type": "text", "validation": pattern,
            "sort_order": "0"}, follow_redirects=True)
        assert message in response.get_data(as_text=True)
    assert session.scalar(select(db.func.count()).select_from(CustomField)) == 0
    response = admin_client.post("/admin/custom-fields/product/new/", data={
        "product": product.id, "name": "VAT", "field_type": "text", "validation": r"[A-Z]{2}\d+",
        "sort_order": "0"}, follow_redirects=True)
    assert response.status_code == 200
    (field,) = session.scalars(select(CustomField)).all()
    assert field.product_id == product.id and field.applies_to == "product"


def test_the_client_and_service_edit_forms_do_not_offer_the_answers(admin_client, session):
    order, *_ = placed_with_answers(session)
    for url in (f"/admin/clients/edit/?id={order.client_id}",
                f"/admin/services/edit/?id={order.services[0].id}"):
        html = admin_client.get(url).get_data(as_text=True)
        assert 'name="custom_field_values"' not in html and ROOT_PASSWORD not in html, url
