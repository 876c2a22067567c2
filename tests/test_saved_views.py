"""Saved views: a grid's filters under a name, own or shared with the team, back from the grid's
Views menu and the Orders menu's page; the last used filter of each grid is one click away."""

import pytest
from sqlalchemy import select

from extensions import db
from models import SavedView
from tests import factories

QUERY = "flt0_status_equals=Pending&sort=2&desc=1"


def save(client, name, query=QUERY, shared=False, endpoint="orders"):
    data = {"name": name, "query": query}
    if shared:
        data["shared"] = "yes"
    return client.post(f"/admin/{endpoint}/views/save/", data=data, follow_redirects=True)


def test_save_and_open_a_view(admin_client, session, client_as):
    session.commit()
    assert "View Pending by total saved." in save(admin_client, "Pending by total").get_data(as_text=True)
    view = db.session.scalar(select(SavedView))
    assert (view.endpoint, view.query, view.shared) == ("orders", QUERY, False)
    listing = admin_client.get("/admin/orders/").get_data(as_text=True)
    assert f'href="/admin/orders/?{QUERY.replace("&", "&amp;")}">Pending by total' in listing
    assert "Pending by total" in admin_client.get("/admin/saved-views/").get_data(as_text=True)
    other = client_as(factories.make_admin("Sales Operator"))
    session.commit()
    assert "Pending by total" not in other.get("/admin/orders/").get_data(as_text=True)  # not shared
    save(admin_client, "Team pending", shared=True)
    assert "Team pending" in other.get("/admin/orders/").get_data(as_text=True)
    save(admin_client, "Pending by total", query="flt0_status_equals=Active")  # same name: replaced
    db.session.expire_all()
    assert db.session.scalar(select(SavedView.query).where(SavedView.name == "Pending by total")) \
        == "flt0_status_equals=Active"


@pytest.mark.parametrize("name, query, message", [
    ("", QUERY, "Give the view a name"),
    ("x" * 101, QUERY, "at most 100 characters"),
    ("bad\x00name", QUERY, "not allowed"),
    ("ok", "a=" + "x" * 600, "at most 500 characters"),
    ("ok", "http://evil.example/?a", "not a list query"),
])
def test_bad_names_and_queries_are_refused(admin_client, session, name, query, message):
    session.commit()
    html = save(admin_client, name, query).get_data(as_text=True)
    assert message in html
    assert db.session.scalar(select(SavedView)) is None


def test_a_saved_view_only_ever_opens_its_own_list(admin_client, session):
    session.commit()
    save(admin_client, "Sneaky", query="next=//evil.example&flt0_status_equals=Pending")
    listing = admin_client.get("/admin/orders/").get_data(as_text=True)
    assert 'href="/admin/orders/?next=%2F%2Fevil.example&amp;flt0_status_equals=Pending"' in listing


def test_only_the_owner_removes_a_shared_view(admin_client, client_as, session):
    session.commit()
    save(admin_client, "Team", shared=True)
    view = db.session.scalar(select(SavedView))
    other = client_as(factories.make_admin("Sales Operator"))
    session.commit()
    assert "Only the admin who saved" in other.post(f"/admin/orders/views/{view.id}/delete/",
                                                    follow_redirects=True).get_data(as_text=True)
    admin_client.post(f"/admin/orders/views/{view.id}/delete/")
    db.session.expire_all()
    assert db.session.scalar(select(SavedView)) is None
    assert admin_client.post("/admin/orders/views/999999/delete/").status_code == 404
    assert admin_client.post("/admin/clients/views/99999999999/delete/").status_code == 404


def test_the_last_used_filter_is_remembered_per_list(admin_client, session):
    session.commit()
    admin_client.get("/admin/orders/?flt0_status_equals=Fraud")
    bare = admin_client.get("/admin/orders/").get_data(as_text=True)
    assert 'id="last-used-view" href="/admin/orders/?flt0_status_equals=Fraud"' in bare
    assert 'id="last-used-view"' not in admin_client.get("/admin/clients/").get_data(as_text=True)
