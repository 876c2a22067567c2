"""Cancel, Mark Unpaid, Mark Paid (with a transaction) and line editing on the invoice page: totals
always follow the lines, refusals change nothing, each writes its event on the order."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import SYSTEM
from actions.add_payment import add_payment
from actions.cancel_invoice import cancel_invoice
from actions.edit_invoice_lines import edit_invoice_lines
from actions.events import Verb
from actions.mark_paid import mark_invoice_paid_with_payment
from actions.mark_unpaid import mark_invoice_unpaid
from actions.transitions import TransitionError
from models import InvoiceStatus, OrderEvent
from models.bounds import MAX_MONEY, InvalidInput
from tests import factories
from tests.billing_support import committed_invoice

DETAILS = "/admin/invoices/details/?id={}"


def verbs(session, order_id) -> list[str]:
    return session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order_id)
                           .order_by(OrderEvent.id)).all()


def test_cancel_then_mark_unpaid_then_mark_paid(session):
    order = factories.make_order(services=["Pending", "Pending"])  # 30.00
    invoice_id = order.invoice.id
    cancel_invoice(session, invoice_id, SYSTEM)
    session.commit()
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.CANCELLED and invoice.date_cancelled is not None
    with pytest.raises(TransitionError, match="already Cancelled"):
        cancel_invoice(session, invoice_id, SYSTEM)
    session.rollback()
    mark_invoice_unpaid(session, invoice_id, SYSTEM)
    session.commit()
    assert committed_invoice(invoice_id).status == InvoiceStatus.UNPAID
    with pytest.raises(TransitionError, match="already Unpaid"):
        mark_invoice_unpaid(session, invoice_id, SYSTEM)
    session.rollback()
    add_payment(session, invoice_id, SYSTEM, amount=Decimal("10.01"), gateway="banktransfer")
    mark_invoice_paid_with_payment(session, invoice_id, SYSTEM, gateway="banktransfer",
                                   transaction_id="WIRE-9")
    session.commit()
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == Decimal("0.00")
    assert [t.amount_in for t in invoice.transactions] == [Decimal("10.01"), Decimal("19.99")]
    assert invoice.transactions[1].transaction_id == "WIRE-9"
    # Paid in full also sends the Invoice Payment Confirmation (actions/paid_setup.py): its side
    # effect's events follow; the invoice's own are these.
    assert [v for v in verbs(session, order.id) if v.startswith("invoice_")] == [
        Verb.INVOICE_CANCELLED, Verb.INVOICE_MARKED_UNPAID, Verb.INVOICE_PAYMENT_ADDED,
        Verb.INVOICE_PAYMENT_ADDED, Verb.INVOICE_PAID]


def test_a_paid_invoice_is_refunded_not_cancelled_and_mark_unpaid_keeps_its_payments(session):
    order = factories.make_order(invoice_status=InvoiceStatus.PAID, paid=True)
    invoice_id = order.invoice.id
    session.commit()
    with pytest.raises(TransitionError, match="refunded, not cancelled"):
        cancel_invoice(session, invoice_id, SYSTEM)
    session.rollback()
    mark_invoice_unpaid(session, invoice_id, SYSTEM)
    session.commit()
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.UNPAID and invoice.date_paid is None
    assert invoice.balance == Decimal("0.00")  # derived from the payment, which stays
    with pytest.raises(TransitionError, match="payments that are not refunded"):
        cancel_invoice(session, invoice_id, SYSTEM)
    session.rollback()
    mark_invoice_paid_with_payment(session, invoice_id, SYSTEM, gateway="banktransfer")
    session.commit()
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.PAID and len(invoice.transactions) == 1  # no new transaction


def test_line_edits_derive_the_totals(session):
    order = factories.make_order(services=["Pending", "Pending"])  # two 15.00 lines
    invoice = order.invoice
    first, second = invoice.items
    session.commit()
    renamed = {first.id: ("Hosting, first month", Decimal("12.34"))}
    edit_invoice_lines(session, invoice.id, SYSTEM, changed=renamed, removed=[second.id],
                       added=[("Setup fee", Decimal("5.00")), ("Discount", Decimal("-2.00"))])
    session.commit()
    invoice = committed_invoice(invoice.id)
    assert [(i.description, i.amount) for i in invoice.items] == [
        ("Hosting, first month", Decimal("12.34")), ("Setup fee", Decimal("5.00")),
        ("Discount", Decimal("-2.00"))]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("15.34"), Decimal("0.00"), Decimal("15.34"))
    assert invoice.balance == Decimal("15.34")
    [event] = session.scalars(select(OrderEvent).where(OrderEvent.verb == Verb.INVOICE_LINES_EDITED)).all()
    totals = event.details["totals"]
    assert totals["from"]["total"] == "30.00" and totals["to"]["total"] == "15.34"
    assert event.details["lines"]["removed"][0]["id"] == second.id
    assert len(event.details["lines"]["added"]) == 2
    version = invoice.version
    edit_invoice_lines(session, invoice.id, SYSTEM, changed=renamed)
    session.commit()
    assert committed_invoice(invoice.id).version == version  # nothing changed, nothing written


def test_line_edit_refusals_change_nothing(session):
    order = factories.make_order()
    invoice_id, [line] = order.invoice.id, order.invoice.items
    add_payment(session, invoice_id, SYSTEM, amount=Decimal("10.00"), gateway="banktransfer")
    session.commit()
    cases = [
        (dict(changed={line.id: ("Cheaper", Decimal("9.99"))}), TransitionError, "already paid"),
        (dict(added=[("Credit", Decimal("-20.00"))]), TransitionError, "below zero"),
        (dict(changed={line.id + 99: ("x", Decimal("1"))}), TransitionError, "has no line"),
        (dict(added=[("   ", Decimal("1"))]), TransitionError, "needs a description"),
        (dict(added=[("x\x00", Decimal("1"))]), InvalidInput, "not allowed"),
        (dict(added=[("x", Decimal("0.001"))]), InvalidInput, "two decimal places"),
        (dict(added=[("big", MAX_MONEY)] * 2), TransitionError, "would total more than"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            edit_invoice_lines(session, invoice_id, SYSTEM, **kwargs)
        session.rollback()
    invoice = committed_invoice(invoice_id)
    assert invoice.total == Decimal("15.00") and [i.amount for i in invoice.items] == [Decimal("15.00")]
    # Removing what the client did not pay for settles the invoice: Paid.
    edit_invoice_lines(session, invoice_id, SYSTEM, changed={line.id: ("Hosting", Decimal("10.00"))})
    session.commit()
    assert committed_invoice(invoice_id).status == InvoiceStatus.PAID


def test_the_invoice_page_edits_lines_and_runs_its_buttons(admin_client, session):
    order = factories.make_order()
    invoice = order.invoice
    [line] = invoice.items
    session.commit()
    page = admin_client.get(DETAILS.format(invoice.id)).get_data(as_text=True)
    for marker in ('id="invoice-lines-form"', "Cancel Invoice", "Mark Paid", 'id="add-payment-form"'):
        assert marker in page
    assert "Mark Unpaid" not in page
    # The generic edit form has no money fields: totals come from the lines only.
    edit = admin_client.get(f"/admin/invoices/edit/?id={invoice.id}").get_data(as_text=True)
    assert 'name="total"' not in edit and 'name="subtotal"' not in edit and 'name="tax"' not in edit
    version = invoice.version
    done = admin_client.post("/admin/invoices/invoice/lines/", follow_redirects=True, data={
        "id": invoice.id, "expected_version": version, f"line-{line.id}-description": "Hosting",
        f"line-{line.id}-amount": "20.00", "new-description": "Setup", "new-amount": "2.50"})
    assert "lines saved" in done.get_data(as_text=True)
    assert committed_invoice(invoice.id).total == Decimal("22.50")
    bad = admin_client.post("/admin/invoices/invoice/lines/", follow_redirects=True, data={
        "id": invoice.id, "expected_version": committed_invoice(invoice.id).version,
        f"line-{line.id}-description": "Hosting", f"line-{line.id}-amount": "twenty"})
    assert "amount like 12.34" in bad.get_data(as_text=True)
    cancelled = admin_client.post("/admin/invoices/invoice/cancel/", follow_redirects=True, data={
        "id": invoice.id, "expected_version": committed_invoice(invoice.id).version})
    assert "cancelled." in cancelled.get_data(as_text=True)
    assert committed_invoice(invoice.id).status == InvoiceStatus.CANCELLED
    unpaid = admin_client.post("/admin/invoices/invoice/mark-unpaid/", follow_redirects=True, data={
        "id": invoice.id, "expected_version": committed_invoice(invoice.id).version})
    assert "marked Unpaid" in unpaid.get_data(as_text=True)
    paid = admin_client.post("/admin/invoices/invoice/mark-paid/", follow_redirects=True, data={
        "id": invoice.id, "expected_version": committed_invoice(invoice.id).version,
        "gateway": "banktransfer", "transaction_id": "W-77"})
    assert "marked Paid" in paid.get_data(as_text=True)
    invoice = committed_invoice(invoice.id)
    assert invoice.status == InvoiceStatus.PAID and invoice.transactions[0].amount_in == Decimal("22.50")


@pytest.mark.parametrize("url", ["add-payment", "mark-paid", "refund", "capture", "cancel", "mark-unpaid",
                                 "lines"])
def test_every_invoice_post_needs_its_permission(client_as, support_admin, session, url):
    invoice = factories.make_order().invoice
    session.commit()
    response = client_as(support_admin).post(f"/admin/invoices/invoice/{url}/",
                                             data={"id": invoice.id, "expected_version": invoice.version})
    assert response.status_code == 403
    assert committed_invoice(invoice.id).version == invoice.version


def test_an_unknown_invoice_or_a_stale_page_is_refused(admin_client, session):
    invoice = factories.make_order().invoice
    session.commit()
    gone = admin_client.post("/admin/invoices/invoice/cancel/", follow_redirects=True,
                             data={"id": "99999999999", "expected_version": "1"})
    assert "no longer exists" in gone.get_data(as_text=True)
    stale = admin_client.post("/admin/invoices/invoice/cancel/", follow_redirects=True,
                              data={"id": invoice.id, "expected_version": "abc"})
    assert "out of date" in stale.get_data(as_text=True)
    assert committed_invoice(invoice.id).status == InvoiceStatus.UNPAID
