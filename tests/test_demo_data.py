"""`flask seed-demo`: idempotent, deterministic, consistent demo data; and its speed at 100,000 orders."""

import hashlib
import resource
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from actions.order_number import HIGHEST, LOWEST
from actions.reference_data import ensure_reference_data
from demo.catalog import ON_HOLD
from extensions import db
from models import (
    Affiliate,
    Client,
    Domain,
    EmailLog,
    Invoice,
    InvoiceItem,
    Order,
    OrderEvent,
    OrderStatus,
    Product,
    Promotion,
    Service,
    SideEffect,
    Tld,
    Transaction,
    utcnow,
)
from tests import factories
from tests.conftest import _truncate_all

SMALL = 300


def seed(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["seed-demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def fingerprint() -> dict:
    """Row counts per table and a hash of what matters in each order, item and invoice."""
    db.session.expire_all()
    counts = {t.name: _count(select(t)) for t in db.metadata.sorted_tables}
    digest = hashlib.sha256()
    queries = [
        select(Order.id, Order.order_number, Order.status, Order.amount, Order.client_id, Order.date)
        .order_by(Order.id),
        select(Service.id, Service.order_id, Service.status, Service.first_payment_amount)
        .order_by(Service.id),
        select(Domain.id, Domain.order_id, Domain.name, Domain.status).order_by(Domain.id),
        select(Invoice.id, Invoice.status, Invoice.total).order_by(Invoice.id),
        select(Client.id, Client.email).order_by(Client.id),
        select(Transaction.id, Transaction.amount_in, Transaction.amount_out, Transaction.refund_of_id)
        .order_by(Transaction.id),
        select(SideEffect.id, SideEffect.kind, SideEffect.target_id, SideEffect.payload)
        .order_by(SideEffect.id),
        select(OrderEvent.id, OrderEvent.verb, OrderEvent.details).order_by(OrderEvent.id),
    ]
    for query in queries:
        for row in db.session.execute(query):
            digest.update(repr(tuple(row)).encode())
    return {"counts": counts, "hash": digest.hexdigest()}


def order_facts() -> list[tuple]:
    """What the k-th order is, whenever it was seeded: number, status and what it bills. Not who
    orders: a top-up dates its orders after the newest one, and who was a client by then (and so
    whether a new-signups promotion still applies) depends on those dates."""
    lines: dict[int, list] = {}
    for invoice_id, *line in db.session.execute(
            select(InvoiceItem.invoice_id, InvoiceItem.type, InvoiceItem.description, InvoiceItem.amount)
            .where(InvoiceItem.type.not_in(["PromoHosting", "PromoDomain"])).order_by(InvoiceItem.id)):
        lines.setdefault(invoice_id, []).append(tuple(line))
    return [(number, status, tuple(lines[invoice_id])) for number, status, invoice_id in db.session.execute(
        select(Order.order_number, Order.status, Order.invoice_id).order_by(Order.id))]


def test_seed_demo_twice_leaves_the_same_data(app_ctx):
    first = seed(app_ctx, "--orders", str(SMALL))
    before = fingerprint()
    second = seed(app_ctx, "--orders", str(SMALL))
    assert fingerprint() == before
    assert f"Seeded {SMALL} orders, 60 clients ({SMALL} new orders, 60 new clients)" in first
    assert "(0 new orders, 0 new clients)" in second
    counts = before["counts"]
    assert counts["orders"] == SMALL and counts["invoices"] == SMALL and counts["clients"] == 60
    assert counts["products"] == 8 and counts["tlds"] == 5 and counts["promotions"] == 3
    assert counts["tld_prices"] == 15 and counts["servers"] == 1 and counts["affiliates"] == 3
    assert counts["gateways"] == 2 and counts["order_statuses"] == 5
    assert counts["side_effects"] > SMALL / 2 and counts["email_log"] == 0


def test_a_top_up_adds_the_orders_one_larger_run_would_have_made(app_ctx):
    seed(app_ctx, "--orders", "100")
    first_hundred = order_facts()
    seed(app_ctx, "--orders", "250")
    topped_up = order_facts()
    assert topped_up[:100] == first_hundred and len(topped_up) == 250

    _truncate_all()
    ensure_reference_data(db.session)
    db.session.commit()
    seed(app_ctx, "--orders", "250")
    assert order_facts() == topped_up


def test_only_if_empty_does_nothing_when_an_order_exists(app_ctx):
    factories.make_order()
    db.session.commit()
    output = seed(app_ctx, "--orders", "50", "--only-if-empty")
    assert "already exist" in output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1  # the factory's only


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def test_demo_statuses_are_ones_the_actions_reach(app_ctx):
    """tests/test_demo_replay.py compares demo orders with replayed ones field by field; this checks
    the end states of a larger demo as a whole."""
    seed(app_ctx, "--orders", str(SMALL))
    statuses = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    assert set(statuses) == {*OrderStatus, ON_HOLD}

    def statuses_of(model, order_status):
        return set(db.session.scalars(select(model.status).join(Order, model.order_id == Order.id)
                                      .where(Order.status == order_status).distinct()))

    # Services: created on order or on payment while the order waits; Cancel ends running ones
    # Cancelled (through a terminate), never Terminated.
    assert statuses_of(Service, OrderStatus.ACTIVE) == {"Active"}
    assert statuses_of(Service, OrderStatus.PENDING) == {"Pending", "Active"}
    assert statuses_of(Service, ON_HOLD) <= {"Pending", "Active"}
    assert statuses_of(Service, OrderStatus.CANCELLED) == {"Cancelled"}
    assert statuses_of(Service, OrderStatus.FRAUD) == {"Fraud"}
    assert _count(select(Service.id).join(Order, Service.order_id == Order.id).join(Product)
                  .where(Order.status.in_([OrderStatus.PENDING, ON_HOLD]), Service.status == "Active",
                         Product.auto_setup.not_in(["on_order", "on_payment"]))) == 0
    # Domains: registered on payment where the TLD has an auto-registrar; Cancel and Set as Fraud
    # leave registered (Active) ones alone, which only paid orders have.
    assert statuses_of(Domain, OrderStatus.ACTIVE) == {"Active"}
    assert statuses_of(Domain, OrderStatus.PENDING) == {"Pending", "Active"}
    assert statuses_of(Domain, OrderStatus.CANCELLED) == {"Cancelled", "Active"}
    assert statuses_of(Domain, OrderStatus.FRAUD) == {"Fraud"}
    assert _count(select(Domain.id).join(Order, Domain.order_id == Order.id).join(Invoice, Order.invoice)
                  .where(Domain.status == "Active", Invoice.status.not_in(["Paid", "Refunded"]))) == 0

    invoice_of = {
        OrderStatus.ACTIVE: {"Paid"}, OrderStatus.PENDING: {"Unpaid", "Paid"}, ON_HOLD: {"Unpaid"},
        OrderStatus.CANCELLED: {"Cancelled", "Paid", "Refunded"}, OrderStatus.FRAUD: {"Cancelled"},
    }
    for order_status, expected in invoice_of.items():
        assert set(db.session.scalars(select(Invoice.status).select_from(Order).join(Invoice, Order.invoice)
                                      .where(Order.status == order_status).distinct())) == expected
    # Every order has items, an invoice whose lines add up to the order total, and a "placed" event.
    assert _count(select(Order.id).where(Order.invoice_id.is_(None))) == 0
    assert _count(select(Order.id).where(~Order.services.any(), ~Order.domains.any())) == 0
    line_sums = select(InvoiceItem.invoice_id, func.sum(InvoiceItem.amount).label("total")) \
        .group_by(InvoiceItem.invoice_id).subquery()
    for amount, invoice_total, lines in db.session.execute(
            select(Order.amount, Invoice.total, line_sums.c.total).join(Invoice, Order.invoice)
            .join(line_sums, line_sums.c.invoice_id == Invoice.id)):
        assert amount == invoice_total == pytest.approx(lines, abs=Decimal("0.001"))
    placed = select(OrderEvent.order_id).where(OrderEvent.verb == "order_placed")
    assert _count(select(Order.id).where(Order.id.not_in(placed))) == 0
    # Paid and refunded invoices have one payment of their total; a refunded one a refund of it,
    # linked to the payment; the others have no money movement.
    payments = db.session.execute(
        select(Invoice.status, Invoice.total, Transaction.amount_in).join(Transaction)
        .where(Transaction.refund_of_id.is_(None))).all()
    assert {status for status, _, _ in payments} == {"Paid", "Refunded"}
    assert all(total == paid for _, total, paid in payments)
    refund_of = Transaction.__table__.alias("payment")
    refunds = db.session.execute(
        select(Invoice.status, Transaction.amount_out, refund_of.c.amount_in)
        .join(Transaction, Transaction.invoice_id == Invoice.id)
        .join(refund_of, refund_of.c.id == Transaction.refund_of_id)).all()
    assert refunds and all(status == "Refunded" and out == paid for status, out, paid in refunds)
    assert _count(select(Invoice.id).where(Invoice.status == "Refunded")) == len(refunds)
    unpaid = Invoice.status.not_in(["Paid", "Refunded"])
    assert _count(select(Transaction.id).join(Invoice).where(unpaid)) == 0
    # Every side effect ran and succeeded, with its event; the email history is left out.
    assert set(db.session.scalars(select(SideEffect.status).distinct())) == {"succeeded"}
    assert _count(select(OrderEvent.id).where(OrderEvent.verb == "side_effect_succeeded")) == \
        _count(select(SideEffect.id))
    assert _count(select(SideEffect.id).where(SideEffect.kind == "email")) == 0
    assert _count(select(EmailLog.id)) == 0


def test_demo_orders_look_real(app_ctx):
    seed(app_ctx, "--orders", str(SMALL))
    orders = db.session.scalars(select(Order).order_by(Order.id)).all()
    numbers = [o.order_number for o in orders]
    assert len(set(numbers)) == len(numbers)
    assert all(LOWEST <= n <= HIGHEST and len(str(n)) == 10 for n in numbers)
    now = utcnow()
    assert all(now - timedelta(days=731) <= o.date <= now for o in orders)
    assert all(o.date.utcoffset() == timedelta(0) for o in orders)
    assert [o.date for o in orders] == sorted(o.date for o in orders)  # ids grow with dates
    assert all(o.ip_address for o in orders)
    assert all((o.fraud_output is None) == (o.fraud_module == "") for o in orders)
    assert _count(select(Order.id).where(Order.fraud_output.is_(None))) > SMALL / 2  # SQL NULL
    assert len({o.client_id for o in orders}) > 30
    assert _count(select(Order.id).where(Order.affiliate_id.is_not(None))) > 0
    promo_uses = db.session.execute(select(Order.promo_code, func.count()).where(Order.promo_code != "")
                                    .group_by(Order.promo_code)).all()
    assert {p.code: p.uses for p in db.session.scalars(select(Promotion))} == dict(promo_uses)
    assert all(uses > 0 for _, uses in promo_uses)
    auto_setups = set(db.session.scalars(select(Product.auto_setup)))
    assert auto_setups == {"on_order", "on_payment", "on_accept", "never"}
    assert {t.extension for t in db.session.scalars(select(Tld))} == {".com", ".net", ".org", ".io", ".co.uk"}
    assert db.session.scalar(select(func.count(Client.country.distinct()))) >= 5
    assert db.session.scalar(select(func.count()).select_from(Affiliate)) == 3
    # Secrets are stored encrypted and read back (as long as actions.side_effects.new_password's).
    active = db.session.scalars(select(Service).where(Service.password.is_not(None)).limit(1)).one()
    assert len(active.password) == 16
    stored = db.session.scalar(text("SELECT password FROM services WHERE id = :id"), {"id": active.id})
    assert stored != active.password


def test_after_seeding_the_app_inserts_rows_with_fresh_ids(app_ctx):
    """Seeding chooses its own ids; the sequences must move past them (PostgreSQL setval)."""
    seed(app_ctx, "--orders", "40")
    order = factories.make_order(services=["Pending"], domains=["Pending"])
    db.session.commit()
    assert order.id == 41 and order.invoice_id == 41
    assert db.session.scalar(select(func.max(Client.id))) == order.client_id == 21


@pytest.mark.benchmark
def test_seed_demo_100000_orders(app_ctx):
    started = time.perf_counter()
    output = seed(app_ctx, "--orders", "100000")
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(fingerprint()["counts"].values())
    print(f"\n[{db.engine.dialect.name}] seed-demo --orders 100000: {elapsed:.1f} s, {rows:,} rows "
          f"({rows / elapsed:,.0f} rows/s), peak RSS {peak_mb:.0f} MB\n{output}")
    assert db.session.scalar(select(func.count()).select_from(Order)) == 100_000
    assert peak_mb < 1024


def test_seed_demo_refuses_what_it_cannot_do_with_a_message(app_ctx):
    runner = app_ctx.test_cli_runner()
    for args in (["--orders", "-1"], ["--orders", "99999999999"], ["--clients", "x"]):
        result = runner.invoke(args=["seed-demo", *args])
        assert result.exit_code == 2 and "Invalid value" in result.output, args
    result = runner.invoke(args=["seed-demo", "--orders", "5", "--clients", "0"])
    assert result.exit_code == 1 and "Demo orders need clients" in result.output
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
