"""Adding an order action touches only the transition table and one action module: the order page's
button, the list's row action and the bulk action appear from the row, and run the use case."""

import re

import pytest
from sqlalchemy import select

from actions.transitions import TRANSITIONS, Transition
from extensions import db
from models import Order, OrderEvent, OrderStatus, OrderStatusDefinition, Permission
from models.guards import AllowedFrom
from tests import factories
from tests.conftest import make_test_app
from tests.extension_support.hold_action import ACTION

HOLD = Transition(
    action=ACTION, label="Put on Hold", allowed_from=AllowedFrom(
        only=frozenset({OrderStatus.PENDING}), refused="Only pending orders can be put on hold"),
    order_to="On Hold", perform="tests.extension_support.hold_action:put_order_on_hold",
    permissions=(Permission.CHANGE_ORDER_STATUS,), done="put on hold", confirm="Hold order #{number}?",
    bulk_confirm="Put the selected orders on hold?", row_action=True, icon="fa-pause",
)


@pytest.fixture
def hold_app(monkeypatch, database_url, app_ctx):
    """The table with the new row, and an app built from it (views read the table when created)."""
    monkeypatch.setitem(TRANSITIONS, ACTION, HOLD)
    db.session.add(OrderStatusDefinition(title="On Hold", color="#ff9900"))
    db.session.commit()
    return make_test_app(database_url)


def test_a_new_row_appears_on_every_face_and_runs(hold_app, session, full_admin):
    pending = factories.make_order(status=OrderStatus.PENDING)
    cancelled = factories.make_order(status=OrderStatus.CANCELLED, invoice_status="Cancelled")
    ticked = [factories.make_order(status=OrderStatus.PENDING) for _ in range(2)]
    session.commit()
    with hold_app.test_request_context():
        web = hold_app.test_client(user=full_admin)
        page = web.get(f"/admin/orders/details/?id={pending.id}").get_data(as_text=True)
        button = re.search(r'<button[^>]*data-verb="put_on_hold"[^>]*>[^<]*', page).group(0)
        assert "Put on Hold" in button and "Hold order #" in button  # label and confirmation
        assert 'data-verb="put_on_hold"' not in web.get(
            f"/admin/orders/details/?id={cancelled.id}").get_data(as_text=True)  # its guard

        listing = web.get("/admin/orders/").get_data(as_text=True)
        row = listing[listing.index(f'value="{pending.id}"'):]
        assert 'action="/admin/orders/order/put_on_hold/"' in row[:row.index("</tr>")]  # row action
        assert 'bulk_put_on_hold' in listing and "Put the selected orders on hold?" in listing  # bulk

        done = web.post("/admin/orders/order/put_on_hold/", follow_redirects=True, data={
            "id": pending.id, "expected_version": pending.version, "url": "/admin/orders/"})
        assert f"Order #{pending.order_number} put on hold." in done.get_data(as_text=True)
        bulk = web.post("/admin/orders/action/", follow_redirects=True, data={
            "action": "bulk_put_on_hold", "rowid": [str(o.id) for o in [*ticked, cancelled]],
            "url": "/admin/orders/"})
        assert "Put on Hold: 2 changed, 1 refused" in bulk.get_data(as_text=True)
        assert "Only pending orders can be put on hold" in bulk.get_data(as_text=True)

    db.session.expire_all()
    held = [db.session.get(Order, o.id).status for o in (pending, *ticked, cancelled)]
    assert held == ["On Hold", "On Hold", "On Hold", OrderStatus.CANCELLED]
    verbs = db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == pending.id)).all()
    assert verbs == ["order_status_changed"]


def test_the_rows_permissions_guard_every_face(hold_app, session):
    support = factories.make_admin("Support")
    order = factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    with hold_app.test_request_context():
        web = hold_app.test_client(user=support)
        assert "put_on_hold" not in web.get("/admin/orders/").get_data(as_text=True)
        form = {"id": order.id, "expected_version": order.version}
        assert web.post("/admin/orders/order/put_on_hold/", data=form).status_code == 403
        assert web.post("/admin/orders/action/", data={"action": "bulk_put_on_hold", "rowid": [order.id]}
                        ).status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PENDING
