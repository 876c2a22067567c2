"""Intelligent search: what it finds, that every lookup is an index search (EXPLAIN), the page."""

import pytest

from actions.search import search
from extensions import db
from models import Role
from tests import factories
from tests.sql_support import query_plan, recorded_statements, sqlite_step_is_indexed


@pytest.fixture
def data(session):
    ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="Ada.King@Analytical.example",
                                company_name="Analytical Engines")
    grace = factories.make_client(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    percent = factories.make_client(first_name="Per%cent", last_name="Under_score", email="pc@x.example")
    order = factories.make_order(client=ada, domains=["Pending"])
    order.services[0].domain, order.services[0].username = "Engines.example", "adaeng1"
    order.domains[0].name = "lovelace.org"
    other = factories.make_order(client=grace)
    session.commit()
    return dict(ada=ada, grace=grace, percent=percent, order=order, other=other)


def ids(rows):
    return [row.id for row in rows]


def test_finds_each_kind_by_its_fields_case_insensitively(session, data):
    ada, grace, order = data["ada"], data["grace"], data["order"]
    for term in ("ada", "LOVE", "ada.k", "analytical", "Ada Lov", "  ada   lovelace "):
        assert ids(search(session, term).clients) == [ada.id], term
    assert ids(search(session, "ada grace").clients) == []
    assert ids(search(session, "gr").clients) == [grace.id]
    assert ids(search(session, "engines.").services) == [order.services[0].id]
    assert ids(search(session, "ADAENG").services) == [order.services[0].id]
    assert ids(search(session, "lovelace.").domains) == [order.domains[0].id]

    by_number = search(session, str(order.order_number))
    assert ids(by_number.orders) == [order.id] and by_number.clients == []
    assert ids(search(session, f"#{order.order_number}").orders) == [order.id]
    by_id = search(session, str(order.id))
    assert order.id in ids(by_id.orders) and order.invoice_id in ids(by_id.invoices)
    assert search(session, "99999999999999999").orders == []  # too large for an id: no error, no match


def test_like_wildcards_in_the_term_are_taken_literally(session, data):
    assert ids(search(session, "per%").clients) == [data["percent"].id]
    assert search(session, "%").clients == [] and search(session, "_").clients == []
    assert ids(search(session, "under_").clients) == [data["percent"].id]
    assert search(session, "under%s").clients == []


def test_each_group_is_limited_and_only_the_asked_kinds_run(session):
    for n in range(12):
        factories.make_client(first_name="Zed", last_name=f"Z{n:02d}", email=f"zed{n}@example.com")
    session.commit()
    with recorded_statements(db.engine) as captured:
        results = search(session, "zed", kinds=("clients",), limit=10)
    statements = [statement for statement, _ in captured]
    assert len(results.clients) == 10
    assert [c.last_name for c in results.clients] == sorted(c.last_name for c in results.clients)
    assert all("clients" in s for s in statements) and not any("count(" in s.lower() for s in statements)


# Text also finds orders by client name (the clients' newest orders) and an address by IP.
TERMS = ["ada", "Ada Lov", "ada.k@", "engines.example", "adaeng", "lovelace.org", "42", "%_x", "203.0.113.7"]


def test_every_lookup_is_an_index_search_not_a_scan(session, data):
    """EXPLAIN each statement the search runs. SQLite: every table access is a SEARCH (an index
    range or key lookup), never a SCAN. PostgreSQL: with sequential scans priced out (the tables
    are tiny here, where a scan is cheapest), every access is an index scan - proof that an index
    serves the predicate; without one the plan would still be a Seq Scan."""
    terms = TERMS + [str(data["order"].order_number), str(data["order"].id)]
    with recorded_statements(db.engine) as captured:
        for term in terms:
            search(session, term)
    assert len(captured) >= 10
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    for statement, parameters in captured:
        steps = query_plan(connection, statement, parameters)
        if postgresql:
            plan = "\n".join(steps)
            assert "Seq Scan" not in plan and "Index" in plan, (statement, plan)
        else:
            assert steps and all(map(sqlite_step_is_indexed, steps)), (statement, steps)
            assert not any("TEMP B-TREE" in s for s in steps), (statement, steps)


def test_results_page_groups_and_links(admin_client, data):
    order = data["order"]
    page = admin_client.get("/admin/search/?q=ada").get_data(as_text=True)
    assert 'id="search-clients"' in page and f"/admin/client-summary/{data['ada'].id}/" in page
    assert f"/admin/services/details/?id={order.services[0].id}" in page
    page = admin_client.get(f"/admin/search/?q={order.order_number}").get_data(as_text=True)
    assert f"/admin/orders/details/?id={order.id}" in page and f"Order #{order.order_number}" in page
    page = admin_client.get(f"/admin/search/?q={order.invoice_id}").get_data(as_text=True)
    assert f"/admin/invoices/details/?id={order.invoice_id}" in page
    page = admin_client.get("/admin/search/?q=lovelace.").get_data(as_text=True)
    assert f"/admin/domains/details/?id={order.domains[0].id}" in page
    assert "Nothing found" in admin_client.get("/admin/search/?q=nomatchxyz").get_data(as_text=True)


def test_navbar_box_on_admin_pages(admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert 'id="intelligent-search"' in page and 'action="/admin/search/"' in page


def test_groups_follow_permissions_and_login_is_required(session, client_as, anon_client, data):
    role = Role(name="Client desk", permissions=["List Clients"])
    session.add(role)
    session.flush()
    clerk = factories.make_admin("Client desk")
    session.commit()
    page = client_as(clerk).get(f"/admin/search/?q={data['order'].id}").get_data(as_text=True)
    assert 'id="search-clients"' in page
    for hidden in ("orders", "invoices", "services", "domains"):
        assert f'id="search-{hidden}"' not in page
    page = client_as(clerk).get("/admin/search/?q=ada").get_data(as_text=True)
    assert f"/admin/client-summary/{data['ada'].id}/" in page and "/admin/services/" not in page
    response = anon_client.get("/admin/search/?q=ada")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
