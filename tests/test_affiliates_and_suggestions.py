"""The Affiliates screen and the order page's affiliate picker (an AJAX search), and the navbar
search's suggestions as you type (a bounded JSON endpoint) finding orders by client name and IP."""

import json

from extensions import db
from models import Affiliate, Order, Role
from tests import factories

LIST = "/admin/orders/"


def lookup(client, query, **args):
    return client.get(f"{LIST}ajax/lookup/", query_string={"name": "affiliate", "query": query, **args})


def test_affiliates_screen_lists_creates_and_refuses_removing_one_with_orders(admin_client, session):
    html = admin_client.get("/admin/affiliates/").get_data(as_text=True)
    assert '<h4 id="list-title">All affiliates</h4>' in html
    assert "No affiliates yet." in html and "Make a client an affiliate" in html
    ada = factories.make_client(first_name="Ada", last_name="Lovelace")
    session.commit()
    response = admin_client.post("/admin/affiliates/new/", data={"client": ada.id}, follow_redirects=True)
    assert response.status_code == 200
    affiliate = db.session.query(Affiliate).one()
    assert affiliate.client_id == ada.id
    assert "Lovelace" in admin_client.get("/admin/affiliates/").get_data(as_text=True)

    again = admin_client.post("/admin/affiliates/new/", data={"client": ada.id}, follow_redirects=True)
    assert "already an affiliate" in again.get_data(as_text=True)
    assert db.session.query(Affiliate).count() == 1

    factories.make_order(affiliate_id=affiliate.id)
    session.commit()
    refused = admin_client.post("/admin/affiliates/delete/", data={"id": affiliate.id}, follow_redirects=True)
    assert "referred orders" in refused.get_data(as_text=True)
    assert db.session.query(Affiliate).count() == 1


def test_affiliates_need_their_permissions(client_as, support_admin, session):
    support = client_as(support_admin)
    assert support.get("/admin/affiliates/").status_code == 200  # List Affiliates: read-only roles
    assert support.get("/admin/affiliates/new/").status_code == 403  # Manage Affiliates
    assert support.post("/admin/affiliates/new/", data={"client": 1}).status_code == 403
    role = Role(name="Orders only", permissions=["View Orders"])
    session.add(role)
    session.flush()
    viewer = factories.make_admin("Orders only")
    session.commit()
    assert client_as(viewer).get("/admin/affiliates/").status_code == 403


def test_the_order_page_picks_an_affiliate_by_search(admin_client, client_as, support_admin, session):
    ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    bob = factories.make_client(first_name="Bob", last_name="Lovelock", email="bob@example.com")
    factories.make_client(first_name="Ada", last_name="NotAnAffiliate")
    first, second = Affiliate(client=ada), Affiliate(client=bob)
    session.add_all([first, second])
    order = factories.make_order()
    session.commit()

    html = admin_client.get(f"{LIST}details/?id={order.id}").get_data(as_text=True)
    assert 'id="affiliate-picker" data-role="select2-ajax"' in html
    assert 'data-url="/admin/orders/ajax/lookup/?name=affiliate"' in html
    assert "select2" in html  # the widget's script is on the page

    assert [row[0] for row in lookup(admin_client, "love").get_json()] == [first.id, second.id]
    # Clients who are not affiliates are not offered.
    assert lookup(admin_client, "ada").get_json() == [[first.id, str(first)]]
    assert lookup(admin_client, "BOB@").get_json() == [[second.id, str(second)]]
    assert lookup(admin_client, str(second.id)).get_json() == [[second.id, str(second)]]
    assert lookup(admin_client, "nobody").get_json() == []
    assert lookup(admin_client, "love", offset=10).get_json() == []  # one page only
    assert lookup(admin_client, "love", limit=1000).status_code == 400  # bounded
    # The lookup shows clients' names: it needs Edit Order, like the assignment.
    assert lookup(client_as(support_admin), "love").status_code == 403

    response = admin_client.post(f"{LIST}order/affiliate/", follow_redirects=True, data={
        "id": order.id, "expected_version": order.version, "affiliate_id": str(second.id),
        "url": f"{LIST}details/?id={order.id}"})
    assert "affiliate updated" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).affiliate_id == second.id
    html = admin_client.get(f"{LIST}details/?id={order.id}").get_data(as_text=True)
    assert f'value="{second.id}"' in html and "Lovelock" in html  # the picker shows who is assigned


def suggest(client, term):
    response = client.get("/admin/search/suggest/", query_string={"q": term})
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_suggestions_find_clients_and_orders_by_client_name_and_ip(admin_client, session):
    grace = factories.make_client(first_name="Grace", last_name="Hopper", email="grace@example.com")
    placed, other = factories.make_order(client=grace), factories.make_order()
    placed.ip_address, other.ip_address = "198.51.100.23", "192.0.2.1"
    session.commit()

    found = suggest(admin_client, "hopp")
    labels = [(row["kind"], row["label"]) for row in found["suggestions"]]
    assert ("Client", "Grace Hopper <grace@example.com>") in labels
    order_rows = [row for row in found["suggestions"] if row["kind"] == "Order"]
    assert [row["url"] for row in order_rows] == [f"/admin/orders/details/?id={placed.id}"]
    assert f"Order #{placed.order_number} · Grace Hopper · $15.00 USD · Pending" == order_rows[0]["label"]
    assert found["more_url"] == "/admin/search/?q=hopp"

    by_ip = suggest(admin_client, "198.51.100.23")["suggestions"]
    assert [row["url"] for row in by_ip] == [f"/admin/orders/details/?id={placed.id}"]
    # The full results page finds orders the same ways.
    page = admin_client.get("/admin/search/", query_string={"q": "grace hop"}).get_data(as_text=True)
    assert f"Order #{placed.order_number}" in page
    assert suggest(admin_client, "h") == {"term": "h", "suggestions": []}  # too short: nothing asked


def test_suggestions_are_bounded_and_follow_permissions(admin_client, anon_client, client_as, session):
    client = factories.make_client(first_name="Zed", last_name="Many")
    for _ in range(8):
        factories.make_order(client=client)
    for n in range(8):
        factories.make_client(first_name="Zed", last_name=f"Other{n}")
    session.commit()
    rows = suggest(admin_client, "zed")["suggestions"]
    kinds = [row["kind"] for row in rows]
    assert kinds.count("Client") == 5 and kinds.count("Order") == 5
    assert len(suggest(admin_client, "z" * 5000)["term"]) == 100

    assert anon_client.get("/admin/search/suggest/?q=zed").status_code == 302  # to the login page
    role = Role(name="Orders viewer", permissions=["View Orders"])
    session.add(role)
    session.flush()
    viewer = factories.make_admin("Orders viewer")
    session.commit()
    kinds = {row["kind"] for row in suggest(client_as(viewer), "zed")["suggestions"]}
    assert kinds == {"Order"}  # no List Clients: no clients, but the orders it may see
    assert json.dumps(suggest(client_as(viewer), "zed")).count("Zed Many") == 5
