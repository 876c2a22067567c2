"""Side-effect outcomes: complete_side_effect / fail_side_effect apply the item-level result.

Nothing here commits: on commit the embedded dispatcher would run the rows itself.
"""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from actions.accept import AcceptOptions, DomainAcceptOptions, ServiceAcceptOptions, accept_order
from actions.actor import Actor
from actions.cancel import cancel_order
from actions.fraud import set_order_fraud
from actions.side_effect_outcomes import complete_side_effect, fail_side_effect, start_side_effect
from actions.side_effects import cancel_side_effect, retry_side_effect
from actions.transitions import TransitionError
from models import EmailLog, Gateway, Invoice, OrderEvent, SideEffect, Transaction, utcnow
from modules.base import ModuleResult
from tests.factories import make_order

ADMIN = Actor("admin", 7, "Outcome Test")


def effects(session, order_id, kind=None):
    query = select(SideEffect).where(SideEffect.order_id == order_id).order_by(SideEffect.id)
    if kind:
        query = query.where(SideEffect.kind == kind)
    return session.scalars(query).all()


def verbs(session, order_id):
    query = select(OrderEvent.verb).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    return session.scalars(query).all()


def run(session, effect, result):
    claimed = start_side_effect(session, effect.id)
    assert claimed is effect and effect.status == "running" and effect.attempts == 1
    complete_side_effect(session, effect, result)


def test_create_ok_makes_service_active_and_records_the_welcome_email(session):
    order = make_order(services=["Pending"], invoice_status="Unpaid")
    accept_order(session, order, None, ADMIN)
    service = order.services[0]
    assert service.status == "Pending" and service.username and service.password
    (create,) = effects(session, order.id)
    assert create.kind == "module_create" and create.payload["send_welcome_email"] is True

    run(session, create, ModuleResult.ok("Account created"))
    assert service.status == "Active" and service.registration_date is not None
    assert create.status == "succeeded" and create.finished_at is not None and create.last_error == ""
    (email,) = effects(session, order.id, "email")
    log = session.get(EmailLog, email.payload["email_log_id"])
    assert log.status == "queued" and log.to == order.client.email and email.target_id == log.id
    event = session.scalar(select(OrderEvent).where(OrderEvent.verb == "side_effect_succeeded"))
    assert (event.from_status, event.to_status, event.actor_type) == ("Pending", "Active", "system")
    assert event.details["side_effect_id"] == create.id

    complete_side_effect(session, create, ModuleResult.ok())  # a second report changes nothing
    assert verbs(session, order.id).count("side_effect_succeeded") == 1
    assert len(effects(session, order.id, "email")) == 1


def test_accept_without_create_is_active_now_with_welcome_email(session):
    order = make_order(services=["Pending"])
    service_id = order.services[0].id
    options = AcceptOptions(services={service_id: ServiceAcceptOptions(run_module_create=False)})
    accept_order(session, order, options, ADMIN)
    assert order.services[0].status == "Active"
    assert [e.kind for e in effects(session, order.id)] == ["email"]
    assert session.scalar(select(EmailLog.status).where(EmailLog.order_id == order.id)) == "queued"


def test_failed_create_leaves_service_pending_with_the_error(session):
    order = make_order(services=["Pending"])
    accept_order(session, order, None, ADMIN)
    (create,) = effects(session, order.id)
    start_side_effect(session, create.id)

    retry_at = utcnow() + timedelta(minutes=1)
    fail_side_effect(session, create, "Server unreachable", retry_at=retry_at)
    assert create.status == "queued" and create.next_attempt_at == retry_at
    assert create.last_error == "Server unreachable" and order.services[0].status == "Pending"

    start_side_effect(session, create.id)
    fail_side_effect(session, create, "Quota exceeded")
    assert create.status == "failed" and create.attempts == 2 and create.finished_at is not None
    assert create.last_error == "Quota exceeded" and create.next_attempt_at is None
    assert order.services[0].status == "Pending" and order.status == "Active"
    assert effects(session, order.id, "email") == []
    failed = session.scalars(select(OrderEvent).where(OrderEvent.verb == "side_effect_failed")).all()
    assert [(e.details["error"], e.details["final"]) for e in failed] == [
        ("Server unreachable", False),
        ("Quota exceeded", True),
    ]

    retry_side_effect(session, create, ADMIN)
    assert create.status == "queued" and create.attempts == 0
    assert verbs(session, order.id)[-1] == "side_effect_retried"
    cancel_side_effect(session, create, ADMIN, "not needed")
    assert create.status == "cancelled"
    try:
        retry_side_effect(session, create, ADMIN)
        raise AssertionError("a cancelled row cannot be retried")
    except TransitionError as exc:
        assert exc.code == "not_allowed"


def test_claim_is_exclusive(session):
    order = make_order(services=["Pending"])
    accept_order(session, order, None, ADMIN)
    (create,) = effects(session, order.id)
    assert start_side_effect(session, create.id) is create
    assert start_side_effect(session, create.id) is None


def test_terminate_ok_sets_cancelled_or_fraud(session):
    cancelled = make_order(status="Active", services=["Active"])
    fraud = make_order(status="Active", services=["Suspended"])
    cancel_order(session, cancelled, ADMIN)
    set_order_fraud(session, fraud, ADMIN)
    for order, expected in ((cancelled, "Cancelled"), (fraud, "Fraud")):
        (terminate,) = effects(session, order.id)
        assert order.services[0].status in ("Active", "Suspended")  # not before the command ran
        run(session, terminate, ModuleResult.ok())
        assert order.services[0].status == expected


def test_register_ok_makes_domain_active(session):
    order = make_order(services=[], domains=["Pending"])
    domain = order.domains[0]
    accept_order(
        session, order, AcceptOptions(domains={domain.id: DomainAcceptOptions("manual", True)}), ADMIN
    )
    assert domain.status == "Pending Registration"
    (register,) = effects(session, order.id)
    run(session, register, ModuleResult.ok())
    assert domain.status == "Active"


def test_refund_ok_records_the_refund_and_marks_the_invoice_refunded(session):
    session.add(Gateway(name="stripe", display_name="Stripe", module="stripe"))
    order = make_order(
        status="Active", services=["Pending"], invoice_status="Paid", paid=True, gateway="stripe"
    )
    payment = order.invoice.transactions[0]
    cancel_order(session, order, ADMIN, refund=True)
    (refund,) = effects(session, order.id, "refund")
    assert (
        refund.payload["payment_id"] == payment.id and Decimal(refund.payload["amount"]) == payment.amount_in
    )
    assert order.invoice.status == "Paid"  # not before the gateway said so

    run(session, refund, ModuleResult.ok(transaction_id="re_123"))
    invoice = session.get(Invoice, order.invoice_id)
    assert invoice.status == "Refunded" and invoice.date_refunded is not None
    out = session.scalar(select(Transaction).where(Transaction.refund_of_id == payment.id))
    assert (
        out.amount_out == payment.amount_in
        and out.transaction_id == "re_123"
        and out.invoice_id == invoice.id
    )


def test_email_ok_marks_the_log_sent(session):
    order = make_order(services=["Pending"])
    options = AcceptOptions(services={order.services[0].id: ServiceAcceptOptions(run_module_create=False)})
    accept_order(session, order, options, ADMIN)
    (email,) = effects(session, order.id)
    run(session, email, ModuleResult.ok())
    log = session.get(EmailLog, email.target_id)
    assert log.status == "sent" and log.sent_at is not None


def test_cancel_stops_queued_provisioning_and_a_late_create_is_undone(session):
    order = make_order(services=["Pending", "Pending"])
    accept_order(session, order, None, ADMIN)
    first, second = effects(session, order.id)
    start_side_effect(session, first.id)  # already running when the admin cancels
    cancel_order(session, order, ADMIN)
    assert second.status == "cancelled" and first.status == "running"
    assert "side_effect_cancelled" in verbs(session, order.id)

    complete_side_effect(session, first, ModuleResult.ok())
    assert order.services[0].status == "Cancelled"
    (terminate,) = effects(session, order.id, "module_terminate")
    assert terminate.target_id == order.services[0].id and terminate.payload["then_status"] == "Cancelled"
