"""Every admin URL needs a login; CSRF on every POST; login, logout and the `next` parameter."""

import re

import pytest

from extensions import db
from models import Client
from tests import factories
from tests.conftest import make_test_app

# URL parameters the admin's rules use, filled with sensible values.
URL_VALUES = {"export_type": "csv", "filename": "x.css"}


def _admin_requests(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith("static"):
            continue
        if rule.endpoint == "auth.login":
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", URL_VALUES.get(arg, "1"), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url + ("?id=1" if "/details/" in url or "/edit/" in url else "")


def test_every_admin_url_needs_login(anon_client, session):
    factories.make_order()
    session.commit()
    requests = list(_admin_requests(anon_client.application))
    assert len(requests) > 100  # the walk really covers the views
    for method, url in requests:
        response = anon_client.open(url, method=method, data={"id": "1"})
        if response.status_code == 302:
            assert "/admin/login/" in response.headers["Location"], (method, url)
        else:
            assert response.status_code in (401, 403), (method, url, response.status_code)


def test_login_wrong_password_shows_error_and_opens_no_session(anon_client, full_admin, session):
    session.commit()
    response = anon_client.post("/admin/login/", data={"email": full_admin.email,
                                                       "password": "wrong password"})
    assert response.status_code == 401
    assert "Invalid email or password." in response.get_data(as_text=True)
    with anon_client.session_transaction() as flask_session:
        assert "_user_id" not in flask_session
    assert anon_client.get("/admin/").status_code == 302


def test_login_right_password_opens_dashboard(anon_client, full_admin, session):
    session.commit()
    response = anon_client.post("/admin/login/", data={"email": full_admin.email.upper(),
                                                       "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert anon_client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "http:/evil.example", "/\\evil.example/"]
)
def test_login_next_never_leaves_the_site(anon_client, full_admin, session, target):
    session.commit()
    response = anon_client.post("/admin/login/", query_string={"next": target},
                                data={"email": full_admin.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_login_next_keeps_a_local_path(anon_client, full_admin, session):
    session.commit()
    response = anon_client.post("/admin/login/", query_string={"next": "/admin/clients/"},
                                data={"email": full_admin.email, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/admin/clients/"


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def csrf_client(app_ctx, database_url, full_admin):
    """A client of an app with CSRF on (the test app turns it off), logged in as a full admin."""
    db.session.commit()
    csrf_app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    return csrf_app.test_client(user=full_admin)


def _client_form(client: Client, **changes) -> dict:
    data = dict(first_name=client.first_name, last_name=client.last_name, company_name="",
                email=client.email, address1="", city="", state="", postcode="", country="GB",
                phone="", status="Active", notes="")
    data.update(changes)
    return data


def test_post_without_csrf_token_is_refused_and_changes_nothing(csrf_client, session):
    client = factories.make_client(first_name="Ada")
    session.commit()
    url = f"/admin/clients/edit/?id={client.id}"
    response = csrf_client.post(url, data=_client_form(client, first_name="Mallory"))
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Client, client.id).first_name == "Ada"

    token = _token(csrf_client.get(url).get_data(as_text=True))
    response = csrf_client.post(url, data=_client_form(client, first_name="Grace", csrf_token=token))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Client, client.id).first_name == "Grace"


def test_logout_is_a_post_with_csrf(csrf_client):
    assert csrf_client.get("/admin/logout/").status_code == 405
    assert csrf_client.post("/admin/logout/").status_code == 400
    assert csrf_client.get("/admin/").status_code == 200  # still logged in
    token = _token(csrf_client.get("/admin/").get_data(as_text=True))
    response = csrf_client.post("/admin/logout/", data={"csrf_token": token})
    assert response.status_code == 302
    assert csrf_client.get("/admin/").status_code == 302
