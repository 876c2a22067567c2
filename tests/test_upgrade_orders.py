"""Upgrade / downgrade orders end to end in the embedded mode (side effects run in-process after the
commit): paying applies the change once, a free downgrade applies on accept with its credit or
refund, a service that is not Active is refused with nothing written, one open upgrade at a time,
and the service.upgraded event hook."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.accept import accept_order
from actions.actor import Actor
from actions.cancel import cancel_order
from actions.errors import TransitionError
from actions.events import Verb
from actions.mark_paid import mark_invoice_paid_with_payment
from actions.upgrade_service import order_upgrade
from admin.timeline import describe
from extensions import db
from models import (
    BillingCycle,
    Client,
    HookEndpoint,
    Invoice,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
    Service,
    ServiceStatus,
    ServiceUpgrade,
    Setting,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
    UpgradeStatus,
)
from tests import factories
from tests.jobs_support import fresh

D = Decimal
M = BillingCycle.MONTHLY
TODAY, DUE = date(2026, 4, 5), date(2026, 4, 15)  # 10 of the 31 days from 15 Mar left
ADMIN = Actor.system("Test admin")


def catalog():
    return (factories.make_product(name="Small", prices={M: ("10.00", "5.00")}),
            factories.make_product(name="Large", prices={M: ("25.00", "5.00")}))


def live_service(product, status=ServiceStatus.ACTIVE, recurring="10.00", paid=False):
    order = factories.make_order(status=OrderStatus.ACTIVE, services=(status,), product=product,
                                 invoice_status=InvoiceStatus.PAID if paid else InvoiceStatus.UNPAID,
                                 paid=paid)
    service = order.services[0]
    service.next_due_date = service.next_invoice_date = DUE
    service.recurring_amount = D(recurring)
    db.session.commit()
    return service


def change_effects(order_id):
    return db.session.scalars(select(SideEffect).where(
        SideEffect.order_id == order_id, SideEffect.kind == SideEffectKind.MODULE_CHANGE_PACKAGE)).all()


def verbs(order_id):
    return [e.verb for e in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id))]


def test_paying_the_upgrade_invoice_applies_the_change_once(session):
    small, large = catalog()
    service = live_service(small)
    order = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    # (25.00 - 10.00) x 10/31 = 4.8387.. -> 4.84, nothing applied before the payment
    assert order.invoice.total == D("4.84") and order.invoice.status == InvoiceStatus.UNPAID
    assert fresh(Service, service.id).product_id == small.id and change_effects(order.id) == []

    mark_invoice_paid_with_payment(session, order.invoice, ADMIN, gateway="banktransfer",
                                   transaction_id="up-1")
    db.session.commit()  # the change_package runs in-process after the commit
    after = fresh(Service, service.id)
    assert (after.product_id, after.recurring_amount, after.billing_cycle, after.next_due_date) == (
        large.id, D("25.00"), M, DUE)
    [effect] = change_effects(order.id)
    assert effect.status == SideEffectStatus.SUCCEEDED
    assert fresh(ServiceUpgrade, effect.payload["upgrade_id"]).status == UpgradeStatus.COMPLETED
    # Accepting the paid order afterwards records no second change.
    accept_order(session, order.id, None, ADMIN)
    db.session.commit()
    assert len(change_effects(order.id)) == 1 and verbs(order.id).count(Verb.SERVICE_UPGRADED) == 1
    applied = db.session.scalar(select(OrderEvent).where(OrderEvent.verb == Verb.SERVICE_UPGRADED))
    entry = describe(applied)
    assert entry.sentence == f"Upgrade applied to service #{service.id}."
    assert "Recurring amount: $10.00 USD → $25.00 USD" in entry.changes


def test_a_free_downgrade_waits_for_accept_then_credits_the_client(session):
    small, large = catalog()
    service = live_service(large, recurring="25.00")
    order = order_upgrade(session, service.id, small.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    # Nothing to pay: a 0.00 invoice, Paid at once; the credit (25.00 - 10.00) x 10/31 -> 4.84 waits.
    assert (order.invoice.total, order.invoice.status) == (D("0.00"), InvoiceStatus.PAID)
    assert fresh(Service, service.id).product_id == large.id and change_effects(order.id) == []
    accept_order(session, order.id, None, ADMIN)
    db.session.commit()
    after = fresh(Service, service.id)
    assert (after.product_id, after.recurring_amount) == (small.id, D("10.00"))
    assert fresh(Client, service.client_id).credit_balance == D("4.84")
    assert fresh(Order, order.id).status == OrderStatus.ACTIVE


def test_with_the_refund_setting_the_credit_goes_back_on_the_services_payment(session):
    db.session.get(Setting, "downgrade_credit_method").value = "refund"
    small, large = catalog()
    service = live_service(large, recurring="25.00", paid=True)  # its invoice: 15.00 paid by bank transfer
    order = order_upgrade(session, service.id, small.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    accept_order(session, order.id, None, ADMIN)
    db.session.commit()
    refunds = db.session.scalars(select(Transaction).where(Transaction.amount_out > 0)).all()
    assert [(r.invoice_id, r.amount_out) for r in refunds] == [(service.order.invoice_id, D("4.84"))]
    assert fresh(Client, service.client_id).credit_balance == D("0.00")


@pytest.mark.parametrize("status", [ServiceStatus.PENDING, ServiceStatus.SUSPENDED, ServiceStatus.CANCELLED,
                                    ServiceStatus.TERMINATED, ServiceStatus.FRAUD])
def test_a_service_that_is_not_active_is_refused_with_nothing_written(session, status):
    small, large = catalog()
    service = live_service(small, status=status)
    tables = (Order, Invoice, ServiceUpgrade)
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in tables]
    with pytest.raises(TransitionError) as refused:
        order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.rollback()
    assert refused.value.message == (f"Only an Active service can be upgraded or downgraded; this one is "
                                     f"{status}.")
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in tables] == counts
    after = fresh(Service, service.id)
    assert (after.product_id, after.recurring_amount, after.status) == (small.id, D("10.00"), status)


def test_one_open_upgrade_per_service_and_cancelling_it_frees_the_service(session):
    small, large = catalog()
    service = live_service(small)
    first = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    with pytest.raises(TransitionError) as refused:
        order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.rollback()
    assert f"Order #{first.order_number} already upgrades or downgrades this service" in refused.value.message
    cancel_order(session, first.id, ADMIN)
    db.session.commit()
    second = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    assert second.id != first.id


def test_the_applied_change_is_announced_to_event_hooks(session):
    db.session.add(HookEndpoint(url="http://127.0.0.1:9/hooks", events=["service.upgraded"], active=True,
                                secret="s"))
    small, large = catalog()
    service = live_service(small)
    order = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    mark_invoice_paid_with_payment(session, order.invoice, ADMIN, gateway="banktransfer",
                                   transaction_id="up-2")
    db.session.commit()
    [delivery] = db.session.scalars(select(SideEffect).where(SideEffect.kind == SideEffectKind.HOOK_DELIVERY))
    assert delivery.payload["type"] == "service.upgraded"
    data = delivery.payload["data"]
    assert data["order"]["id"] == order.id and data["service"]["product_id"] == large.id
    assert data["changes"]["recurring_amount"] == {"from": "10.00", "to": "25.00"}


@pytest.mark.parametrize("change", ["renewed", "product edited"])
def test_a_service_changed_before_the_payment_is_not_changed_on_the_old_price(session, change):
    small, large = catalog()
    service = live_service(small)
    order = order_upgrade(session, service.id, large.id, M, {}, ADMIN, today=TODAY)
    db.session.commit()
    edited = db.session.get(Service, service.id)
    if change == "renewed":  # its renewal was paid first: the prorated days are gone
        edited.next_due_date = edited.next_invoice_date = date(2026, 5, 15)
    else:
        edited.product_id = large.id
    db.session.commit()
    mark_invoice_paid_with_payment(session, fresh(Invoice, order.invoice_id), ADMIN, gateway="banktransfer",
                                   transaction_id="up-late")
    db.session.commit()
    after = fresh(Service, service.id)
    assert (after.recurring_amount, after.next_due_date) == (
        D("10.00"), date(2026, 5, 15) if change == "renewed" else DUE)
    [effect] = change_effects(order.id)
    assert effect.status != SideEffectStatus.SUCCEEDED
    assert "changed since the upgrade was ordered" in (effect.last_error or "")
    assert fresh(ServiceUpgrade, effect.payload["upgrade_id"]).status == UpgradeStatus.PENDING
