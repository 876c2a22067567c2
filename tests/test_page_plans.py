"""The pages of the scale scenarios (bench/scenarios.py) read the big tables through indexes.

On a database as the CLI leaves it (`db upgrade`, `seed-demo` of a few hundred orders) plus the
scenarios' big order and busy client, every statement of the order page, invoice page, client
summary, Add New Order form and intelligent search is EXPLAINed: none reads orders, services,
domains, invoices, invoice_items, side_effects, order_events or transactions in full
(tests/sql_support.full_reads; on PostgreSQL with sequential scans priced out, since a few hundred
rows are honestly cheapest read in full). The invoice page's capture and refund lookups go through
the side effects' target index, and its statement count stays the same when the outbox grows.
"""

import pytest
from sqlalchemy import insert, select, text

from extensions import db
from models import Client, Order, SideEffect, SideEffectKind, SideEffectStatus
from tests import factories
from tests.conftest import fresh_postgres_database, make_test_app
from tests.sql_support import full_reads, query_plan, recorded_statements
from tests.test_page_query_counts import order_with

ORDERS = 300
TARGET_INDEX = "ix_side_effects_target_type_target_id_id"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pages_app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'cli.db'}"
        yield from _built(url)
        return
    with fresh_postgres_database("orderdesk_pages") as url:
        yield from _built(url)


def _built(url):
    app = make_test_app(url)
    runner = app.test_cli_runner()
    with app.app_context():
        for args in (["db", "upgrade"], ["seed-demo", "--orders", str(ORDERS)]):
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
        big = order_with(20, 50)
        busy = db.session.scalar(select(Client).order_by(Client.id.desc()).limit(1))
        for _ in range(30):
            factories.make_order(client=busy, domains=["Pending"])
        admin = factories.make_admin("Full Administrator")
        db.session.commit()
        app.config["pages"] = {
            "order page": f"/admin/orders/details/?id={big.id}",
            "invoice page": f"/admin/invoices/details/?id={big.invoice_id}",
            "client summary": f"/admin/client-summary/{busy.id}/",
            "Add New Order": "/admin/add-order/",
            "intelligent search (name)": f"/admin/search/?q={busy.last_name}",
            "intelligent search (order #)": f"/admin/search/?q={big.order_number}",
        }
        app.config["invoice_id"] = big.invoice_id
        assert admin.id  # loaded now: the test client signs it in after the session closes
        app.config["admin"] = admin
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def page_statements(app, url: str) -> list:
    client = app.test_client(user=app.config["admin"])
    client.get(url)  # the first request of a client loads its login once
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return captured


def explained(app):
    """A connection to EXPLAIN on. PostgreSQL: sequential and plain index scans priced out (a few
    hundred rows are cheapest read in full, or by walking the primary key under a LIMIT), so the
    plan reads each table by a bitmap of an index that serves the conditions, or in full when none
    does."""
    with app.app_context():
        conn = db.engine.connect()
    if conn.dialect.name == "postgresql":
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            conn.execute(text(f"SET {setting} = off"))
    return conn


def test_no_page_reads_a_big_table_in_full(pages_app):
    found = {}
    with explained(pages_app) as conn:
        for name, url in pages_app.config["pages"].items():
            for statement, parameters in page_statements(pages_app, url):
                if statement.lstrip().upper().startswith("SELECT"):
                    for step in full_reads(conn, statement, parameters):
                        found.setdefault(name, []).append((step, statement))
    assert found == {}


def test_the_check_sees_a_full_read(pages_app):
    """The check above can fail: an unindexed condition on side_effects is reported."""
    with explained(pages_app) as conn:
        assert full_reads(conn, "SELECT id FROM side_effects WHERE last_error = 'x'", {})


def test_invoice_page_finds_its_captures_and_refunds_by_target(pages_app):
    lookups = [(s, p) for s, p in page_statements(pages_app, pages_app.config["pages"]["invoice page"])
               if "side_effects.target_id" in s]
    assert len(lookups) == 2  # the capture under way, the refunds under way
    with explained(pages_app) as conn:
        for statement, parameters in lookups:
            assert any(TARGET_INDEX in line for line in query_plan(conn, statement, parameters)), statement


def test_invoice_page_does_not_grow_with_the_outbox(pages_app):
    url = pages_app.config["pages"]["invoice page"]
    before = len(page_statements(pages_app, url))
    with pages_app.app_context():
        others = db.session.scalars(select(Order.invoice_id).where(Order.invoice_id.is_not(None))).all()
        rows = [{"kind": kind, "order_id": None, "target_type": "invoice", "target_id": invoice,
                 "payload": {}, "status": status, "idempotency_key": f"outbox-growth-{n}-{invoice}"}
                for n, (kind, status) in enumerate([(SideEffectKind.CAPTURE, SideEffectStatus.FAILED),
                                                    (SideEffectKind.REFUND, SideEffectStatus.SUCCEEDED)])
                for invoice in others if invoice != pages_app.config["invoice_id"]]
        db.session.execute(insert(SideEffect), rows)
        db.session.commit()
        db.session.remove()
    assert len(page_statements(pages_app, url)) == before
