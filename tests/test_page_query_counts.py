"""The pages of the scale scenarios (bench/scenarios.py) send as many statements for a big order,
invoice, client or result set as for a small one: counted, not timed, at two sizes each.

Order page: 1 item and 1 event against 20 items (each of its own product, set up on payment, so the
Accept form asks whether each one's module create ran) and 50 events. Invoice
page: 1 line against 20. Client summary: a client with 1 order against one with 30 (more than the
page lists). Add New Order: the form with 1 order in the database against 40 orders and clients.
Intelligent search: a term matching 1 client (and its order) against one matching 12.
"""

from extensions import db
from models import AutoSetup, OrderEvent, ServiceStatus
from tests import factories
from tests.sql_support import recorded_statements


def statements(client, url: str) -> int:
    db.session.expunge_all()  # nothing cached: everything the page shows comes from its queries
    with recorded_statements(db.engine) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def order_with(items: int, events: int):
    order = factories.make_order(services=[ServiceStatus.PENDING] * items)
    for service in order.services:  # run on payment: the Accept form asks whether a create ran
        service.product = factories.make_product(auto_setup=AutoSetup.ON_PAYMENT)
    for n in range(events):
        db.session.add(OrderEvent(order_id=order.id, actor_type="system", verb="admin_notes_changed",
                                  details={"n": n}))
    return order


def warm(client, url: str) -> None:
    client.get(url)  # the first request of a client loads its login once


def test_order_and_invoice_pages_do_not_grow_with_items_and_events(admin_client, session):
    small, big = order_with(1, 1), order_with(20, 50)
    session.commit()
    assert len(big.services) == 20 and len(big.invoice.items) == 20
    order_page, invoice_page = "/admin/orders/details/?id={}", "/admin/invoices/details/?id={}"
    warm(admin_client, order_page.format(small.id))
    assert statements(admin_client, order_page.format(small.id)) == \
        statements(admin_client, order_page.format(big.id))
    small_invoice, big_invoice = small.invoice_id, big.invoice_id
    assert statements(admin_client, invoice_page.format(small_invoice)) == \
        statements(admin_client, invoice_page.format(big_invoice))


def test_client_summary_does_not_grow_with_the_clients_orders(admin_client, session):
    quiet, busy = factories.make_client(), factories.make_client()
    factories.make_order(client=quiet, domains=["Pending"])
    for _ in range(30):
        factories.make_order(client=busy, domains=["Pending"])
    session.commit()
    quiet_id, busy_id = quiet.id, busy.id
    warm(admin_client, f"/admin/client-summary/{quiet_id}/")
    assert statements(admin_client, f"/admin/client-summary/{quiet_id}/") == \
        statements(admin_client, f"/admin/client-summary/{busy_id}/")


def test_add_order_form_does_not_grow_with_orders_and_clients(admin_client, session):
    factories.make_order()
    session.commit()
    warm(admin_client, "/admin/add-order/")
    few = statements(admin_client, "/admin/add-order/")
    for _ in range(40):
        factories.make_order()
    session.commit()
    assert statements(admin_client, "/admin/add-order/") == few


def test_intelligent_search_does_not_grow_with_its_results(admin_client, session):
    factories.make_order(client=factories.make_client(last_name="Solitary"))
    for n in range(12):
        factories.make_order(client=factories.make_client(last_name=f"Plentiful{n:02d}"))
    session.commit()
    warm(admin_client, "/admin/search/?q=Solitary")
    one = statements(admin_client, "/admin/search/?q=Solitary")
    many = statements(admin_client, "/admin/search/?q=Plentiful")
    assert one == many
