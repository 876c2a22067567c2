"""Single-order actions beyond the table: accept options, refusals, notes, affiliate, versions."""

import pytest
from sqlalchemy import select

from actions.accept import AcceptOptions, DomainAcceptOptions, ServiceAcceptOptions, accept_order
from actions.actor import Actor
from actions.affiliate import assign_affiliate
from actions.cancel import cancel_order
from actions.delete import delete_order
from actions.gateways import gateways_can_refund
from actions.notes import update_admin_notes
from actions.pending import set_order_pending
from actions.side_effect_outcomes import start_side_effect
from actions.side_effects import PENDING_KEY, record_side_effect
from actions.status import change_order_status
from actions.transitions import STALE_MESSAGE, TRANSITIONS, Action, TransitionError
from models import (
    Affiliate,
    AutoSetup,
    OrderEvent,
    Server,
    SideEffect,
    Transaction,
    guards,
)
from tests.factories import make_client, make_order, make_product
from tests.test_transitions import table_snapshot

ADMIN = Actor("admin", 3, "Ops")


def kinds(session, order_id):
    query = select(SideEffect.kind).where(SideEffect.order_id == order_id).order_by(SideEffect.id)
    return session.scalars(query).all()


def refused(session, code, call):
    """The call is refused with `code` and every row is as it was."""
    session.info.pop(PENDING_KEY, None)  # rows recorded so far stay queued (as if Redis were down)
    session.commit()
    before = table_snapshot(session)
    with pytest.raises(TransitionError) as caught:
        call()
    session.rollback()
    assert caught.value.code == code, caught.value.message
    assert table_snapshot(session) == before
    return caught.value


@pytest.mark.parametrize(
    ("auto_setup", "created_before", "expected"),
    [
        (AutoSetup.ON_ACCEPT, False, True),
        (AutoSetup.NEVER, False, False),
        (AutoSetup.ON_PAYMENT, False, True),
        (AutoSetup.ON_PAYMENT, True, False),
        (AutoSetup.ON_ORDER, True, False),
    ],
)
def test_run_module_create_defaults_from_auto_setup(session, auto_setup, created_before, expected):
    order = make_order(services=["Pending"], product=make_product(auto_setup=auto_setup))
    service = order.services[0]
    if created_before:
        done = record_side_effect(  # as record_module_create does: under the service's order
            session, kind="module_create", order_id=order.id, target_type="service", target_id=service.id
        )
        done.status = "succeeded"
    accept_order(session, order, None, ADMIN)
    assert kinds(session, order.id).count("module_create") == created_before + expected  # none added
    assert service.status == ("Pending" if expected else "Active")


def test_accept_options_are_applied_and_checked_before_any_change(session):
    server = Server(name="web1", hostname="web1.example")
    session.add(server)
    order = make_order(services=["Pending", "Active"], domains=["Pending", "Active"])
    pending_service, active_service = order.services
    pending_domain = order.domains[0]
    pending_domain.type = "Transfer"

    bad = AcceptOptions(services={pending_service.id: ServiceAcceptOptions(server_id=999999)})
    refused(session, "invalid_option", lambda: accept_order(session, order, bad, ADMIN))
    no_registrar = AcceptOptions(domains={pending_domain.id: DomainAcceptOptions(send_to_registrar=True)})
    refused(session, "invalid_option", lambda: accept_order(session, order, no_registrar, ADMIN))

    options = AcceptOptions(
        services={
            pending_service.id: ServiceAcceptOptions(
                server_id=server.id, username="ada01", password="s3cret-pass", send_welcome_email=False
            )
        },
        domains={pending_domain.id: DomainAcceptOptions(registrar="manual", send_to_registrar=True)},
    )
    accept_order(session, order, options, ADMIN)
    assert (pending_service.server_id, pending_service.username, pending_service.password) == (
        server.id,
        "ada01",
        "s3cret-pass",
    )
    assert active_service.status == "Active" and order.domains[1].status == "Active"
    assert pending_domain.status == "Pending Transfer" and pending_domain.registrar == "manual"
    assert kinds(session, order.id) == ["module_create", "domain_transfer"]
    create = session.scalar(select(SideEffect).where(SideEffect.kind == "module_create"))
    assert create.payload["send_welcome_email"] is False and create.payload["username"] == "ada01"
    event = session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id))
    assert event.details["services"][0]["run_module_create"] is True
    assert "s3cret-pass" not in repr(event.details) and "s3cret-pass" not in repr(create.payload)


def test_cancel_and_refund_refused_up_front_when_the_gateway_cannot_refund(session):
    order = make_order(
        status="Active", services=["Active"], invoice_status="Paid", paid=True, gateway="banktransfer"
    )
    assert guards.payments_to_refund(session, order) is None  # the data allows it ...
    assert gateways_can_refund(session, order).code == "gateway_cannot_refund"  # ... the gateway does not
    row = TRANSITIONS[Action.CANCEL_AND_REFUND]
    assert row.refusal(session, order).code == "gateway_cannot_refund"  # the row asks both
    error = refused(
        session, "gateway_cannot_refund", lambda: cancel_order(session, order, ADMIN, refund=True)
    )
    assert "Bank Transfer cannot refund" in error.message


def test_delete_refused_while_module_commands_are_queued(session):
    order = make_order(status="Active", services=["Active"], invoice_status="Cancelled")
    cancel_order(session, order, ADMIN)
    refused(session, "side_effects_pending", lambda: delete_order(session, order, ADMIN))


def test_delete_keeps_refunded_payments_detached(session):
    order = make_order(status="Cancelled", services=["Cancelled"], invoice_status="Refunded", paid=True)
    payment = order.invoice.transactions[0]
    session.add(
        Transaction(
            client_id=payment.client_id,
            invoice=order.invoice,
            gateway=payment.gateway,
            amount_out=payment.amount_in,
            refund_of_id=payment.id,
        )
    )
    session.flush()
    payment_id = payment.id
    delete_order(session, order, ADMIN)
    kept = session.scalars(select(Transaction).order_by(Transaction.id)).all()
    assert [t.id for t in kept][0] == payment_id and len(kept) == 2
    assert all(t.invoice_id is None for t in kept)


def test_change_status_needs_an_existing_other_status(session):
    order = make_order(status="Pending")
    refused(session, "unknown_status", lambda: change_order_status(session, order, "Nope", ADMIN))
    refused(session, "same_status", lambda: change_order_status(session, order, "Pending", ADMIN))
    change_order_status(session, order, "Active", ADMIN)
    assert order.status == "Active" and order.services[0].status == "Pending"


def test_set_pending_cancels_terminations_not_started(session):
    order = make_order(status="Active", services=["Active", "Active"])
    cancel_order(session, order, ADMIN)
    first, second = session.scalars(select(SideEffect).order_by(SideEffect.id)).all()
    start_side_effect(session, first.id)
    set_order_pending(session, order, ADMIN)
    assert (first.status, second.status) == ("running", "cancelled")
    assert [s.status for s in order.services] == ["Pending", "Pending"]


def test_admin_notes_and_affiliate_write_events(session):
    order = make_order()
    affiliate = Affiliate(client=make_client())
    session.add(affiliate)
    session.flush()
    update_admin_notes(session, order, "Call the client\r\nfirst", ADMIN)
    update_admin_notes(session, order, "Call the client\nfirst", ADMIN)  # unchanged: no event
    assign_affiliate(session, order, affiliate.id, ADMIN)
    refused(session, "invalid_option", lambda: assign_affiliate(session, order, 424242, ADMIN))
    assign_affiliate(session, order, None, ADMIN)
    events = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    )
    assert [(e.verb, e.details) for e in events] == [
        ("admin_notes_updated", {"from": "", "to": "Call the client\nfirst"}),
        ("affiliate_assigned", {"from": None, "to": affiliate.id}),
        ("affiliate_assigned", {"from": affiliate.id, "to": None}),
    ]
    assert order.admin_notes == "Call the client\nfirst" and order.affiliate_id is None


def test_expected_version_from_an_old_page_is_refused(session):
    order = make_order()
    seen = order.version
    session.commit()
    update_admin_notes(session, order.id, "changed meanwhile", ADMIN)
    session.commit()
    error = refused(session, "stale", lambda: cancel_order(session, order.id, ADMIN, expected_version=seen))
    assert error.message == STALE_MESSAGE
    cancel_order(session, order.id, ADMIN, expected_version=seen + 1)
    assert order.status == "Cancelled"


def test_unknown_order(session):
    refused(session, "not_found", lambda: cancel_order(session, 987654, ADMIN))
