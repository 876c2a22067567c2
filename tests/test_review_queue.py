"""The review queue: the oldest pending order first, each action back to the next, Skip, keys."""

import re

from extensions import db
from models import Order, OrderStatus, OrderStatusDefinition
from tests import factories

QUEUE = "/admin/orders/review/"


def shown(client, url=QUEUE) -> int | None:
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'id="queue-order" data-order-id="(\d+)"', html)
    return int(found.group(1)) if found else None


def test_clear_the_pending_orders_one_after_another(admin_client, session):
    session.add(OrderStatusDefinition(title="Review", include_in_pending=True))
    session.flush()
    active = factories.make_order(status=OrderStatus.ACTIVE)
    first, second = factories.make_order(), factories.make_order(status="Review")
    third = factories.make_order()
    session.commit()
    assert shown(admin_client) == first.id and active.id != first.id
    html = admin_client.get(QUEUE).get_data(as_text=True)
    for key, label in (("a", "Accept Order"), ("c", "Cancel Order"), ("f", "Set as Fraud"), ("s", "or")):
        assert f"<kbd>{key}</kbd> {label}" in html
    done = admin_client.post("/admin/orders/order/accept/", follow_redirects=True, data={
        "id": first.id, "expected_version": first.version, "url": QUEUE})
    assert f"Order #{first.order_number} accepted." in done.get_data(as_text=True)
    assert shown(admin_client) == second.id  # the next one, a custom pending status included
    assert shown(admin_client, f"{QUEUE}?after={second.id}") == third.id  # Skip
    assert shown(admin_client, f"{QUEUE}?after={third.id}") == second.id  # wraps round
    for order in (second, third):
        db.session.expire_all()
        fresh = db.session.get(Order, order.id)
        admin_client.post("/admin/orders/order/cancel/",
                          data={"id": fresh.id, "expected_version": fresh.version, "url": QUEUE})
    assert 'id="queue-empty"' in admin_client.get(QUEUE).get_data(as_text=True)


def test_order_page_links_to_the_next_pending_order(admin_client, session):
    first, second = factories.make_order(), factories.make_order()
    session.commit()
    html = admin_client.get(f"/admin/orders/details/?id={first.id}").get_data(as_text=True)
    assert re.search(rf'href="/admin/orders/details/\?id={second.id}"[^>]*id="next-pending"', html)


def test_bad_positions_and_roles(admin_client, client_as, session):
    order = factories.make_order()
    session.commit()
    for after in ("abc", "-1", "99999999999999999999", "\u0661"):
        assert shown(admin_client, f"{QUEUE}?after={after}") == order.id
    support = client_as(factories.make_admin("Support"))
    html = support.get(QUEUE).get_data(as_text=True)
    assert 'id="queue-order"' in html and "data-verb=" not in html  # sees it, may not act
