"""Add Payment and Mark Paid on the invoice page: partial payments, overpayment refused, exact
Decimal balances (SQLite and PostgreSQL), the event on the order, and the page's forms."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import SYSTEM
from actions.add_payment import add_payment
from actions.events import Verb
from actions.invoice_access import STALE_INVOICE
from actions.transitions import TransitionError
from extensions import db
from models import Invoice, InvoiceStatus, OrderEvent, Transaction, utcnow
from models.bounds import InvalidInput
from tests import factories
from tests.billing_support import committed_invoice as fresh_invoice

DETAILS = "/admin/invoices/details/?id={}"


def events_of(order_id, verb) -> list[OrderEvent]:
    return db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                       OrderEvent.verb == verb).order_by(OrderEvent.id)).all()


def test_partial_payments_then_the_last_one_marks_the_invoice_paid(session):
    order = factories.make_order()  # one service: 15.00
    invoice = order.invoice
    for amount, balance in (("0.10", "14.90"), ("4.90", "10.00"), ("9.99", "0.01")):
        add_payment(session, invoice.id, SYSTEM, amount=Decimal(amount), gateway="banktransfer")
        session.commit()
        session.expire_all()
        invoice = session.get(Invoice, invoice.id)
        assert invoice.balance == Decimal(balance) and invoice.status == InvoiceStatus.UNPAID
        assert invoice.date_paid is None
    add_payment(session, invoice.id, SYSTEM, amount=Decimal("0.01"), gateway="banktransfer",
                transaction_id="BANK-42", fees=Decimal("0.01"))
    session.commit()
    invoice = fresh_invoice(invoice.id)
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == Decimal("0.00")
    assert invoice.date_paid is not None
    assert invoice.amount_paid == Decimal("15.00") and isinstance(invoice.amount_paid, Decimal)
    assert len(events_of(order.id, Verb.INVOICE_PAYMENT_ADDED)) == 4
    [paid] = events_of(order.id, Verb.INVOICE_PAID)
    assert paid.details["invoice"] == {"from": "Unpaid", "to": "Paid"}
    last = events_of(order.id, Verb.INVOICE_PAYMENT_ADDED)[-1].details
    assert last["payment"]["transaction_id"] == "BANK-42" and last["balance"] == "0.00"


@pytest.mark.parametrize("amount, message", [
    ("15.01", "would overpay invoice"),
    ("0.00", "must be more than 0.00"),
])
def test_overpayment_and_nothing_are_refused_with_nothing_changed(session, amount, message):
    order = factories.make_order()
    add_payment(session, order.invoice.id, SYSTEM, amount=Decimal("5.00"), gateway="banktransfer")
    session.commit()
    with pytest.raises(TransitionError) as refused:
        add_payment(session, order.invoice.id, SYSTEM, amount=Decimal(amount), gateway="banktransfer")
    session.rollback()
    assert message in refused.value.message
    invoice = fresh_invoice(order.invoice.id)
    assert invoice.balance == Decimal("10.00") and len(invoice.transactions) == 1


def test_refusals_of_bad_inputs(session):
    order = factories.make_order()
    invoice_id = order.invoice.id
    session.commit()
    cases = [
        (dict(amount=Decimal("1.001")), InvalidInput, "two decimal places"),
        (dict(amount=Decimal("2"), fees=Decimal("3")), TransitionError, "fees cannot be more"),
        (dict(amount=Decimal("2"), gateway="nope"), TransitionError, "Unknown payment gateway"),
        (dict(amount=Decimal("2"), paid_on=utcnow().date() + timedelta(days=1)), TransitionError, "future"),
        (dict(amount=Decimal("2"), expected_version=99), TransitionError, STALE_INVOICE),
    ]
    for kwargs, error, message in cases:
        kwargs.setdefault("gateway", "banktransfer")
        with pytest.raises(error) as refused:
            add_payment(session, invoice_id, SYSTEM, **kwargs)
        session.rollback()
        assert message in refused.value.message
    add_payment(session, invoice_id, SYSTEM, amount=Decimal("2"), gateway="banktransfer", transaction_id="T1")
    session.commit()
    with pytest.raises(TransitionError, match="recorded already"):
        add_payment(session, invoice_id, SYSTEM, amount=Decimal("2"), gateway="banktransfer",
                    transaction_id="T1")
    session.rollback()
    assert len(fresh_invoice(invoice_id).transactions) == 1


def test_no_payment_on_a_cancelled_or_paid_invoice(session):
    cancelled = factories.make_order(invoice_status=InvoiceStatus.CANCELLED).invoice.id
    paid = factories.make_order(invoice_status=InvoiceStatus.PAID, paid=True).invoice.id
    session.commit()
    for invoice_id in (cancelled, paid):
        with pytest.raises(TransitionError, match="payments are taken on unpaid invoices only"):
            add_payment(session, invoice_id, SYSTEM, amount=Decimal("1.00"), gateway="banktransfer")
        session.rollback()


def post_payment(client, invoice: Invoice, version=None, **fields):
    data = {"id": invoice.id, "expected_version": version or invoice.version, "gateway": "banktransfer",
            "date": utcnow().date().isoformat(), "fees": "0.00", **fields}
    response = client.post("/admin/invoices/invoice/add-payment/", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_invoice_page_adds_a_payment_and_a_double_click_is_refused(admin_client, session):
    order = factories.make_order()
    invoice = order.invoice
    session.commit()
    page = admin_client.get(DETAILS.format(invoice.id)).get_data(as_text=True)
    assert 'id="add-payment-form"' in page and 'name="csrf_token"' in page
    version = invoice.version
    first = post_payment(admin_client, invoice, version, amount="6.00", transaction_id="W-1")
    second = post_payment(admin_client, invoice, version, amount="6.00", transaction_id="W-2")  # same page
    assert f"Invoice #{invoice.id}: payment added." in first
    assert STALE_INVOICE in second
    assert fresh_invoice(invoice.id).balance == Decimal("9.00")
    refused = post_payment(admin_client, fresh_invoice(invoice.id), amount="9.01")
    assert "would overpay" in refused
    for bad, message in (("abc", "amount like 12.34"), ("1e9999", "must be at most"),
                         ("-1", "cannot be negative"), ("1" * 41, "amount like 12.34")):
        assert message in post_payment(admin_client, fresh_invoice(invoice.id), amount=bad)
    assert "date like" in post_payment(admin_client, fresh_invoice(invoice.id), amount="1", date="12/01/2026")
    done = post_payment(admin_client, fresh_invoice(invoice.id), amount="9.00")
    assert "payment added" in done and 'id="add-payment-form"' not in done
    invoice = fresh_invoice(invoice.id)
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == Decimal("0.00")
    fees = db.session.scalar(select(Transaction.fees).where(Transaction.transaction_id == "W-1"))
    assert fees == Decimal("0.00")


def test_add_payment_needs_its_permission(client_as, support_admin, session):
    invoice = factories.make_order().invoice
    session.commit()
    client = client_as(support_admin)
    assert 'id="add-payment-form"' not in client.get(DETAILS.format(invoice.id)).get_data(as_text=True)
    response = client.post("/admin/invoices/invoice/add-payment/",
                           data={"id": invoice.id, "expected_version": invoice.version, "amount": "1",
                                 "gateway": "banktransfer"})
    assert response.status_code == 403
    assert fresh_invoice(invoice.id).transactions == []
