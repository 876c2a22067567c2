"""Accept with Run Module Create when the server module fails: the order is accepted, the service
stays Pending (never set Active optimistically), and the error shows on the order page."""

import socket

from markupsafe import escape

from extensions import db
from models import AutoSetup, Order, OrderStatus, Server, Service, ServiceStatus, SideEffect, SideEffectStatus
from tests import factories
from tests.jobs_support import WEBHOOK_SECRET
from tests.test_order_page import PAGE, post


def _closed_port_url() -> str:
    # Bind and close: nothing listens there, so the webhook call is refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/provision"


def test_failed_create_leaves_the_service_pending_and_shows_the_error(admin_client, session, monkeypatch):
    monkeypatch.setitem(admin_client.application.config, "SIDE_EFFECT_MAX_ATTEMPTS", 1)
    server = Server(name="hook-down", module="webhook", url=_closed_port_url(), secret=WEBHOOK_SECRET)
    session.add(server)
    session.flush()
    product = factories.make_product(module="webhook", auto_setup=AutoSetup.ON_ACCEPT,
                                     default_server_id=server.id)
    order = factories.make_order(product=product)
    session.commit()
    service_id = order.services[0].id
    prefix = f"service-{service_id}-"

    response = post(admin_client, "/order/accept/", order, with_options="1", **{
        prefix + "server_id": server.id, prefix + "run_create": "1", prefix + "send_welcome": "1",
    })

    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ACTIVE
    assert db.session.get(Service, service_id).status == ServiceStatus.PENDING
    effect = db.session.query(SideEffect).filter_by(target_id=service_id, kind="module_create").one()
    assert effect.status == SideEffectStatus.FAILED and effect.attempts == 1 and effect.last_error
    html = admin_client.get(PAGE.format(order.id)).get_data(as_text=True)
    assert str(escape(effect.last_error)) in html
    # The timeline says it in a sentence (admin/timeline.py): kind, target, attempt, error.
    assert "Module create" in html[html.index('id="timeline"'):]
    assert "failed (attempt 1)" in html[html.index('id="timeline"'):]
