"""The lean orders grid and the chrome kept per role (admin/lean_grid.py, admin/menu.py,
admin/access.py): a menu rendered once is never shown to a role it was not rendered for, its badges
stay live, and a row's actions are one POST form whose buttons follow each order's guard."""

import re
from html import unescape

from models import InvoiceStatus, OrderStatus, Permission
from tests import factories

SETUP_URL = "/admin/settings/"


def _row(html: str, order_id: int) -> str:
    start = html.index(f'class="action-checkbox" value="{order_id}"')
    return html[start:html.index("</tr>", start)]


def test_the_menu_follows_each_admins_permissions_and_its_role_changes(client_as, full_admin, support_admin,
                                                                       session):
    full, support = client_as(full_admin), client_as(support_admin)
    for _ in range(2):  # the second time from the menus kept per process
        assert SETUP_URL in full.get("/admin/orders/").get_data(as_text=True)
        assert SETUP_URL not in support.get("/admin/orders/").get_data(as_text=True)
    support_admin.role.permissions = [*support_admin.role.permissions, Permission.CONFIGURE_GENERAL_SETTINGS]
    session.commit()
    try:
        assert SETUP_URL in support.get("/admin/orders/").get_data(as_text=True)
    finally:
        support_admin.role.permissions = [p for p in support_admin.role.permissions
                                          if p != Permission.CONFIGURE_GENERAL_SETTINGS]
        session.commit()
    assert SETUP_URL not in support.get("/admin/orders/").get_data(as_text=True)


def test_the_pending_badge_counts_on_every_request_though_the_menu_is_kept(admin_client, session):
    for count in (1, 2):
        factories.make_order(status=OrderStatus.PENDING)
        session.commit()
        html = admin_client.get("/admin/orders/").get_data(as_text=True)
        assert re.search(rf'id="pending-orders-badge"[^>]*>{count}<', html)


def test_a_rows_actions_are_one_post_form_with_a_button_per_allowed_action(admin_client, session):
    pending = factories.make_order(status=OrderStatus.PENDING)
    cancelled = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    session.commit()
    html = admin_client.get("/admin/orders/").get_data(as_text=True)
    expected = ((pending, ["accept", "cancel", "set_fraud"]), (cancelled, ["set_fraud", "set_pending"]))
    for order, verbs in expected:
        row = _row(html, order.id)
        assert row.count("<form") == 1 and 'method="POST"' in row
        assert f'name="id" value="{order.id}"' in row
        assert f'name="expected_version" value="{order.version}"' in row
        assert 'name="csrf_token"' in row
        assert re.findall(r'data-verb="([a-z_]+)"', row) == verbs
        for verb in verbs:
            assert f'formaction="/admin/orders/order/{verb}/"' in row
        assert f'data-confirm="Set order #{order.order_number} as fraud?"' in row
        assert f'href="/admin/clients/details/?id={order.client_id}"' in row
        assert f'href="/admin/orders/details/?id={order.id}"' in row


def test_a_row_action_posted_from_the_grid_runs(admin_client, session):
    order = factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    html = admin_client.get("/admin/orders/").get_data(as_text=True)
    row = _row(html, order.id)
    fields = {name: unescape(value) for name, value in
              re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', row)}
    response = admin_client.post("/admin/orders/order/cancel/", data=fields)
    assert response.status_code == 302 and response.headers["Location"] == fields["url"]  # back to the page
    session.expire_all()
    assert session.get(type(order), order.id).status == OrderStatus.CANCELLED
