"""Property: any sequence of payments and refunds on one invoice, accepted or refused, leaves the
balance exactly total − paid + refunded (Decimal, SQLite and PostgreSQL), never pays more than the
total, never refunds more than a payment, and Unpaid exactly until a payment settles it."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.actor import SYSTEM
from actions.add_payment import add_payment
from actions.refund_payment import refund_payment
from actions.transitions import TransitionError
from models import InvoiceStatus
from tests import factories
from tests.billing_support import committed_invoice

CENTS = st.integers(min_value=1, max_value=1600)  # the invoice is 15.00: some overpay
STEPS = st.lists(st.tuples(st.sampled_from(["pay", "refund"]), CENTS, st.integers(0, 5)), max_size=8)


def test_payments_and_refunds_keep_an_exact_balance(session):
    @settings(max_examples=15, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(STEPS)
    def run(steps):
        order = factories.make_order()
        invoice_id = order.invoice.id
        session.commit()
        payments: list[list] = []  # [payment id, paid, refunded]
        settled = False  # a payment brought what is paid net of refunds to the total
        for verb, cents, pick in steps:
            amount = Decimal(cents).scaleb(-2)
            try:
                if verb == "pay":
                    payment = add_payment(session, invoice_id, SYSTEM, amount=amount, gateway="banktransfer")
                    payments.append([payment.id, amount, Decimal("0.00")])
                    settled = settled or sum(p[1] - p[2] for p in payments) == Decimal("15.00")
                elif payments:
                    chosen = payments[pick % len(payments)]
                    refund_payment(session, invoice_id, SYSTEM, payment_id=chosen[0], amount=amount)
                    chosen[2] += amount
                session.commit()
            except TransitionError:
                session.rollback()
            paid = sum((p[1] for p in payments), Decimal("0.00"))
            refunded = sum((p[2] for p in payments), Decimal("0.00"))
            invoice = committed_invoice(invoice_id)
            assert invoice.amount_paid == paid and invoice.amount_refunded == refunded
            assert invoice.balance == Decimal("15.00") - paid + refunded
            assert all(p[2] <= p[1] for p in payments)
            # Never paid beyond the total; Unpaid until a payment settles it, then Paid (or Refunded).
            assert paid - refunded <= Decimal("15.00")
            assert (invoice.status == InvoiceStatus.UNPAID) == (not settled), (steps, invoice.status)

    run()
