"""The published WHMCS API clients, unchanged, against a live server on 127.0.0.1 (werkzeug in a
thread, a SQLite file): whmcspy 0.3.0 through the order story of issue 12, whmcs-api-client
1.0.32 through its own dialect (action in the query string, username/password, typed models)."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from actions.api_credentials import create_api_credential
from extensions import db
from models import Invoice, Order, OrderEvent, OrderStatus
from tests import factories
from tests.api_support import INVOICE_API_PERMISSIONS, ensure_gateway, fresh_throttle, make_role  # noqa: F401
from tests.browser_support import browser_app, serving

whmcspy = pytest.importorskip("whmcspy")
whmcs_client = pytest.importorskip("whmcs_client")


@pytest.fixture
def live(tmp_path):
    with browser_app(tmp_path / "api.db") as app:
        ensure_gateway()
        role = make_role("Storefront", INVOICE_API_PERMISSIONS)
        credential, secret = create_api_credential(db.session, role.name, "127.0.0.1")
        products = [factories.make_product(name="Starter"), factories.make_product(name="Pro")]
        factories.make_tld(".com")
        db.session.commit()
        with serving(app) as base:
            yield {
                "url": f"{base}/includes/api.php",
                "identifier": credential.identifier,
                "secret": secret,
                "products": [p.id for p in products],
                "app": app,
            }


def test_whmcspy_order_story(live):
    w = whmcspy.WHMCS(live["url"], live["identifier"], live["secret"])
    one, two = live["products"]
    client_id = w.add_client(
        "Grace",
        "Hopper",
        "grace@example.com",
        "1 Navy Way",
        "Arlington",
        "VA",
        "22201",
        "US",
        "+1 703 555 0100",
        "client-area-password",
    )
    assert isinstance(client_id, int)

    placed = w.add_order(
        client_id,
        products=[{"id": one, "domain": "shop.com"}, {"id": two, "domain": "blog.com"}],
        paymentmethod="mailin",
        billingcycle=["monthly", "monthly"],
        domaintype=["register"],
    )
    first = int(placed["orderid"])
    assert len(placed["serviceids"].split(",")) == 2 and len(placed["domainids"].split(",")) == 1
    assert placed["productids"] == placed["serviceids"] and placed["invoiceid"] > 0

    others = [
        int(
            w.add_order(
                client_id, products=[{"id": one, "domain": ""}], paymentmethod="banktransfer", noemail=True
            )["orderid"]
        )
        for _ in range(119)
    ]
    listed = [order["id"] for order in w.get_orders()]  # limitstart paging, 25 a page, until numreturned 0
    assert len(listed) == 120 and set(listed) == {first, *others}
    assert listed == sorted(listed, reverse=True)
    assert len(list(w.get_orders(status="Pending", userid=client_id))) == 120

    w.accept_order(first, autosetup=False, sendemail=False)
    w.call("PendingOrder", orderid=first)
    w.call("FraudOrder", orderid=first)
    invoice = w.call("GetInvoice", invoiceid=placed["invoiceid"])
    assert invoice["status"] == "Cancelled" and invoice["items"]["item"][0]["amount"] == "10.00"
    payment = {"transid": "BANK-1", "gateway": "banktransfer", "date": "2026-01-02 10:00:00"}
    with pytest.raises(
        whmcspy.Error, match="^It is not possible to add a payment to an invoice that is Cancelled$"
    ):
        w.call("AddInvoicePayment", invoiceid=placed["invoiceid"], **payment)
    other_invoice = w.call("GetOrders", id=others[0])["orders"]["order"][0]["invoiceid"]
    total = Decimal(w.call("GetInvoice", invoiceid=other_invoice)["total"])
    w.call("AddInvoicePayment", invoiceid=other_invoice, amount="4.00", **payment)
    w.call("AddInvoicePayment", invoiceid=other_invoice, **{**payment, "transid": "BANK-2"}, noemail=True)
    paid = w.call("GetInvoice", invoiceid=other_invoice)
    assert paid["status"] == "Paid" and paid["balance"] == "0.00"
    assert [(t["transid"], t["amountin"]) for t in paid["transactions"]["transaction"]] == [
        ("BANK-1", "4.00"),
        ("BANK-2", f"{total - 4:.2f}"),  # no amount: the balance
    ]
    assert w.call("GetOrders", id=others[0])["orders"]["order"][0]["paymentstatus"] == "Paid"
    with pytest.raises(whmcspy.Error, match="^Order ID not found or Status not Pending$"):
        w.cancel_order(first)
    w.delete_order(first)
    with pytest.raises(whmcspy.Error, match="Order ID not found"):
        w.delete_order(first)
    with pytest.raises(whmcspy.MissingPermission, match="Authentication Failed"):
        whmcspy.WHMCS(live["url"], live["identifier"], "WRONG").call("GetOrders")

    with live["app"].app_context():
        assert db.session.get(Order, first) is None
        events = db.session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == first, OrderEvent.verb.startswith("order_"))
            .order_by(OrderEvent.id)
        ).all()
        assert [e.verb for e in events] == [
            "order_placed",
            "order_accepted",
            "order_set_pending",
            "order_set_fraud",
            "order_deleted",
        ]
        assert {(e.actor_type, e.actor_name) for e in events} == {("api", live["identifier"])}
        payments = db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == others[0], OrderEvent.verb.startswith("invoice_"))
        ).all()
        assert [e.verb for e in payments] == [
            "invoice_payment_added",
            "invoice_payment_added",
            "invoice_paid",
        ]
        assert {(e.actor_type, e.actor_name) for e in payments} == {("api", live["identifier"])}
        assert db.session.get(Invoice, placed["invoiceid"]) is None
        assert {o.source for o in db.session.scalars(select(Order))} == {"api"}


def test_whmcs_api_client_dialect(live):
    from whmcs_client.exceptions import ForbiddenException

    api = whmcs_client.DefaultApi(
        whmcs_client.ApiClient(whmcs_client.Configuration(host=live["url"].rsplit("/api.php", 1)[0]))
    )
    ident, secret = live["identifier"], live["secret"]
    one, two = live["products"]
    added = api.add_client(
        ident,
        secret,
        "Ada",
        "Lovelace",
        "ada@example.com",
        "12 St James's Square",
        "London",
        "London",
        "SW1Y 4JH",
        "GB",
        "+44 20 7946 0000",
    )
    assert added.result == "success" and added.owner_user_id == added.clientid
    placed = api.add_order(
        ident,
        secret,
        clientid=added.clientid,
        paymentmethod="mailin",
        pid=[one, two],
        billingcycle=["monthly", "monthly"],
        noinvoice=True,
    )
    assert placed.result == "success" and len(placed.productids) == 2 and placed.invoiceid == "0"
    found = api.get_orders(ident, secret, id=int(placed.orderid))
    assert found.numreturned == 1 and found.orders["order"][0]["status"] == OrderStatus.PENDING
    assert api.cancel_order(ident, secret, orderid=int(placed.orderid)).result == "success"
    assert api.delete_order(ident, secret, orderid=int(placed.orderid)).result == "success"
    again = api.delete_order(ident, secret, orderid=int(placed.orderid))
    assert (again.result, again.message) == ("error", "Order ID not found")
    clients = api.get_clients(ident, secret, search="ada")
    assert clients.totalresults == 1 and clients.clients.client[0].email == "ada@example.com"
    assert api.get_clients(ident, secret, search="nobody").totalresults == 0
    details = api.get_clients_details(ident, secret, clientid=added.clientid, stats=True)
    assert details.client.phonenumber == "+44 20 7946 0000" and details.stats["numdueinvoices"] == 0
    methods = api.get_payment_methods(ident, secret)
    assert {m.module for m in methods.paymentmethods.paymentmethod} == {"banktransfer", "mailin"}
    products = api.get_products(ident, secret)
    assert products.totalresults == 2
    assert api.get_invoices(ident, secret).totalresults == 0
    with pytest.raises(ForbiddenException):
        api.get_orders(ident, "nope")
