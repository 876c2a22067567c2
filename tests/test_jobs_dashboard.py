"""rq-dashboard under /admin/rq: only with REDIS_URL, only for admins with View Background Jobs."""

from extensions import db
from tests import factories
from tests.conftest import make_test_app
from tests.jobs_support import TEST_REDIS_URL, connect_redis, job_config


def test_dashboard_needs_login_and_the_jobs_permission(app_ctx, database_url):
    connect_redis()
    # CSRF on: the dashboard's own POSTs carry no token and must still work (exempted).
    app = make_test_app(database_url, **job_config(TEST_REDIS_URL, WTF_CSRF_ENABLED=True))
    with app.app_context():
        full, support = factories.make_admin("Full Administrator"), factories.make_admin("Support")
        db.session.commit()
        assert full.id and support.id  # loaded, so the test client can log them in after this block
        db.session.expunge_all()
    # Requests outside that context: each gets its own (Flask-Login caches the user on g).
    anonymous = app.test_client().get("/admin/rq/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.headers["Location"]
    assert app.test_client(user=support).get("/admin/rq/").status_code == 403
    assert app.test_client(user=support).post("/admin/rq/job/nope/delete").status_code == 403
    client = app.test_client(user=full)
    assert client.get("/admin/rq/").status_code == 200
    queues = client.get("/admin/rq/0/data/queues.json")
    assert queues.status_code == 200 and "queues" in queues.get_json()
    assert client.post("/admin/rq/job/nope/delete").status_code != 400  # not refused for CSRF
    with app.app_context():
        db.engine.dispose()


def test_no_dashboard_without_redis(admin_client):
    assert admin_client.get("/admin/rq/").status_code == 404
