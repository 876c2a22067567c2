"""AcceptOrder's options and the API's "only from Pending" guard over raw HTTP, on SQLite and
PostgreSQL: serverid, serviceusername, servicepassword, registrar, sendregistrar, autosetup and
sendemail reach the accept action; a refused AcceptOrder or CancelOrder changes nothing."""

import pytest
from sqlalchemy import select

from extensions import db
from models import Order, OrderStatus, Server, SideEffect
from tests import factories
from tests.api_support import Api, fresh_throttle, make_credential, snapshot  # noqa: F401


@pytest.fixture
def api(app_ctx):
    credential, secret = make_credential()
    db.session.commit()
    return Api(app_ctx.test_client(), credential.identifier, secret)


def _effects(order_id: int) -> list[SideEffect]:
    return db.session.scalars(
        select(SideEffect).where(SideEffect.order_id == order_id).order_by(SideEffect.id)
    ).all()


def test_accept_order_applies_every_option(api, app_ctx):
    server = Server(name="web1", hostname="web1.example")
    db.session.add(server)
    order = factories.make_order(services=["Pending"], domains=["Pending"])
    db.session.commit()
    api.ok(
        "AcceptOrder",
        orderid=order.id,
        serverid=server.id,
        serviceusername="ada01",
        servicepassword="s3cret-pass",
        registrar="manual",
        sendregistrar="True",
        autosetup="True",
        sendemail="False",
    )
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    [service], [domain] = order.services, order.domains
    assert order.status == OrderStatus.ACTIVE
    assert (service.server_id, service.username, service.password) == (server.id, "ada01", "s3cret-pass")
    assert domain.registrar == "manual"
    effects = {e.kind: e for e in _effects(order.id)}
    assert {"module_create", "domain_register"} <= set(effects)
    assert effects["module_create"].payload["send_welcome_email"] is False
    assert "s3cret-pass" not in repr([e.payload for e in effects.values()])


def test_accept_order_without_setup_or_registrar(api, app_ctx):
    order = factories.make_order(services=["Pending"], domains=["Pending"])
    db.session.commit()
    api.ok("AcceptOrder", orderid=order.id, autosetup="0", sendregistrar="0")
    assert [e.kind for e in _effects(order.id) if e.kind != "email"] == []
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ACTIVE


@pytest.mark.parametrize(
    "params, message",
    [
        ({"serverid": "999999"}, "Server 999999 does not exist"),
        ({"registrar": "nosuch", "sendregistrar": "1"}, "Unknown registrar 'nosuch'"),
        ({"sendregistrar": "1"}, "Choose a registrar to send"),
        ({"autosetup": "sometimes"}, "autosetup must be true or false"),
    ],
)
def test_accept_order_refusals_change_nothing(api, app_ctx, params, message):
    order = factories.make_order(services=["Pending"], domains=["Pending"])
    db.session.commit()
    before = snapshot()
    assert message in api.error("AcceptOrder", orderid=order.id, **params)
    assert snapshot() == before


@pytest.mark.parametrize("status", [OrderStatus.ACTIVE, OrderStatus.FRAUD, OrderStatus.CANCELLED])
@pytest.mark.parametrize("action", ["AcceptOrder", "CancelOrder"])
def test_accept_and_cancel_only_from_pending(api, app_ctx, status, action):
    """The admin may cancel from any status; the API keeps WHMCS's guard."""
    order = factories.make_order(status=status, services=["Active"])
    db.session.commit()
    before = snapshot()
    assert api.error(action, orderid=order.id) == "Order ID not found or Status not Pending"
    assert api.error(action, orderid=999999) == "Order ID not found or Status not Pending"
    assert snapshot() == before


def test_cancel_order_accepts_cancelsub_and_noemail(api, app_ctx):
    order = factories.make_order()
    db.session.commit()
    api.ok("CancelOrder", orderid=order.id, cancelsub="True", noemail="False")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED
