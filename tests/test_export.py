"""Exports of the list grids: exactly the rows the filters select, as CSV and XLSX, behind
Export Lists, written to the activity log, and never a spreadsheet formula from client data."""

import csv
import io
import zipfile

import pytest
from sqlalchemy import select

from extensions import db
from models import OrderEvent, OrderStatus, Role
from tests import factories
from tests.sql_support import recorded_statements


@pytest.fixture
def book(session):
    orders = {
        "pending": [factories.make_order(status=OrderStatus.PENDING) for _ in range(3)],
        "active": [factories.make_order(status=OrderStatus.ACTIVE, invoice_status="Paid") for _ in range(2)],
    }
    orders["pending"][0].client.first_name = "=HYPERLINK(\"http://evil.example\",\"x\")"
    factories.make_order(status=OrderStatus.CANCELLED, invoice_status="Cancelled", domains=["Cancelled"])
    session.commit()
    return orders


def csv_rows(response) -> list[dict]:
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_exactly_the_filtered_rows(admin_client, book):
    response = admin_client.get("/admin/orders/export/csv/?flt0_status_equals=Pending")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment; filename=orders-" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert sorted(int(r["Order #"]) for r in rows) == sorted(o.order_number for o in book["pending"])
    assert {r["Status"] for r in rows} == {"Pending"}
    everything = csv_rows(admin_client.get("/admin/orders/export/csv/"))
    assert len(everything) == 6


def test_client_text_is_never_a_formula(admin_client, book):
    rows = csv_rows(admin_client.get("/admin/orders/export/csv/?flt0_status_equals=Pending"))
    clients = [r["Client"] for r in rows]
    assert any(c.startswith("'=HYPERLINK") for c in clients)
    assert not any(c.startswith("=") for c in clients)


def test_xlsx_export_is_a_workbook_of_the_same_rows(admin_client, book):
    response = admin_client.get("/admin/orders/export/xlsx/?flt0_status_equals=Active")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        strings = workbook.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in \
            workbook.namelist() else sheet
    for order in book["active"]:
        assert str(order.order_number) in strings + sheet
    for order in book["pending"]:
        assert str(order.order_number) not in strings + sheet
    assert "<f>" not in sheet  # no formulas at all


def test_each_export_is_in_the_activity_log(admin_client, full_admin, book):
    admin_client.get("/admin/orders/export/csv/?flt0_status_equals=Pending")
    db.session.expire_all()
    event = db.session.scalar(select(OrderEvent).where(OrderEvent.verb == "list_exported"))
    assert (event.order_id, event.actor_id) == (None, full_admin.id)
    assert event.details == {"list": "orders", "format": "csv", "rows": 3,
                             "filters": {"flt0_status_equals": "Pending"}}
    log = admin_client.get("/admin/activity-log/?flt0_verb_equals=list_exported").get_data(as_text=True)
    assert "List exported" in log and "rows: 3" in log


def test_export_needs_its_permission(client_as, session, book):
    session.add(Role(name="Viewer", permissions=["View Orders", "List Clients"]))
    session.flush()
    viewer = client_as(factories.make_admin("Viewer"))
    session.commit()
    assert viewer.get("/admin/orders/export/csv/").status_code == 403
    assert 'id="export-menu"' not in viewer.get("/admin/orders/").get_data(as_text=True)
    assert viewer.get("/admin/clients/export/xlsx/").status_code == 403
    sales = client_as(factories.make_admin("Sales Operator"))
    assert sales.get("/admin/clients/export/csv/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/orders/export/pdf/", "/admin/orders/export/../csv/"])
def test_unknown_formats_are_404(admin_client, book, path):
    assert admin_client.get(path).status_code == 404


@pytest.mark.parametrize("endpoint", ["clients", "services", "domains", "invoices", "activity_log"])
def test_every_grid_exports(admin_client, book, endpoint):
    url = "/admin/activity-log/" if endpoint == "activity_log" else f"/admin/{endpoint}/"
    assert 'id="export-csv"' in admin_client.get(url).get_data(as_text=True)
    from models import Client, Domain, Invoice, Service

    model = {"clients": Client, "services": Service, "domains": Domain, "invoices": Invoice,
             "activity_log": OrderEvent}[endpoint]
    expected = db.session.scalar(select(db.func.count()).select_from(model))  # before this export's own event
    response = admin_client.get(url + "export/csv/")
    assert response.status_code == 200 and len(csv_rows(response)) == expected + (endpoint == "activity_log")


def test_export_reads_in_batches_not_one_query_per_row(admin_client, session):
    for _ in range(30):
        factories.make_order()
    session.commit()
    with recorded_statements(db.engine) as small:
        admin_client.get("/admin/orders/export/csv/").get_data()
    for _ in range(30):
        factories.make_order()
    session.commit()
    with recorded_statements(db.engine) as big:
        admin_client.get("/admin/orders/export/csv/").get_data()
    assert len(big) == len(small)


def test_orders_export_cells_say_what_the_grid_says(admin_client, book):
    """The plain-row export writes the client and payment status as the grid shows them."""
    rows = {int(r["Order #"]): r for r in csv_rows(admin_client.get("/admin/orders/export/csv/"))}
    for group in book.values():
        for order in group:
            db.session.refresh(order)
            row = rows[order.order_number]
            assert (row["Client"].lstrip("'"), row["Payment Status"], row["Status"]) == (
                str(order.client), order.payment_status.value, order.status)
    assert {"Paid", "Unpaid"} <= {row["Payment Status"] for row in rows.values()}
