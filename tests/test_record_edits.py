"""Generic edit forms of an order's records go through the domain: the order an item belongs to is
not editable, every picker refuses an id that matches no row, and each accepted edit is written on
the order's timeline with the admin and before -> after."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Domain, Invoice, Order, OrderEvent, Server, Service
from tests import factories


@pytest.fixture
def web(admin_client, session):
    session.commit()
    return admin_client


def _service_form(service, **changes) -> dict:
    def day(value):
        return value.isoformat() if value else ""

    data = {"product": str(service.product_id), "domain": service.domain, "username": service.username,
            "billing_cycle": service.billing_cycle, "first_payment_amount": str(service.first_payment_amount),
            "recurring_amount": str(service.recurring_amount),
            "registration_date": day(service.registration_date), "next_due_date": day(service.next_due_date)}
    data.update(changes)
    return data


def _events(session, order_id, verb="record_edited"):
    session.expire_all()
    return session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id, OrderEvent.verb == verb)
                           .order_by(OrderEvent.id)).all()


def test_reposting_a_service_with_another_order_id_changes_nothing(web, session):
    order, other = factories.make_order(services=["Active"]), factories.make_order()
    session.commit()
    service = order.services[0]
    for order_id in ("999999", str(other.id), "", "99999999999999999999"):
        response = web.post(f"/admin/services/edit/?id={service.id}",
                            data=_service_form(service, order=order_id, client=order_id))
        assert response.status_code in (200, 302)
        session.expire_all()
        stored = session.get(Service, service.id)
        assert (stored.order_id, stored.client_id) == (order.id, order.client_id)
    assert b'name="order"' not in web.get(f"/admin/services/edit/?id={service.id}").data


@pytest.mark.parametrize("field, value", [
    ("product", "999999"), ("product", "2147483648"), ("product", "abc"),
    ("server", "999999"), ("server", "99999999999999999999"), ("server", "-1"),
])
def test_a_picker_refuses_an_id_that_matches_nothing(web, session, field, value):
    server = Server(name="web-1")
    session.add(server)
    order = factories.make_order()
    order.services[0].server = server
    session.commit()
    service = order.services[0]
    form = _service_form(service, server=str(server.id), domain="changed.example") | {field: value}
    response = web.post(f"/admin/services/edit/?id={service.id}", data=form)
    assert response.status_code == 200
    assert f"Unknown {field}: no record with id {value[:20]}." in response.get_data(as_text=True)
    session.expire_all()
    stored = session.get(Service, service.id)
    kept = (service.product_id, server.id, service.domain)
    assert (stored.product_id, stored.server_id, stored.domain) == kept
    assert _events(session, order.id) == []


def test_an_accepted_edit_is_on_the_timeline_with_before_and_after(web, session, full_admin):
    order = factories.make_order(services=["Active"])
    session.commit()
    service, version = order.services[0], order.version
    response = web.post(f"/admin/services/edit/?id={service.id}", data=_service_form(
        service, recurring_amount="12.50", password="n3w-Secret-pw", next_due_date="2031-01-02"))
    assert response.status_code == 302
    [event] = _events(session, order.id)
    assert (event.actor_type, event.actor_id) == ("admin", full_admin.id)
    assert event.details["record"] == "service" and event.details["record_id"] == service.id
    changes = event.details["changes"]
    assert changes["recurring_amount"] == {"from": "10.00", "to": "12.50"}
    assert changes["next_due_date"]["to"] == "2031-01-02"
    assert changes["password"] == {"from": "(changed)", "to": "(changed)"}
    assert "n3w-Secret-pw" not in repr(event.details)
    assert session.get(Order, order.id).version == version + 1  # an open order page goes stale
    assert session.get(Service, service.id).recurring_amount == Decimal("12.50")


def test_an_unchanged_form_writes_no_event(web, session):
    order = factories.make_order()
    session.commit()
    service = order.services[0]
    web.post(f"/admin/services/edit/?id={service.id}", data=_service_form(service))
    assert _events(session, order.id) == []


def test_domain_edit_is_recorded_and_its_period_is_bounded(web, session):
    order = factories.make_order(services=[], domains=["Active"])
    session.commit()
    domain = order.domains[0]
    form = {"name": domain.name, "type": "Register", "period_years": "2", "registrar": "manual",
            "first_payment_amount": "12.00", "recurring_amount": "12.00"}
    for years in ("-1", "0", "11", "1000000000000"):
        response = web.post(f"/admin/domains/edit/?id={domain.id}", data={**form, "period_years": years})
        assert response.status_code == 200, years
    edit = f"/admin/domains/edit/?id={domain.id}"
    assert web.post(edit, data={**form, "registrar": "nope"}).status_code == 200
    assert _events(session, order.id) == []
    assert web.post(f"/admin/domains/edit/?id={domain.id}", data=form).status_code == 302
    [event] = _events(session, order.id)
    assert event.details["changes"]["period_years"] == {"from": 1, "to": 2}
    assert session.get(Domain, domain.id).registrar == "manual"


def test_invoice_form_has_no_client_or_money_and_edits_are_recorded(web, session):
    order = factories.make_order()
    session.commit()
    invoice = order.invoice
    html = web.get(f"/admin/invoices/edit/?id={invoice.id}").get_data(as_text=True)
    for field in ("client", "subtotal", "total", "tax", "credit"):
        assert f'name="{field}"' not in html, field
    form = {"date": invoice.date.isoformat(), "due_date": "2031-05-06", "payment_method": "banktransfer",
            "notes": "", "total": "1.00", "client": "999"}
    assert web.post(f"/admin/invoices/edit/?id={invoice.id}", data=form).status_code == 302
    session.expire_all()
    stored = session.get(Invoice, invoice.id)
    assert (stored.total, stored.client_id) == (invoice.total, order.client_id)
    assert stored.due_date == date(2031, 5, 6)
    [event] = _events(session, order.id)
    assert event.details["record"] == "invoice"
    assert web.post(f"/admin/invoices/edit/?id={invoice.id}",
                    data={**form, "payment_method": "stripe-typo"}).status_code == 200
    assert session.get(Invoice, invoice.id).payment_method == "banktransfer"


def test_module_names_are_chosen_from_the_registry(web, session):
    server = Server(name="web-2")
    session.add(server)
    session.commit()
    form = {"name": "web-2", "hostname": "", "module": "cpanel-typo", "url": ""}
    response = web.post(f"/admin/servers/edit/?id={server.id}", data=form)
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    edit = f"/admin/servers/edit/?id={server.id}"
    assert web.post(edit, data={**form, "module": "webhook"}).status_code == 302
    session.expire_all()
    assert session.get(Server, server.id).module == "webhook"
