"""The activity log: every order's events and the back office's own, filterable by admin, verb,
order and date, newest first; a filter that cannot apply does not widen the list."""

import re
from datetime import UTC, datetime

import pytest

from extensions import db
from models import OrderEvent
from tests import factories
from tests.sql_support import recorded_statements

LOG = "/admin/activity-log/"


@pytest.fixture
def events(session, full_admin):
    other = factories.make_admin("Sales Operator")
    order = factories.make_order()
    rows = [
        OrderEvent(order_id=order.id, actor_type="admin", actor_id=full_admin.id, actor_name="Ada",
                   verb="order_cancelled", created_at=datetime(2025, 1, 5, 10, tzinfo=UTC)),
        OrderEvent(order_id=order.id, actor_type="admin", actor_id=other.id, actor_name="Bob",
                   verb="order_set_pending", created_at=datetime(2025, 2, 5, 10, tzinfo=UTC)),
        OrderEvent(order_id=None, actor_type="admin", actor_id=other.id, actor_name="Bob",
                   verb="list_exported", details={"list": "orders", "rows": 3},
                   created_at=datetime(2025, 2, 6, 10, tzinfo=UTC)),
    ]
    session.add_all(rows)
    session.commit()
    return {"order": order, "other": other, "rows": rows}


def ids(client, **query) -> list[int]:
    response = client.get(LOG, query_string=query)
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'class="col-id">\s*(\d+)\s*<', response.get_data(as_text=True))]


def test_filters_pick_exactly_the_events(admin_client, events):
    a, b, c = (row.id for row in events["rows"])
    assert ids(admin_client) == [c, b, a]  # newest first
    assert ids(admin_client, flt0_admin_is=str(events["other"].id)) == [c, b]
    assert ids(admin_client, flt0_verb_equals="order_cancelled") == [a]
    assert ids(admin_client, flt0_order_id_equals=str(events["order"].id)) == [b, a]
    assert ids(admin_client, flt0_date_between="2025-02-01 to 2025-02-28") == [c, b]


def test_a_page_costs_the_same_whatever_the_number_of_events(admin_client, events, session):
    admin_client.get(LOG)
    with recorded_statements(db.engine) as few:
        admin_client.get(LOG)
    session.add_all(OrderEvent(order_id=events["order"].id, actor_type="system", verb="note")
                    for _ in range(120))
    session.commit()
    admin_client.get(LOG)
    with recorded_statements(db.engine) as many:
        admin_client.get(LOG)
    assert len(many) == len(few)


def test_needs_view_activity_log(client_as, session):
    from models import Role

    session.add(Role(name="No log", permissions=["View Orders"]))
    session.flush()
    assert client_as(factories.make_admin("No log")).get(LOG).status_code == 403
    assert client_as(factories.make_admin("Support")).get(LOG).status_code == 200
