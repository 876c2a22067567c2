"""Cancelling a queued terminate or refund has its own permission: a Sales Operator (who may retry
failed side effects and cancel queued creates and emails) cannot leave a fraud order's account
running by cancelling its terminate. Each cancel asks for confirmation and is on the timeline."""

import re

import pytest
from sqlalchemy import select

from actions.actor import Actor
from actions.fraud import set_order_fraud
from actions.side_effects import PENDING_KEY
from extensions import db
from models import OrderEvent, SideEffect, SideEffectKind, SideEffectStatus
from models.permissions import BUILTIN_ROLES, FULL_ADMINISTRATOR, SALES_OPERATOR, Permission
from tests import factories
from tests.test_order_page import PAGE, page


def queued_terminate(session):
    """A fraud order with an Active service: Set as Fraud records its terminate, committed while
    still queued (the embedded dispatcher is not handed the row, as if no worker had run yet)."""
    order = factories.make_order(status="Active", services=["Active"], invoice_status="Paid", paid=True)
    session.commit()
    set_order_fraud(session, order.id, Actor.system())
    terminate = session.scalar(select(SideEffect).where(SideEffect.kind == SideEffectKind.MODULE_TERMINATE))
    session.info.pop(PENDING_KEY, None)
    session.commit()
    return session.get(type(order), order.id), terminate


def post_cancel(client, order, effect):
    return client.post("/admin/orders/side-effect/cancel/", data={
        "id": order.id, "expected_version": order.version, "url": PAGE.format(order.id),
        "side_effect_id": effect.id})


def test_the_permissions_say_what_they_allow():
    assert Permission.CANCEL_TERMINATIONS_AND_REFUNDS in BUILTIN_ROLES[FULL_ADMINISTRATOR]
    assert Permission.CANCEL_TERMINATIONS_AND_REFUNDS not in BUILTIN_ROLES[SALES_OPERATOR]
    sales = set(BUILTIN_ROLES[SALES_OPERATOR])
    assert {Permission.RETRY_SIDE_EFFECTS, Permission.CANCEL_SIDE_EFFECTS} <= sales


def test_a_sales_operator_cannot_cancel_a_queued_terminate(client_as, session):
    order, terminate = queued_terminate(session)
    sales = client_as(factories.make_admin("Sales Operator"))
    session.commit()
    html = page(sales, order.id)
    row = html[html.index(f'id="side-effect-{terminate.id}"'):]
    assert 'data-effect-verb="cancel"' not in row[:row.index("</tr>")]
    assert post_cancel(sales, order, terminate).status_code == 403
    listing_cancel = sales.post("/admin/side-effects/action/", follow_redirects=True, data={
        "action": "cancel", "rowid": [terminate.id], "url": "/admin/side-effects/"})
    assert "needs Cancel Queued Terminations and Refunds" in listing_cancel.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SideEffect, terminate.id).status == SideEffectStatus.QUEUED


def test_a_sales_operator_can_cancel_a_queued_create(client_as, session):
    order = factories.make_order()
    effect = SideEffect(order_id=order.id, kind=SideEffectKind.MODULE_CREATE, target_type="service",
                        target_id=order.services[0].id, status=SideEffectStatus.FAILED, idempotency_key="c-1")
    session.add(effect)
    sales = client_as(factories.make_admin("Sales Operator"))
    session.commit()
    assert post_cancel(sales, order, effect).status_code == 302
    db.session.expire_all()
    assert db.session.get(SideEffect, effect.id).status == SideEffectStatus.CANCELLED


@pytest.mark.parametrize("kind, warning", [(SideEffectKind.MODULE_TERMINATE, "The account stays live")])
def test_a_full_administrator_cancels_with_a_confirmation_and_an_event(admin_client, session, kind, warning):
    order, terminate = queued_terminate(session)
    html = page(admin_client, order.id)
    button = re.search(rf'id="side-effect-{terminate.id}".*?(<button[^>]*data-effect-verb="cancel"[^>]*>)',
                       html, re.S).group(1)
    assert "data-confirm=" in button and warning in button
    assert post_cancel(admin_client, order, terminate).status_code == 302
    db.session.expire_all()
    assert db.session.get(SideEffect, terminate.id).status == SideEffectStatus.CANCELLED
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.verb == "side_effect_cancelled"))
    assert event.actor_type == "admin" and event.details["kind"] == kind
