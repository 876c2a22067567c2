"""Bulk actions on the orders list grid, through Flask-Admin's /admin/orders/action/ endpoint."""

import pytest
from sqlalchemy import func, select

from extensions import db
from models import InvoiceStatus, Order, OrderStatus, OrderStatusDefinition, SideEffect
from tests import factories
from tests.sql_support import recorded_statements

LIST = "/admin/orders/"


def statuses(orders) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Order, o.id).status for o in orders]


def bulk(client, action, orders=(), query="", **form):
    data = {"action": action, "rowid": [str(o.id) for o in orders], "url": LIST, **form}
    return client.post(f"{LIST}action/{query}", data=data, follow_redirects=True)


def test_bulk_cancel_reports_changed_and_refused(admin_client, session):
    pending = [factories.make_order(status=OrderStatus.PENDING) for _ in range(2)]
    cancelled = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    session.commit()
    html = bulk(admin_client, "bulk_cancel", pending + [cancelled]).get_data(as_text=True)
    assert "2 changed, 1 refused" in html
    assert f"#{cancelled.order_number}: The order is already Cancelled" in html
    assert statuses(pending + [cancelled]) == [OrderStatus.CANCELLED] * 3
    # Status only: invoices untouched, no side effects.
    assert [db.session.get(Order, o.id).invoice.status for o in pending] == [InvoiceStatus.UNPAID] * 2
    assert db.session.scalar(select(func.count()).select_from(SideEffect)) == 0


def test_bulk_accept_fraud_and_pending(admin_client, session):
    orders = [factories.make_order(status=OrderStatus.PENDING) for _ in range(2)]
    session.commit()
    assert "2 changed, 0 refused" in bulk(admin_client, "bulk_set_fraud", orders).get_data(as_text=True)
    assert statuses(orders) == [OrderStatus.FRAUD] * 2
    bulk(admin_client, "bulk_set_pending", orders)
    assert statuses(orders) == [OrderStatus.PENDING] * 2
    bulk(admin_client, "bulk_accept", orders)
    assert statuses(orders) == [OrderStatus.ACTIVE] * 2


def test_bulk_delete_only_cancelled_or_fraud(admin_client, session):
    cancelled = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    pending = factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    html = bulk(admin_client, "bulk_delete", [cancelled, pending]).get_data(as_text=True)
    assert "1 changed, 1 refused" in html
    db.session.expire_all()
    assert db.session.get(Order, cancelled.id) is None
    assert db.session.get(Order, pending.id).status == OrderStatus.PENDING


def test_bulk_set_custom_status_through_the_second_page(admin_client, session):
    session.add(OrderStatusDefinition(title="On Hold", color="#ff9900"))
    orders = [factories.make_order(status=OrderStatus.PENDING) for _ in range(2)]
    session.commit()
    form_page = bulk(admin_client, "bulk_change_status", orders).get_data(as_text=True)
    assert "Set status of 2 selected order(s)" in form_page and "On Hold" in form_page
    response = admin_client.post(f"{LIST}action/", follow_redirects=True, data={
        "action": "bulk_change_status", "rowid": [str(o.id) for o in orders], "status": "On Hold",
        "url": LIST})
    assert "2 changed, 0 refused" in response.get_data(as_text=True)
    assert statuses(orders) == ["On Hold"] * 2


@pytest.mark.parametrize("role, path, form", [
    ("Sales Operator", "action/", {"action": "bulk_delete"}),
    ("Support", "action/", {"action": "bulk_cancel"}),
    ("Support", "action/", {"action": "bulk_change_status"}),
    ("Support", "action/", {"action": "bulk_change_status", "status": "Active"}),
])
def test_bulk_needs_the_actions_permission(client_as, session, role, path, form):
    # One admin per test: the test app context (and Flask-Login's user in g) spans its requests.
    orders = [factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED),
              factories.make_order(status=OrderStatus.PENDING)]
    client = client_as(factories.make_admin(role))
    session.commit()
    response = client.post(f"{LIST}{path}", data={"rowid": [str(o.id) for o in orders], "url": LIST, **form})
    assert response.status_code == 403
    assert statuses(orders) == [OrderStatus.CANCELLED, OrderStatus.PENDING]


def test_support_sees_no_bulk_or_row_actions(client_as, session):
    factories.make_order(status=OrderStatus.PENDING)
    client = client_as(factories.make_admin("Support"))
    session.commit()
    html = client.get(LIST).get_data(as_text=True)
    assert "bulk_cancel" not in html and "/order/cancel/" not in html and "select-all-matching" not in html


def test_select_all_matching_applies_to_the_filtered_set(admin_client, session):
    # More than a page (page_size 50) of pending orders, plus orders the filter leaves out.
    pending = [factories.make_order(status=OrderStatus.PENDING, services=(), invoice_status=None)
               for _ in range(55)]
    others = [factories.make_order(status=OrderStatus.ACTIVE, services=(), invoice_status=None)
              for _ in range(3)]
    session.commit()
    query = "?flt0_status_equals=Pending"
    listing = admin_client.get(f"{LIST}{query}").get_data(as_text=True)
    assert 'id="matching-count"' not in listing  # no COUNT unless asked for
    asked = admin_client.get(f"{LIST}{query}&all_matching=1").get_data(as_text=True)
    assert 'id="matching-count">55<' in asked
    assert 'action="/admin/orders/action/?flt0_status_equals=Pending"' in asked
    html = bulk(admin_client, "bulk_cancel", query=query, all_matching="1").get_data(as_text=True)
    assert "55 changed, 0 refused" in html
    assert set(statuses(pending)) == {OrderStatus.CANCELLED}
    assert statuses(others) == [OrderStatus.ACTIVE] * 3


def test_set_status_on_every_matching_order(admin_client, session):
    session.add(OrderStatusDefinition(title="On Hold", color="#ff9900"))
    bare = dict(services=(), invoice_status=None)
    pending = [factories.make_order(status=OrderStatus.PENDING, **bare) for _ in range(3)]
    active = factories.make_order(status=OrderStatus.ACTIVE, **bare)
    session.commit()
    query = "?flt0_status_equals=Pending"
    form_page = bulk(admin_client, "bulk_change_status", query=query, all_matching="1").get_data(as_text=True)
    assert "every order matching the filter" in form_page
    assert 'action="/admin/orders/action/?flt0_status_equals=Pending"' in form_page
    response = admin_client.post(f"{LIST}action/{query}", follow_redirects=True,
                                 data={"action": "bulk_change_status", "all_matching": "1",
                                       "status": "On Hold", "url": LIST})
    assert "3 changed, 0 refused" in response.get_data(as_text=True)
    assert statuses(pending + [active]) == ["On Hold"] * 3 + [OrderStatus.ACTIVE]


def test_row_actions_add_no_queries_per_row(admin_client, session):
    def count_list_queries():
        admin_client.get(LIST)  # reloads the admin expired by the commit (one app context per test)
        session.expunge_all()  # nothing cached: every row's data must come from the list's queries
        with recorded_statements(db.engine) as statements:
            assert admin_client.get(LIST).status_code == 200
        return len(statements)

    factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    few = count_list_queries()
    for status in [OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.FRAUD, OrderStatus.ACTIVE] * 5:
        factories.make_order(status=status)
    session.commit()
    assert count_list_queries() == few
