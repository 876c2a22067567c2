"""rq-dashboard under /admin/rq: only with REDIS_URL; reading needs View Background Jobs, its
mutating calls need "Requeue, Delete and Empty Background Jobs", a CSRF token and POST."""

import re

from extensions import db
from models import Permission, Role
from tests import factories
from tests.conftest import make_test_app
from tests.jobs_support import TEST_REDIS_URL, connect_redis, job_config


def _csrf_cookie(client) -> str:
    cookie = client.get_cookie("_csrf_token", path="/admin/rq")
    assert cookie is not None, "the dashboard hands its JavaScript a CSRF token"
    return cookie.value


def test_dashboard_needs_login_permissions_csrf_and_post(app_ctx, database_url):
    connect_redis()
    app = make_test_app(database_url, **job_config(TEST_REDIS_URL, WTF_CSRF_ENABLED=True))
    with app.app_context():
        full, support = factories.make_admin("Full Administrator"), factories.make_admin("Support")
        viewer_role = Role(name="Job viewer", permissions=[Permission.VIEW_JOBS])
        db.session.add(viewer_role)
        viewer = factories.make_admin("Support")
        viewer.role = viewer_role
        db.session.commit()
        assert full.id and support.id and viewer.id  # loaded, so the clients can sign them in later
        db.session.expunge_all()
    anonymous = app.test_client().get("/admin/rq/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.headers["Location"]
    assert app.test_client(user=support).get("/admin/rq/").status_code == 403

    client = app.test_client(user=full)
    assert client.get("/admin/rq/").status_code == 200
    token = _csrf_cookie(client)
    queues = client.get("/admin/rq/0/data/queues.json")
    assert queues.status_code == 200 and "queues" in queues.get_json()
    # Mutations: never by GET, never without the token, and with it they run.
    assert client.get("/admin/rq/requeue/orderdesk").status_code == 405
    assert client.post("/admin/rq/job/nope/delete").status_code == 400
    assert client.post("/admin/rq/requeue/orderdesk").status_code == 400
    assert client.post("/admin/rq/job/nope/delete", headers={"X-CSRFToken": token}).status_code not in (
        400, 403, 405)

    # Reading is not managing: a role with View Background Jobs alone cannot requeue or delete.
    watcher = app.test_client(user=viewer)
    assert watcher.get("/admin/rq/").status_code == 200
    watcher_token = _csrf_cookie(watcher)
    for url in ("/admin/rq/job/nope/delete", "/admin/rq/requeue/orderdesk",
                "/admin/rq/queue/orderdesk/failed/empty"):
        assert watcher.post(url, headers={"X-CSRFToken": watcher_token}).status_code == 403, url
    with app.app_context():
        db.engine.dispose()


def test_the_dashboard_javascript_sends_the_token_it_is_handed(app_ctx, database_url):
    """rq-dashboard's own script reads the `_csrf_token` cookie into an X-CSRFToken header."""
    connect_redis()
    app = make_test_app(database_url, **job_config(TEST_REDIS_URL, WTF_CSRF_ENABLED=True))
    with app.app_context():
        full = factories.make_admin("Full Administrator")
        db.session.commit()
        assert full.id
        db.session.expunge_all()
    html = app.test_client(user=full).get("/admin/rq/").get_data(as_text=True)
    assert re.search(r'getCookie\("_csrf_token"\)', html) and "X-CSRFToken" in html
    with app.app_context():
        db.engine.dispose()


def test_no_dashboard_without_redis(admin_client):
    assert admin_client.get("/admin/rq/").status_code == 404
