"""Money is exact on SQLite as on PostgreSQL: in Python, through the ORM and in SQL aggregates."""

import math
from decimal import Decimal

import flask_migrate
from sqlalchemy import func, insert, select, text

from extensions import db
from models import Invoice, InvoiceItem, Order, Transaction
from models.bounds import MAX_MONEY
from tests import factories
from tests.conftest import make_test_app

# 0.10 a thousand times: a float sum drifts (sum of 0.1 as floats != 100.0), Decimal does not.
DIMES = 1000


def test_float_sums_would_be_wrong():
    assert sum([0.1] * DIMES) != 100.0
    assert float("123456789012345.99") != 123456789012345.99 or f"{float('99999999999999.99'):.2f}" != \
        "99999999999999.99"


def test_largest_amount_round_trips_exactly(session):
    order = factories.make_order()
    for amount in (MAX_MONEY, -MAX_MONEY, Decimal("0.01"), Decimal("12345678901234.56")):
        order.amount = amount
        session.commit()
        session.expire_all()
        assert session.get(Order, order.id).amount == amount
        assert session.scalar(select(Order.amount).where(Order.id == order.id)) == amount


def test_sql_sums_over_many_amounts_are_exact(session):
    invoice = factories.make_order().invoice
    session.execute(insert(InvoiceItem), [
        {"invoice_id": invoice.id, "type": "Item", "description": "dime", "amount": Decimal("0.10")}
        for _ in range(DIMES)])
    session.execute(insert(InvoiceItem), [
        {"invoice_id": invoice.id, "type": "Item", "description": "big", "amount": MAX_MONEY},
        {"invoice_id": invoice.id, "type": "Item", "description": "cent", "amount": Decimal("0.01")}])
    session.commit()
    # Large amounts with cents: a float sum (SQLite's REAL) is a cent or more off for these.
    large = [Decimal("98765432109876.53")] * 7 + [Decimal("33333333333333.33")] * 3
    session.execute(insert(InvoiceItem), [
        {"invoice_id": invoice.id, "type": "Item", "description": f"large-{i}", "amount": amount}
        for i, amount in enumerate(large)])
    session.commit()
    total = session.scalar(select(func.sum(InvoiceItem.amount))
                           .where(InvoiceItem.description.like("large-%")))
    assert total == sum(large) == Decimal("791358024769135.70")
    as_floats = Decimal(repr(math.fsum(float(a) for a in large))).quantize(Decimal("0.01"))
    assert as_floats != total  # what a float sum gives: 791358024769135.80
    dimes = session.scalar(select(func.sum(InvoiceItem.amount)).where(InvoiceItem.description == "dime"))
    assert dimes == Decimal("100.00") and isinstance(dimes, Decimal)
    everything = session.scalar(select(func.sum(InvoiceItem.amount))
                                .where(InvoiceItem.invoice_id == invoice.id))
    assert everything == Decimal("115.01") + MAX_MONEY + sum(large)
    # Expressions over money stay money: differences, multiples, coalesce.
    paid = factories.make_order(paid=True)
    session.commit()
    net = func.sum(Transaction.amount_in - Transaction.amount_out)
    balance = session.scalar(select(func.coalesce(net, 0)).where(Transaction.invoice_id == paid.invoice_id))
    assert balance == Decimal("15.00")
    assert session.scalar(select(Invoice.total * 3).where(Invoice.id == paid.invoice_id)) == Decimal("45.00")
    assert session.scalar(select(func.count()).select_from(InvoiceItem).where(
        InvoiceItem.amount >= Decimal("0.10"), InvoiceItem.amount < Decimal("0.11"))) == DIMES


def test_orm_sums_are_exact(session):
    order = factories.make_order()
    invoice = order.invoice
    for _ in range(DIMES):
        session.add(Transaction(client=order.client, invoice=invoice, gateway="banktransfer",
                                amount_in=Decimal("0.10")))
    session.commit()
    session.expire_all()
    assert session.get(Invoice, invoice.id).amount_paid == Decimal("100.00")


def test_the_migration_turns_sqlite_amounts_into_exact_cents(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision="1f94921cf348")  # the schema before exact money
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO clients (first_name, last_name, company_name, email, address1, city, state,"
                " postcode, country, phone, status, notes, created_at) VALUES ('A', 'B', '',"
                " 'a@example.com', '', '', '', '', 'GB', '', 'Active', '', '2024-01-01')"))
            conn.execute(text(
                "INSERT INTO invoices (client_id, date, due_date, status, subtotal, credit, tax, total,"
                " payment_method, notes, created_at) VALUES (1, '2024-01-01', '2024-01-01', 'Unpaid',"
                " 12.34, 0, 0.1, 1234567.89, '', '', '2024-01-01')"))
            for _ in range(3):
                conn.execute(text("INSERT INTO invoice_items (invoice_id, type, description, amount)"
                                  " VALUES (1, 'Item', 'x', 0.1)"))
        flask_migrate.upgrade()
        invoice = db.session.get(Invoice, 1)
        assert (invoice.subtotal, invoice.tax, invoice.total) == (
            Decimal("12.34"), Decimal("0.10"), Decimal("1234567.89"))
        assert db.session.scalar(select(func.sum(InvoiceItem.amount))) == Decimal("0.30")
        with db.engine.connect() as conn:
            stored = conn.scalar(text("SELECT typeof(total) || ':' || total FROM invoices"))
            assert stored == "integer:123456789"
        db.session.remove()
        flask_migrate.downgrade(revision="1f94921cf348")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT subtotal FROM invoices")) == 12.34
        db.engine.dispose()
