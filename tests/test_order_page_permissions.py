"""The order page's buttons and POST endpoints by role: each shown and allowed only with its
permission."""

import pytest

from extensions import db
from models import (
    InvoiceStatus,
    OrderStatus,
    Role,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from tests import factories
from tests.test_order_page import FULL, PAGE, buttons, page, post, state


@pytest.mark.parametrize(
    "role, status, invoice, paid, expected",
    [
        (FULL, OrderStatus.PENDING, InvoiceStatus.UNPAID, False, {"accept", "cancel", "set_fraud"}),
        (FULL, OrderStatus.CANCELLED, InvoiceStatus.CANCELLED, False, {"set_fraud", "set_pending", "delete"}),
        (FULL, OrderStatus.FRAUD, InvoiceStatus.CANCELLED, False, {"cancel", "set_pending", "delete"}),
        (FULL, OrderStatus.ACTIVE, InvoiceStatus.PAID, True, {"cancel", "set_fraud", "set_pending"}),
        ("Sales Operator", OrderStatus.CANCELLED, InvoiceStatus.CANCELLED, False,
         {"set_fraud", "set_pending"}),
        ("Support", OrderStatus.PENDING, InvoiceStatus.UNPAID, False, set()),
    ],
)
def test_buttons_follow_guard_and_permission(client_as, session, role, status, invoice, paid, expected):
    order = factories.make_order(status=status, invoice_status=invoice, paid=paid)
    user = factories.make_admin(role)
    session.commit()
    html = page(client_as(user), order.id)
    # Bank transfer cannot refund, so Cancel & Refund never shows for these orders.
    assert buttons(html) == expected
    assert ('id="status-form"' in html) == (role != "Support")
    assert ('name="admin_notes"' in html) == (role != "Support")


def test_cancel_and_refund_button_needs_a_gateway_that_refunds(admin_client, session):
    order = factories.make_order(status=OrderStatus.ACTIVE, invoice_status=InvoiceStatus.PAID, paid=True,
                                 gateway="stripe")
    session.commit()
    # No Stripe gateway is configured with keys, but the module supports refunds.
    assert "cancel_and_refund" in buttons(page(admin_client, order.id))


ENDPOINTS = [
    ("/order/accept/", {}),
    ("/order/cancel/", {}),
    ("/order/cancel_and_refund/", {}),
    ("/order/set_fraud/", {}),
    ("/order/set_pending/", {}),
    ("/order/delete/", {}),
    ("/order/change_status/", {"status": "Active"}),
    ("/order/affiliate/", {"affiliate_id": ""}),
    ("/order/notes/", {"admin_notes": "changed"}),
]


@pytest.mark.parametrize("path, data", ENDPOINTS)
def test_support_gets_403_and_nothing_changes(client_as, session, path, data):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    user = factories.make_admin("Support")
    session.commit()
    before = state(order.id)
    assert post(client_as(user), path, order, follow=False, **data).status_code == 403
    assert state(order.id) == before


def test_sales_operator_cannot_delete_or_refund(client_as, session):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    user = factories.make_admin("Sales Operator")
    session.commit()
    before = state(order.id)
    client = client_as(user)
    assert post(client, "/order/delete/", order, follow=False).status_code == 403
    assert post(client, "/order/cancel_and_refund/", order, follow=False).status_code == 403
    assert state(order.id) == before


def test_details_need_view_order_details(client_as, session):

    role = Role(name="Lister", permissions=["View Orders"])
    session.add(role)
    session.flush()
    order = factories.make_order()
    user = factories.make_admin("Lister")
    session.commit()
    assert client_as(user).get(PAGE.format(order.id)).status_code == 403


def test_side_effect_buttons_need_retry_permission(client_as, session):
    order = factories.make_order(status=OrderStatus.ACTIVE)
    effect = SideEffect(order_id=order.id, kind=SideEffectKind.MODULE_CREATE, target_type="service",
                        target_id=order.services[0].id, status=SideEffectStatus.FAILED, attempts=5,
                        last_error="Server said no", idempotency_key="k-1")
    session.add(effect)
    user = factories.make_admin("Support")
    session.commit()
    client = client_as(user)
    html = page(client, order.id)
    assert "Server said no" in html and "/side-effect/retry/" not in html
    response = post(client, "/side-effect/retry/", order, follow=False, side_effect_id=effect.id)
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(SideEffect, effect.id).status == SideEffectStatus.FAILED
