"""AddInvoicePayment, UpdateInvoice and CapturePayment over raw HTTP (the Flask test client), on SQLite
and PostgreSQL: WHMCS's parameters and messages, each action's permission, the credential as actor
on the order's timeline, the API log, and refused calls that change nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.events import Verb
from extensions import db
from models import ApiLogEntry, EmailLog, Gateway, Invoice, InvoiceStatus, OrderEvent, Permission
from models.email_defaults import INVOICE_PAYMENT_CONFIRMATION
from tests import factories
from tests.api_support import INVOICE_API_PERMISSIONS, Api, fresh_throttle, make_credential  # noqa: F401
from tests.billing_support import committed_invoice
from tests.test_api_fuzz import snapshot

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


def _api(app_ctx, permissions=INVOICE_API_PERMISSIONS) -> Api:
    credential, secret = make_credential(permissions)
    db.session.commit()
    return Api(app_ctx.test_client(), credential.identifier, secret)


@pytest.fixture
def api(app_ctx):
    return _api(app_ctx)


@pytest.fixture
def order(app_ctx):
    """A Pending order with two services (15.00 each) and an Unpaid invoice of 30.00 (bank transfer)."""
    order = factories.make_order(services=["Pending", "Pending"])
    db.session.commit()
    return order


def _events(order_id: int) -> list[OrderEvent]:
    return db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()


def _payment(api, invoice_id, **params):
    base = {"invoiceid": invoice_id, "transid": "TX-1", "gateway": "banktransfer", "date": YESTERDAY}
    return {**base, **params}


def test_add_invoice_payment_part_then_the_balance_marks_paid_as_the_credential(api, order):
    invoice_id = order.invoice.id
    assert api.ok(
        "AddInvoicePayment",
        **_payment(api, invoice_id, amount="10.50", fees="0.40", date=f"{YESTERDAY} 14:30:00"),
    ) == {"result": "success"}
    invoice = committed_invoice(invoice_id)
    [first] = invoice.transactions
    assert (first.amount_in, first.fees, first.transaction_id) == (Decimal("10.50"), Decimal("0.40"), "TX-1")
    assert first.date.strftime("%Y-%m-%d %H:%M:%S") == f"{YESTERDAY} 14:30:00"
    assert invoice.status == InvoiceStatus.UNPAID and invoice.balance == Decimal("19.50")

    api.ok("AddInvoicePayment", **_payment(api, invoice_id, transid="TX-2"))  # no amount: the balance
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == Decimal("0.00")
    assert [t.amount_in for t in invoice.transactions] == [Decimal("10.50"), Decimal("19.50")]
    got = api.ok("GetInvoice", invoiceid=invoice_id)
    assert got["status"] == "Paid" and got["balance"] == "0.00"
    assert [t["transid"] for t in got["transactions"]["transaction"]] == ["TX-1", "TX-2"]

    added = [e for e in _events(order.id) if e.verb in (Verb.INVOICE_PAYMENT_ADDED, Verb.INVOICE_PAID)]
    assert [e.verb for e in added] == [
        Verb.INVOICE_PAYMENT_ADDED,
        Verb.INVOICE_PAYMENT_ADDED,
        Verb.INVOICE_PAID,
    ]
    assert {(e.actor_type, e.actor_name) for e in added} == {("api", api.identifier)}
    confirmations = db.session.scalars(
        select(EmailLog).where(EmailLog.template == INVOICE_PAYMENT_CONFIRMATION)
    )
    assert len(confirmations.all()) == 1
    logged = db.session.scalars(select(ApiLogEntry).where(ApiLogEntry.action == "addinvoicepayment")).all()
    assert [(e.result, e.order_id) for e in logged] == [("success", order.id)] * 2


def test_noemail_sends_no_payment_confirmation(api, order):
    api.ok(
        "AddInvoicePayment", **_payment(api, order.invoice.id, noemail="True", date=date.today().isoformat())
    )
    assert committed_invoice(order.invoice.id).status == InvoiceStatus.PAID
    assert (
        db.session.scalars(select(EmailLog).where(EmailLog.template == INVOICE_PAYMENT_CONFIRMATION)).all()
        == []
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"invoiceid": "999999"}, "Invoice ID Not Found"),
        ({"invoiceid": "x"}, "must be"),
        ({"transid": ""}, "transid is required"),
        ({"gateway": ""}, "gateway is required"),
        ({"date": ""}, "date is required"),
        ({"date": "31/12/2026"}, "date must be a date like"),
        ({"date": "2999-01-01"}, "The payment date cannot be in the future"),
        ({"amount": "30.01"}, "would overpay invoice"),
        ({"amount": "-1"}, "cannot be negative"),
        ({"amount": "0"}, "must be more than 0.00"),
        ({"amount": "1.234"}, "two decimal places"),
        ({"amount": "5", "fees": "6"}, "The fees cannot be more than the payment"),
        ({"gateway": "nosuch"}, "Unknown payment gateway 'nosuch'"),
        ({"transid": "TX-OLD"}, "is recorded already"),
        ({"noemail": "perhaps"}, "must be true or false"),
    ],
)
def test_add_invoice_payment_refusals_change_nothing(api, order, params, message):
    invoice_id = order.invoice.id
    api.ok("AddInvoicePayment", **_payment(api, invoice_id, amount="1.00", transid="TX-OLD"))
    before = snapshot()
    assert message in api.error("AddInvoicePayment", **_payment(api, invoice_id, **params))
    assert snapshot() == before


def test_payments_on_cancelled_and_paid_invoices_are_refused_with_whmcs_words(api, app_ctx):
    cancelled = factories.make_order(invoice_status=InvoiceStatus.CANCELLED)
    paid = factories.make_order(invoice_status=InvoiceStatus.PAID, paid=True)
    db.session.commit()
    assert api.error("AddInvoicePayment", **_payment(api, cancelled.invoice.id)) == (
        "It is not possible to add a payment to an invoice that is Cancelled"
    )
    assert "payments are taken on unpaid invoices only" in api.error(
        "AddInvoicePayment", **_payment(api, paid.invoice.id)
    )


@pytest.mark.parametrize(
    "action, params, needed",
    [
        (
            "AddInvoicePayment",
            {"transid": "T", "gateway": "banktransfer", "date": YESTERDAY},
            Permission.ADD_INVOICE_PAYMENTS,
        ),
        ("CapturePayment", {}, Permission.ATTEMPT_CC_CAPTURES),
        ("UpdateInvoice", {"notes": "x"}, Permission.MANAGE_INVOICE),
        (
            "UpdateInvoice",
            {"newitemdescription[0]": "Extra", "newitemamount[0]": "1"},
            Permission.EDIT_INVOICE_LINES,
        ),
        ("UpdateInvoice", {"status": "Cancelled"}, Permission.CANCEL_INVOICES),
        ("UpdateInvoice", {"status": "Paid"}, Permission.ADD_INVOICE_PAYMENTS),
    ],
)
def test_each_action_needs_its_permission(app_ctx, order, action, params, needed):
    api = _api(app_ctx, [p for p in INVOICE_API_PERMISSIONS if p != needed])
    before = snapshot()
    message = api.error(action, data=list(params.items()), status=403, invoiceid=order.invoice.id)
    assert message == f'Invalid Permissions: API action "{action.lower()}" is not allowed'
    assert snapshot() == before


# --- CapturePayment ------------------------------------------------------------------------------


def _card_order(card: str = "pm_card_visa"):
    db.session.add(Gateway(name="testgateway", display_name="Test gateway", module="testgateway"))
    client = factories.make_client(gateway_customer_id="cus_test", gateway_payment_method_id=card)
    order = factories.make_order(gateway="testgateway", client=client)
    db.session.commit()
    return order


def test_capture_payment_charges_the_saved_card_and_marks_paid(api, app_ctx):
    order = _card_order()
    invoice_id = order.invoice.id
    assert api.ok("CapturePayment", invoiceid=invoice_id) == {"result": "success"}
    invoice = committed_invoice(invoice_id)  # no REDIS_URL: the capture ran in-process at the commit
    assert invoice.status == InvoiceStatus.PAID and invoice.last_capture_attempt is not None
    [payment] = invoice.transactions
    assert payment.amount_in == Decimal("15.00")
    requested = [e for e in _events(order.id) if e.verb == Verb.INVOICE_CAPTURE_REQUESTED]
    assert [(e.actor_type, e.actor_name) for e in requested] == [("api", api.identifier)]
    before = snapshot()
    assert api.error("CapturePayment", invoiceid=invoice_id) == "Invoice Not Found or Not Unpaid"
    assert snapshot() == before


def test_capture_payment_refusals(api, order):
    before = snapshot()
    assert (
        api.error("CapturePayment", invoiceid=order.invoice.id) == "Payment Attempt Failed"
    )  # bank transfer
    assert api.error("CapturePayment", invoiceid=999999) == "Invoice Not Found or Not Unpaid"
    assert "cvv is not supported" in api.error("CapturePayment", invoiceid=order.invoice.id, cvv="123")
    assert snapshot() == before


# --- UpdateInvoice -------------------------------------------------------------------------------


def test_update_invoice_lines_dates_method_and_notes_in_one_call(api, order):
    invoice_id = order.invoice.id
    first, second = [i["id"] for i in api.ok("GetInvoice", invoiceid=invoice_id)["items"]["item"]]
    due = (date.today() + timedelta(days=14)).isoformat()
    db.session.add(Gateway(name="mailin", display_name="Mail In Payment", module="banktransfer"))
    db.session.commit()
    body = api.ok(
        "UpdateInvoice",
        data=[
            (f"itemdescription[{first}]", "Hosting, discounted"),
            (f"itemamount[{first}]", "12.00"),
            (f"itemtaxed[{first}]", "0"),
            ("newitemdescription[]", "Setup"),
            ("newitemamount[]", "5.00"),
            ("newitemtaxed[]", "False"),
            ("deletelineids[]", str(second)),
        ],
        invoiceid=invoice_id,
        duedate=due,
        paymentmethod="mailin",
        notes="Agreed by phone",
    )
    assert body == {"result": "success", "invoiceid": invoice_id}
    got = api.ok("GetInvoice", invoiceid=invoice_id)
    assert [(i["description"], i["amount"]) for i in got["items"]["item"]] == [
        ("Hosting, discounted", "12.00"),
        ("Setup", "5.00"),
    ]
    assert (got["total"], got["duedate"], got["paymentmethod"], got["notes"]) == (
        "17.00",
        due,
        "mailin",
        "Agreed by phone",
    )
    events = [e for e in _events(order.id) if e.verb in (Verb.INVOICE_LINES_EDITED, Verb.RECORD_EDITED)]
    assert [e.verb for e in events] == [Verb.INVOICE_LINES_EDITED, Verb.RECORD_EDITED]
    assert {(e.actor_type, e.actor_name) for e in events} == {("api", api.identifier)}
    assert set(events[1].details["changes"]) == {"due_date", "payment_method", "notes"}


def test_update_invoice_status_runs_the_invoice_actions(api, order):
    invoice_id = order.invoice.id
    api.ok("UpdateInvoice", invoiceid=invoice_id, status="Paid", datepaid=YESTERDAY)
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.PAID and invoice.date_paid.date().isoformat() == YESTERDAY
    assert [t.amount_in for t in invoice.transactions] == [Decimal("30.00")]
    api.ok("UpdateInvoice", invoiceid=invoice_id, status="paid")  # the status it has: nothing to do
    api.ok("UpdateInvoice", invoiceid=invoice_id, status="Unpaid")
    assert committed_invoice(invoice_id).status == InvoiceStatus.UNPAID
    assert "payments that are not refunded" in api.error(
        "UpdateInvoice", data=[("status", "Cancelled")], invoiceid=invoice_id
    )
    other = factories.make_order()
    db.session.commit()
    api.ok("UpdateInvoice", invoiceid=other.invoice.id, status="Cancelled")
    assert committed_invoice(other.invoice.id).status == InvoiceStatus.CANCELLED


@pytest.mark.parametrize(
    "data, message",
    [
        ([("invoiceid", "999999")], "Invoice ID Not Found"),
        ([("status", "Shipped")], "Invalid status Shipped"),
        ([("status", "Refunded")], "status Refunded is not supported"),
        ([("publish", "1")], "Invoice must be in Draft status to be published"),
        ([("publishandsendemail", "1")], "publishandsendemail is not supported"),
        ([("taxrate", "20")], "taxrate is not supported"),
        ([("credit", "5")], "credit is not supported"),
        ([("datepaid", YESTERDAY)], "datepaid is only taken with status=Paid"),
        ([("duedate", "next week")], "duedate must be a date like"),
        ([("paymentmethod", "nosuch")], "Unknown payment gateway 'nosuch'"),
        ([("itemdescription[LINE]", "x"), ("itemamount[LINE]", "1")], "Missing Variables: itemdescription"),
        ([("itemdescription[LINE]", "x"), ("itemamount[LINE]", "1"), ("itemtaxed[LINE]", "1")], "no taxes"),
        ([("itemdescription[abc]", "x"), ("itemamount[abc]", "1"), ("itemtaxed[abc]", "0")], "keyed by line"),
        (
            [("itemdescription[999999]", "x"), ("itemamount[999999]", "1"), ("itemtaxed[999999]", "0")],
            "has no line 999999",
        ),
        (
            [("itemdescription[LINE]", ""), ("itemamount[LINE]", "1"), ("itemtaxed[LINE]", "0")],
            "needs a description",
        ),
        ([("newitemdescription[0]", "x")], "Missing Variables: newitemdescription"),
        ([("newitemdescription[0]", "x"), ("newitemamount[0]", "-100")], "below zero"),
        ([("deletelineids[]", "abc")], "deletelineids[0]"),
        # A refusal late in the call (the payment method, checked after the lines changed) undoes it all.
        (
            [
                ("notes", "changed"),
                ("newitemdescription[0]", "x"),
                ("newitemamount[0]", "1"),
                ("status", "Cancelled"),
                ("paymentmethod", "nosuch"),
            ],
            "Unknown payment gateway",
        ),
    ],
)
def test_update_invoice_refusals_change_nothing(api, order, data, message):
    line = str(order.invoice.items[0].id)
    data = [(name.replace("LINE", line), value.replace("LINE", line)) for name, value in data]
    params = {} if any(name == "invoiceid" for name, _ in data) else {"invoiceid": order.invoice.id}
    before = snapshot()
    assert message in api.error("UpdateInvoice", data=data, **params)
    assert snapshot() == before


def test_update_invoice_refuses_lines_of_a_paid_invoice(api, app_ctx):
    paid = factories.make_order(invoice_status=InvoiceStatus.PAID, paid=True)
    db.session.commit()
    message = api.error(
        "UpdateInvoice", invoiceid=paid.invoice.id, **{"deletelineids[0]": paid.invoice.items[0].id}
    )
    assert "only unpaid invoices' lines can change" in message
    assert db.session.get(Invoice, paid.invoice.id).status == InvoiceStatus.PAID


# --- GetInvoice / GetInvoices fields -------------------------------------------------------------


def test_get_invoices_filters_pages_and_lists_every_field(api, app_ctx):
    from api.billing import LIST_FIELDS

    client = factories.make_client()
    overdue = factories.make_order(client=client)
    overdue.invoice.due_date = date.today() - timedelta(days=3)
    factories.make_order(client=client, invoice_status=InvoiceStatus.PAID, paid=True)
    factories.make_order()
    db.session.commit()
    listed = api.ok("GetInvoices", userid=client.id, orderby="id", order="desc", limitnum=1)
    assert (listed["totalresults"], listed["startnumber"], listed["numreturned"]) == (2, 0, 1)
    [row] = listed["invoices"]["invoice"]
    assert set(row) == set(LIST_FIELDS) and row["userid"] == client.id and row["status"] == "Paid"
    second = api.ok("GetInvoices", userid=client.id, orderby="id", order="desc", limitstart=1, limitnum=1)
    assert [r["id"] for r in second["invoices"]["invoice"]] == [overdue.invoice.id]
    late = api.ok("GetInvoices", status="overdue")
    assert [r["id"] for r in late["invoices"]["invoice"]] == [overdue.invoice.id]
    assert api.ok("GetInvoices", userid=client.id, limitstart=5)["invoices"] == ""
    assert api.error("GetInvoices", data=[("status", "Lost")]) == "Invalid status Lost"
    assert api.error("GetInvoices", order="sideways") == "order must be asc or desc"


def test_get_invoice_lists_every_field(api, order):
    from api.billing import ITEM_FIELDS, TRANSACTION_FIELDS
    from api.registry import ACTIONS

    api.ok("AddInvoicePayment", **_payment(api, order.invoice.id, amount="1.00"))
    got = api.ok("GetInvoice", invoiceid=order.invoice.id)
    assert set(got) == {"result", *ACTIONS["getinvoice"].response}
    assert set(got["items"]["item"][0]) == set(ITEM_FIELDS)
    assert set(got["transactions"]["transaction"][0]) == set(TRANSACTION_FIELDS)
    assert (got["total"], got["balance"], got["datepaid"]) == ("30.00", "29.00", "0000-00-00 00:00:00")
    assert api.error("GetInvoice", invoiceid=999999) == "Invoice ID Not Found"
