"""Cancel & Refund end to end: the admin's button, the outbox, the real `stripe` SDK against a local
HTTPS Stripe stub that counts refunds by Idempotency-Key, and the admin's Retry after a timeout.
Embedded mode (no REDIS_URL): each job runs in-process right after its commit."""

import json
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.transitions import STALE_MESSAGE
from extensions import db
from jobs.sweeper import sweep
from models import (
    Gateway,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
    Transaction,
)
from tests import factories
from tests.jobs_support import fresh
from tests.modules_support.http_stub import StubServer
from tests.modules_support.stripe_stub import API_KEY, StripeHandler, StripeState
from tests.modules_support.tls import make_certificate, server_context

PAYMENT_INTENT = "pi_orderdesk_e2e"
BACK_TO = "/admin/side-effects/"  # where the admin lands after each POST, with its flash messages


class LostAnswerState(StripeState):
    def __init__(self) -> None:
        super().__init__()
        self.answers_to_lose = 0
        self.release = threading.Event()  # StubServer sets it on exit too


class LostAnswerHandler(StripeHandler):
    """Stripe does the work, but the answer does not arrive in time: the client times out although
    the refund happened. The answer is held until the test releases it."""

    def send_json(self, status, payload, headers=None) -> None:
        state: LostAnswerState = self.server.state
        if state.answers_to_lose:
            state.answers_to_lose -= 1
            state.release.wait(timeout=10)
        super().send_json(status, payload, headers)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("stripe-e2e-tls"))


@pytest.fixture
def stripe_stub(certificate):
    state = LostAnswerState()
    state.add_payment(PAYMENT_INTENT, 1500)  # the order's 15.00, in cents
    with StubServer(LostAnswerHandler, state, tls=server_context(*certificate)) as server:
        yield server, state


def paid_through_stripe(server, certificate) -> Order:
    db.session.add(Gateway(name="stripe", display_name="Stripe", module="stripe", settings=json.dumps({
        "secret_key": API_KEY,
        "api_base": server.url,
        "ca_bundle": str(certificate[0]),
        "timeout": 0.5,  # the held answer turns into a client timeout quickly
    })))
    order = factories.make_order(paid=True, invoice_status=InvoiceStatus.PAID, gateway="stripe")
    [payment] = order.invoice.transactions
    payment.transaction_id = PAYMENT_INTENT
    db.session.flush()
    return order


def cancel_and_refund(client, order_id: int, version: int) -> str:
    response = client.post("/admin/orders/order/cancel_and_refund/", follow_redirects=True,
                           data={"id": order_id, "expected_version": version, "url": BACK_TO})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def refund_effects(order_id: int) -> list[SideEffect]:
    with Session(db.engine) as session:
        rows = session.scalars(select(SideEffect).where(
            SideEffect.order_id == order_id, SideEffect.kind == SideEffectKind.REFUND)).all()
        session.expunge_all()
        return rows


def refunds_of(payment_id: int) -> list[Transaction]:
    with Session(db.engine) as session:
        rows = session.scalars(select(Transaction).where(Transaction.refund_of_id == payment_id)).all()
        session.expunge_all()
        return rows


def test_double_click_and_retry_after_a_timeout_refund_once(admin_client, session, stripe_stub,
                                                            certificate, monkeypatch):
    server, state = stripe_stub
    monkeypatch.setitem(admin_client.application.config, "SIDE_EFFECT_MAX_ATTEMPTS", 1)
    order = paid_through_stripe(server, certificate)
    order_id, version, invoice_id = order.id, order.version, order.invoice.id
    payment_id = order.invoice.transactions[0].id
    session.commit()
    state.answers_to_lose = 1

    first = cancel_and_refund(admin_client, order_id, version)
    second = cancel_and_refund(admin_client, order_id, version)  # the double click, same page

    assert "cancelled (refunds requested)" in first
    assert "cancelled (refunds requested)" not in second  # refused: already cancelled / stale page
    assert STALE_MESSAGE in second  # the page's version is gone: refused, nothing recorded
    [effect] = refund_effects(order_id)
    # The refund happened at Stripe, but its answer was lost: one attempt, the last one, failed.
    assert (effect.status, effect.attempts) == (SideEffectStatus.FAILED, 1)
    assert "Stripe" in effect.last_error
    assert len(state.refunds) == 1 and refunds_of(payment_id) == []
    assert fresh(Invoice, invoice_id).status == InvoiceStatus.PAID
    assert fresh(Order, order_id).status == OrderStatus.CANCELLED
    state.release.set()  # the held answer goes to a client that stopped waiting

    # The admin retries it from the failed side effects list (twice: a double click again).
    retried = admin_client.post("/admin/side-effects/action/", follow_redirects=True,
                                data={"action": "retry", "rowid": [str(effect.id)], "url": BACK_TO})
    assert "1 retried, 0 refused." in retried.get_data(as_text=True)
    again = admin_client.post("/admin/side-effects/action/", follow_redirects=True,
                              data={"action": "retry", "rowid": [str(effect.id)], "url": BACK_TO})
    assert "0 retried, 1 refused" in again.get_data(as_text=True)

    [done] = refund_effects(order_id)
    assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 1), done.last_error
    # Stripe saw the same key twice and replayed its first answer: one refund, one refunded amount.
    assert [path for path, _ in state.requests] == ["/v1/refunds"] * 2
    assert {key for _, key in state.requests} == {effect.idempotency_key}
    assert len(state.refunds) == 1 and state.payments[PAYMENT_INTENT]["refunded"] == 1500
    [refund] = refunds_of(payment_id)
    assert refund.amount_out == Decimal("15.00") and refund.invoice_id == invoice_id
    assert refund.transaction_id == state.refunds[0]["id"]
    assert fresh(Invoice, invoice_id).status == InvoiceStatus.REFUNDED


def test_stripe_500_then_the_scheduled_retry_refunds_once(admin_client, session, stripe_stub,
                                                          certificate, monkeypatch):
    server, state = stripe_stub
    monkeypatch.setitem(admin_client.application.config, "SIDE_EFFECT_RETRY_BASE_SECONDS", 0)
    order = paid_through_stripe(server, certificate)
    order_id, version, invoice_id = order.id, order.version, order.invoice.id
    payment_id = order.invoice.transactions[0].id
    session.commit()
    state.fail_next.append(500)

    cancel_and_refund(admin_client, order_id, version)
    [effect] = refund_effects(order_id)
    assert (effect.status, effect.attempts) == (SideEffectStatus.QUEUED, 1)  # retry due (base 0)
    assert state.refunds == []

    with Session(db.engine) as sweep_session:
        sweep(sweep_session, None)  # embedded: the sweeper runs due retries in-process
    with Session(db.engine) as sweep_session:
        assert sweep(sweep_session, None).ran_in_process == []  # nothing left to run

    [done] = refund_effects(order_id)
    assert (done.status, done.attempts) == (SideEffectStatus.SUCCEEDED, 2), done.last_error
    assert len(state.refunds) == 1
    assert [refund.amount_out for refund in refunds_of(payment_id)] == [Decimal("15.00")]
    assert fresh(Invoice, invoice_id).status == InvoiceStatus.REFUNDED


def test_cancel_and_refund_refunds_only_what_an_earlier_refund_left(admin_client, session, stripe_stub,
                                                                     certificate):
    """5.00 of the 15.00 payment was refunded earlier (at Stripe and in Orderdesk): Cancel & Refund
    asks Stripe for the remaining 10.00 only, and then the invoice is Refunded."""
    server, state = stripe_stub
    order = paid_through_stripe(server, certificate)
    order_id, version, invoice_id = order.id, order.version, order.invoice.id
    [payment] = order.invoice.transactions
    payment_id = payment.id
    session.add(Transaction(client_id=payment.client_id, invoice=order.invoice, gateway="stripe",
                            date=payment.date, description="Partial refund", amount_out=Decimal("5.00"),
                            refund_of_id=payment.id, transaction_id="re_earlier"))
    state.payments[PAYMENT_INTENT]["refunded"] = 500
    session.commit()

    assert "cancelled (refunds requested)" in cancel_and_refund(admin_client, order_id, version)

    [effect] = refund_effects(order_id)
    assert effect.status == SideEffectStatus.SUCCEEDED, effect.last_error
    assert Decimal(effect.payload["amount"]) == Decimal("10.00")
    assert [refund["amount"] for refund in state.refunds] == [1000]  # cents: the remainder only
    assert state.payments[PAYMENT_INTENT]["refunded"] == 1500
    assert sorted(r.amount_out for r in refunds_of(payment_id)) == [Decimal("5.00"), Decimal("10.00")]
    assert fresh(Invoice, invoice_id).status == InvoiceStatus.REFUNDED
