"""Roles: a view the role lacks permission for answers 403 and is hidden; no buttons it cannot use."""

import pytest

from models import Client, Product
from tests import factories

SETUP_URLS = ["/admin/order_statuses/", "/admin/servers/", "/admin/gateways/", "/admin/settings/",
              "/admin/email_templates/", "/admin/admin_users/", "/admin/roles/", "/admin/api_credentials/"]


@pytest.fixture
def records(session):
    order = factories.make_order()
    session.commit()
    return {"clients": order.client_id, "products": order.services[0].product_id, "orders": order.id}


def test_support_cannot_reach_create_edit_or_delete(client_as, support_admin, records, session):
    web = client_as(support_admin)
    for endpoint, row_id in records.items():
        assert web.get(f"/admin/{endpoint}/").status_code == 200
        assert web.get(f"/admin/{endpoint}/new/").status_code == 403, endpoint
        assert web.get(f"/admin/{endpoint}/edit/?id={row_id}").status_code == 403, endpoint
        assert web.post(f"/admin/{endpoint}/edit/?id={row_id}", data={"first_name": "X"}).status_code == 403
        assert web.post(f"/admin/{endpoint}/delete/", data={"id": row_id}).status_code == 403, endpoint
    session.expire_all()
    assert session.get(Client, records["clients"]).first_name == "Ada"
    assert session.get(Product, records["products"]) is not None


def test_support_sees_no_create_edit_or_delete_buttons(client_as, support_admin, records):
    web = client_as(support_admin)
    for endpoint, row_id in records.items():
        for url in (f"/admin/{endpoint}/", f"/admin/{endpoint}/details/?id={row_id}"):
            html = web.get(url).get_data(as_text=True)
            assert f"/admin/{endpoint}/new/" not in html, url
            assert f"/admin/{endpoint}/edit/" not in html, url
            assert f"/admin/{endpoint}/delete/" not in html, url


def test_full_admin_sees_the_buttons(admin_client, records):
    html = admin_client.get("/admin/clients/").get_data(as_text=True)
    for button in ("/admin/clients/new/", "/admin/clients/edit/", "/admin/clients/delete/"):
        assert button in html


def test_sales_operator_edits_a_client_but_not_setup(client_as, sales_admin, records, session):
    web = client_as(sales_admin)
    client = session.get(Client, records["clients"])
    response = web.post(f"/admin/clients/edit/?id={client.id}", data=dict(
        first_name="Grace", last_name=client.last_name, email=client.email, country="GB", status="Active"))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Client, client.id).first_name == "Grace"

    menu = web.get("/admin/").get_data(as_text=True)
    assert "/admin/clients/" in menu and "/admin/orders/" in menu
    for url in SETUP_URLS:
        assert web.get(url).status_code == 403, url
        assert web.get(url + "new/").status_code == 403, url
        assert url not in menu, url
    assert "Setup<i" not in menu


def test_full_admin_menu_has_every_category(admin_client):
    menu = admin_client.get("/admin/").get_data(as_text=True)
    for category in ("Orders", "Clients", "Billing", "Catalog", "Setup", "Logs"):
        assert f"{category}<i" in menu, category
    for url in SETUP_URLS + ["/admin/email_log/", "/admin/tlds/", "/admin/promotions/", "/admin/invoices/"]:
        assert url in menu, url
