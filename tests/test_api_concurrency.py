"""Two AcceptOrder calls for one order at the same moment, on PostgreSQL, through a live threaded
server: exactly one is accepted, the other gets WHMCS's refusal, and the order is accepted once."""

import threading

import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from extensions import db
from models import Order, OrderEvent, OrderStatus
from tests import factories
from tests.api_support import API, ensure_gateway, fresh_throttle, make_credential  # noqa: F401
from tests.conftest import make_test_app


def test_two_accept_order_calls_at_once_one_wins(postgres_url, app_ctx):
    if not app_ctx.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # this test is about PostgreSQL's row locks; the SQLite half has nothing to race
    ensure_gateway()
    orders = [factories.make_order() for _ in range(5)]
    credential, secret = make_credential()
    db.session.commit()
    identifier, order_ids = credential.identifier, [o.id for o in orders]
    served = make_test_app(postgres_url)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}{API}"
    try:
        for order_id in order_ids:
            barrier = threading.Barrier(2)
            answers = []

            def accept(order_id=order_id, barrier=barrier, answers=answers):
                barrier.wait()
                answers.append(
                    requests.post(
                        url,
                        timeout=30,
                        data={
                            "identifier": identifier,
                            "secret": secret,
                            "action": "AcceptOrder",
                            "orderid": order_id,
                            "autosetup": "0",
                        },
                    ).json()
                )

            callers = [threading.Thread(target=accept) for _ in range(2)]
            for caller in callers:
                caller.start()
            for caller in callers:
                caller.join()
            assert sorted(a["result"] for a in answers) == ["error", "success"], answers
            assert [a["message"] for a in answers if a["result"] == "error"] == [
                "Order ID not found or Status not Pending"
            ]
        db.session.expire_all()
        assert {o.status for o in db.session.scalars(select(Order))} == {OrderStatus.ACTIVE}
        accepted = db.session.scalars(select(OrderEvent).where(OrderEvent.verb == "order_accepted")).all()
        assert sorted(e.order_id for e in accepted) == sorted(order_ids)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with served.app_context():
            db.engine.dispose()
