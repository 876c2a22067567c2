"""Attempt Capture: the built-in test gateway (embedded jobs) and Stripe through the official SDK
against a local HTTPS stub on a real RQ worker. A capture charges once under retries, lost answers
and double clicks; its success records the payment and marks the invoice Paid; its failure leaves
the invoice Unpaid with the error on the invoice page and the order page."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.actor import SYSTEM
from actions.attempt_capture import attempt_capture
from actions.cancel import cancel_order
from actions.events import Verb
from actions.transitions import TransitionError
from extensions import db
from models import (
    Gateway,
    InvoiceStatus,
    OrderEvent,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from modules.gateways.test_gateway import DECLINED_CARD
from tests import factories
from tests.billing_support import committed_invoice
from tests.jobs_support import TEST_REDIS_URL, app_context_for, connect_redis, fresh, run_burst
from tests.modules_support.http_stub import StubServer
from tests.modules_support.stripe_stub import API_KEY, StripeHandler, StripeState
from tests.modules_support.tls import make_certificate, server_context

CAPTURE_URL = "/admin/invoices/invoice/capture/"


def capture_order(session, card: str = "pm_card_visa"):
    session.add(Gateway(name="testgateway", display_name="Test gateway", module="testgateway"))
    client = factories.make_client(gateway_customer_id="cus_test", gateway_payment_method_id=card)
    order = factories.make_order(gateway="testgateway", client=client)
    session.commit()
    return order


def captures() -> list[SideEffect]:
    return db.session.scalars(select(SideEffect).where(SideEffect.kind == SideEffectKind.CAPTURE)
                              .execution_options(populate_existing=True)).all()


def post_capture(client, invoice_id: int, version: int) -> str:
    response = client.post(CAPTURE_URL, data={"id": invoice_id, "expected_version": version},
                           follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_test_gateway_capture_records_the_payment_and_marks_paid(admin_client, session):
    order = capture_order(session)
    invoice_id, version = order.invoice.id, order.invoice.version
    page = admin_client.get(f"/admin/invoices/details/?id={invoice_id}").get_data(as_text=True)
    assert "Attempt Capture" in page
    first = post_capture(admin_client, invoice_id, version)
    second = post_capture(admin_client, invoice_id, version)  # the double click
    assert "capture requested" in first and "changed by someone else" in second
    [effect] = captures()
    assert effect.status == SideEffectStatus.SUCCEEDED, effect.last_error
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.PAID and invoice.date_paid is not None
    assert invoice.last_capture_attempt is not None and invoice.capture_error == ""
    [payment] = invoice.transactions
    assert payment.amount_in == Decimal("15.00")
    assert payment.transaction_id == f"test_ch_{effect.idempotency_key}"
    verbs = session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order.id)).all()
    assert {Verb.INVOICE_CAPTURE_REQUESTED, Verb.INVOICE_PAYMENT_ADDED, Verb.INVOICE_PAID} <= set(verbs)
    paid_page = admin_client.get(f"/admin/invoices/details/?id={invoice_id}").get_data(as_text=True)
    assert ">Attempt Capture</button>" not in paid_page
    with pytest.raises(TransitionError, match="only unpaid invoices are captured"):
        attempt_capture(session, invoice_id, SYSTEM)


def test_a_declined_capture_leaves_unpaid_with_the_error_on_both_pages(admin_client, session):
    order = capture_order(session, card=DECLINED_CARD)
    invoice_id = order.invoice.id
    post_capture(admin_client, invoice_id, order.invoice.version)
    [effect] = captures()
    assert effect.status == SideEffectStatus.FAILED
    invoice = committed_invoice(invoice_id)
    assert invoice.status == InvoiceStatus.UNPAID and invoice.transactions == []
    assert "card was declined" in invoice.capture_error
    invoice_page = admin_client.get(f"/admin/invoices/details/?id={invoice_id}").get_data(as_text=True)
    order_page = admin_client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
    assert 'id="invoice-capture-error"' in invoice_page and "card was declined" in invoice_page
    assert 'id="order-capture-error"' in order_page and "card was declined" in order_page


def test_capture_refusals_change_nothing(session):
    order = factories.make_order()  # bank transfer: no capture
    session.commit()
    with pytest.raises(TransitionError, match="Bank Transfer cannot capture payments"):
        attempt_capture(session, order.invoice.id, SYSTEM)
    session.rollback()
    order = capture_order(session)
    attempt_capture(session, order.invoice.id, SYSTEM)
    session.flush()  # recorded, not committed: no job has run it yet
    with pytest.raises(TransitionError, match="under way already"):
        attempt_capture(session, order.invoice.id, SYSTEM)
    session.rollback()
    assert captures() == [] and committed_invoice(order.invoice.id).last_capture_attempt is None


def test_cancelling_the_order_cancels_a_queued_capture(session):
    order = capture_order(session)
    attempt_capture(session, order.invoice.id, SYSTEM)
    session.flush()
    cancel_order(session, order.id, SYSTEM)
    session.commit()
    [effect] = captures()
    assert effect.status == SideEffectStatus.CANCELLED
    assert committed_invoice(order.invoice.id).status == InvoiceStatus.CANCELLED


# --- Stripe through the official SDK, on a real RQ worker ---------------------------------------


class DroppedAnswerState(StripeState):
    def __init__(self) -> None:
        super().__init__()
        self.answers_to_drop = 0


class DroppedAnswerHandler(StripeHandler):
    """Stripe does the work (and stores it under the key), but the connection drops before its
    answer: the client sees a network error although the charge happened."""

    def send_json(self, status, payload, headers=None) -> None:
        state: DroppedAnswerState = self.server.state
        if state.answers_to_drop and status == 200:
            state.answers_to_drop -= 1
            self.close_connection = True
            return
        super().send_json(status, payload, headers)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("stripe-capture-tls"))


@pytest.fixture
def stripe_stub(certificate):
    state = DroppedAnswerState()
    with StubServer(DroppedAnswerHandler, state, tls=server_context(*certificate)) as server:
        yield server, state


def stripe_order(server, certificate, card="pm_card_visa"):
    db.session.add(Gateway(name="stripe", display_name="Stripe", module="stripe", settings=json.dumps({
        "secret_key": API_KEY, "api_base": server.url, "ca_bundle": str(certificate[0]), "timeout": 0.5})))
    client = factories.make_client(gateway_customer_id="cus_orderdesk", gateway_payment_method_id=card)
    order = factories.make_order(gateway="stripe", client=client)
    db.session.commit()
    return order


def test_stripe_captures_once_under_an_outage_a_lost_answer_and_double_clicks(app_ctx, database_url,
                                                                              stripe_stub, certificate):
    server, state = stripe_stub
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL, SIDE_EFFECT_MAX_ATTEMPTS=4) as app:
        order = stripe_order(server, certificate)
        invoice_id, version = order.invoice.id, order.invoice.version
        client = app.test_client(user=factories.make_admin())
        db.session.commit()
        state.fail_next.append(500)  # attempt 1: an outage in front of the API, nothing done
        state.answers_to_drop = 1  # attempt 2: the intent is created, its answer is lost

        assert "capture requested" in post_capture(client, invoice_id, version)
        assert "changed by someone else" in post_capture(client, invoice_id, version)
        run_burst(app, connection)  # attempts 1 and 2 fail (retryable), 3 replays the stored answer

        [effect] = captures()
        effect = fresh(SideEffect, effect.id)
        assert effect.status == SideEffectStatus.SUCCEEDED, effect.last_error
        assert effect.attempts == 3
        assert [path for path, _ in state.requests] == ["/v1/payment_intents"] * 3
        assert {key for _, key in state.requests} == {effect.idempotency_key}
        [intent] = state.intents  # one charge at Stripe
        assert intent["amount"] == 1500 and intent["customer"] == "cus_orderdesk"
        invoice = committed_invoice(invoice_id)
        assert invoice.status == InvoiceStatus.PAID and invoice.capture_error == ""
        [payment] = invoice.transactions
        assert payment.amount_in == Decimal("15.00") and payment.transaction_id == intent["id"]
        # Captured and paid: a third click is refused with nothing sent.
        assert "only unpaid invoices are captured" in post_capture(client, invoice_id, invoice.version)
        assert len(state.requests) == effect.attempts
    connection.flushdb()


def test_a_stripe_decline_leaves_the_invoice_unpaid_with_the_error(app_ctx, database_url, stripe_stub,
                                                                   certificate):
    server, state = stripe_stub
    connection = connect_redis()
    connection.flushdb()
    with app_context_for(database_url, TEST_REDIS_URL) as app:
        order = stripe_order(server, certificate, card="pm_card_chargeDeclined")
        invoice_id, version = order.invoice.id, order.invoice.version
        client = app.test_client(user=factories.make_admin())
        db.session.commit()
        post_capture(client, invoice_id, version)
        run_burst(app, connection)
        [effect] = captures()
        assert (effect.status, effect.attempts) == (SideEffectStatus.FAILED, 1)  # a decline is final
        invoice = committed_invoice(invoice_id)
        assert invoice.status == InvoiceStatus.UNPAID and invoice.transactions == []
        assert "declined" in invoice.capture_error
        db.session.expire_all()  # the test shares the requests' session; the worker wrote apart
        order_page = client.get(f"/admin/orders/details/?id={order.id}").get_data(as_text=True)
        assert "Last capture attempt failed" in order_page and "declined" in order_page
        # The admin can try again (another card saved meanwhile): a new side effect, a new key.
        assert "capture requested" in post_capture(client, invoice_id, invoice.version)
    connection.flushdb()
