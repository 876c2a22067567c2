"""Refunds from the invoice page: partial and full, through the gateway's outbox (the built-in test
gateway, embedded jobs) or recorded by hand, never more than the payment, exact Decimal balances
on SQLite and PostgreSQL; and the order page's word on a gateway that cannot refund."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import SYSTEM
from actions.add_payment import add_payment
from actions.events import Verb
from actions.refund_payment import refund_payment
from actions.transitions import TransitionError
from extensions import db
from models import (
    Gateway,
    InvoiceStatus,
    OrderEvent,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
)
from tests import factories
from tests.billing_support import committed_invoice


def add_test_gateway(session) -> None:
    session.add(Gateway(name="testgateway", display_name="Test gateway", module="testgateway"))
    session.flush()


def paid_invoice(session, gateway: str, *amounts: str):
    """An order whose 15.00 invoice is paid by these payments, committed."""
    order = factories.make_order(gateway=gateway)
    for amount in amounts:
        add_payment(session, order.invoice.id, SYSTEM, amount=Decimal(amount), gateway=gateway)
    session.commit()
    return order, committed_invoice(order.invoice.id)


def test_partial_then_full_refunds_through_the_gateway_leave_exact_balances(session):
    add_test_gateway(session)
    order, invoice = paid_invoice(session, "testgateway", "10.10", "4.90")
    assert invoice.status == InvoiceStatus.PAID
    first, second = invoice.transactions
    refund_payment(session, invoice.id, SYSTEM, payment_id=first.id, amount=Decimal("0.10"))
    session.commit()  # embedded: the refund job runs right after the commit
    invoice = committed_invoice(invoice.id)
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == Decimal("0.10")
    [refund] = [t for t in invoice.transactions if t.refund_of_id == first.id]
    assert refund.amount_out == Decimal("0.10") and refund.transaction_id.startswith("test_re_")
    refund_payment(session, invoice.id, SYSTEM, payment_id=first.id)  # what is left: 10.00
    refund_payment(session, invoice.id, SYSTEM, payment_id=second.id, amount=Decimal("4.90"))
    session.commit()
    invoice = committed_invoice(invoice.id)
    assert invoice.amount_refunded == Decimal("15.00") and invoice.balance == Decimal("15.00")
    assert invoice.status == InvoiceStatus.REFUNDED and invoice.date_refunded is not None
    effects = session.scalars(select(SideEffect).where(SideEffect.kind == SideEffectKind.REFUND)).all()
    assert [e.status for e in effects] == [SideEffectStatus.SUCCEEDED] * 3
    requested = session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.verb == Verb.INVOICE_REFUND_REQUESTED)).all()
    assert [e.details["amount"] for e in requested] == ["0.10", "10.00", "4.90"]


def test_never_more_than_the_payment_counting_refunds_under_way(session):
    add_test_gateway(session)
    order, invoice = paid_invoice(session, "testgateway", "15.00")
    [payment] = invoice.transactions
    with pytest.raises(TransitionError, match="At most 15.00 of this payment"):
        refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id, amount=Decimal("15.01"))
    session.rollback()
    # A refund requested and not run yet (not committed: no job) counts against the payment.
    effect = refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id, amount=Decimal("10.00"))
    session.flush()
    with pytest.raises(TransitionError, match="At most 5.00 of this payment"):
        refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id, amount=Decimal("5.01"))
    assert effect.payload["amount"] == "10.00"
    session.rollback()
    for bad, message in ((Decimal("0"), "more than 0.00"), (Decimal("-1"), "cannot be negative")):
        with pytest.raises((TransitionError, ValueError), match=message):
            refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id, amount=bad)
        session.rollback()
    with pytest.raises(TransitionError, match="has no payment"):
        refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id + 100)
    session.rollback()
    assert committed_invoice(invoice.id).amount_refunded == Decimal("0.00")


def test_a_gateway_that_cannot_refund_gets_a_manual_refund_row(session):
    order, invoice = paid_invoice(session, "banktransfer", "15.00")
    [payment] = invoice.transactions
    refund = refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id, amount=Decimal("7.50"))
    session.commit()
    assert isinstance(refund, Transaction) and refund.refund_of_id == payment.id
    assert session.scalars(select(SideEffect).where(SideEffect.kind == SideEffectKind.REFUND)).all() == []
    assert committed_invoice(invoice.id).status == InvoiceStatus.PAID
    refund_payment(session, invoice.id, SYSTEM, payment_id=payment.id)
    session.commit()
    invoice = committed_invoice(invoice.id)
    assert invoice.status == InvoiceStatus.REFUNDED and invoice.balance == Decimal("15.00")
    assert [t.amount_out for t in invoice.transactions] == [Decimal("0.00"), Decimal("7.50"), Decimal("7.50")]
    verbs = session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order.id)).all()
    assert verbs.count(Verb.INVOICE_REFUND_RECORDED) == 2


def test_manual_refund_on_a_gateway_that_can_refund(session):
    add_test_gateway(session)
    order, invoice = paid_invoice(session, "testgateway", "15.00")
    refund = refund_payment(session, invoice.id, SYSTEM, payment_id=invoice.transactions[0].id, manual=True)
    session.commit()
    assert isinstance(refund, Transaction) and refund.amount_out == Decimal("15.00")
    assert committed_invoice(invoice.id).status == InvoiceStatus.REFUNDED


def test_refunding_a_partial_payment_leaves_an_unpaid_invoice_unpaid(session):
    order, invoice = paid_invoice(session, "banktransfer", "5.00")
    refund_payment(session, invoice.id, SYSTEM, payment_id=invoice.transactions[0].id)
    session.commit()
    invoice = committed_invoice(invoice.id)
    assert invoice.status == InvoiceStatus.UNPAID and invoice.balance == Decimal("15.00")


def test_the_invoice_page_refunds_and_the_order_page_says_why_cancel_and_refund_is_missing(
        admin_client, session):
    order, invoice = paid_invoice(session, "banktransfer", "15.00")
    [payment] = invoice.transactions
    order_page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="refund-missing"' in order_page and "Bank Transfer cannot refund payments" in order_page
    page = admin_client.get(f"/admin/invoices/details/?id={invoice.id}").get_data(as_text=True)
    assert f'id="refund-{payment.id}"' in page and "cannot refund automatically" in page
    data = {"id": invoice.id, "expected_version": invoice.version, "payment_id": payment.id, "amount": "4.00",
            "manual": "1"}
    first = admin_client.post("/admin/invoices/invoice/refund/", data=data, follow_redirects=True)
    again = admin_client.post("/admin/invoices/invoice/refund/", data=data, follow_redirects=True)
    assert "refund recorded or requested" in first.get_data(as_text=True)
    assert "changed by someone else" in again.get_data(as_text=True)  # the double click
    assert committed_invoice(invoice.id).amount_refunded == Decimal("4.00")
    over = admin_client.post("/admin/invoices/invoice/refund/", follow_redirects=True, data={
        **data, "expected_version": committed_invoice(invoice.id).version, "amount": "11.01"})
    assert "At most 11.00 of this payment" in over.get_data(as_text=True)
    assert db.session.scalar(select(Transaction.amount_out).where(Transaction.refund_of_id == payment.id)) \
        == Decimal("4.00")
