"""The shipped CSRF default: an app built from config.py's settings alone (every other test app
turns CSRF off) refuses a POST without a token, and accepts it with one."""

import re

from app import create_app
from extensions import db
from models import Order
from tests import factories
from tests.conftest import LoginClient


def shipped_app(database_url: str):
    """Like tests.conftest.make_test_app, but WTF_CSRF_ENABLED left as config.py ships it."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key",
                      "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None, "MAIL_SERVER": None})
    app.test_client_class = LoginClient
    return app


def test_a_post_without_a_token_is_refused_by_default(app_ctx, database_url, full_admin):
    order = factories.make_order()
    order_id, version = order.id, order.version
    db.session.commit()
    app = shipped_app(database_url)
    assert app.config["WTF_CSRF_ENABLED"] is True
    with app.app_context():
        anonymous = app.test_client()
        credentials = {"email": full_admin.email, "password": factories.PASSWORD}
        login = anonymous.post("/admin/login/", data=credentials)
        assert login.status_code == 400 and b"CSRF" in login.data

        admin = app.test_client(user=full_admin)
        url = "/admin/orders/order/cancel/"
        refused = admin.post(url, data={"id": order_id, "expected_version": version})
        assert refused.status_code == 400
        db.session.expire_all()
        assert db.session.get(Order, order_id).status == "Pending"  # nothing changed

        page = admin.get(f"/admin/orders/details/?id={order_id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        accepted = admin.post(url, data={"id": order_id, "expected_version": version, "csrf_token": token})
        assert accepted.status_code == 302
        db.session.expire_all()
        assert db.session.get(Order, order_id).status == "Cancelled"
        db.session.remove()
