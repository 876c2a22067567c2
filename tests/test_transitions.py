"""Every (action x starting order status x invoice status) on an order holding every item status.

The EXPECTED table below is written from DESIGN.md §4, not from actions/transitions.py, so a change
to either one breaks a test. Refused actions must leave every row of every table as it was.
"""

import pytest
from sqlalchemy import select, text

from actions.accept import AcceptOptions, DomainAcceptOptions, accept_order
from actions.actor import Actor
from actions.cancel import cancel_order
from actions.delete import delete_order
from actions.fraud import set_order_fraud
from actions.pending import set_order_pending
from actions.status import change_order_status
from actions.transitions import TransitionError
from extensions import db
from models import (
    Domain,
    Gateway,
    Invoice,
    Order,
    OrderEvent,
    OrderStatusDefinition,
    Service,
    ServiceAddon,
    SideEffect,
)
from tests.factories import add_ordered_addon, make_addon, make_order

ADMIN = Actor("admin", 1, "Table Test")
CUSTOM_PENDING = "Processed"  # a custom status with include-in-pending
CUSTOM_PLAIN = "Building"  # a custom status without it

# The order every case starts from: one service per status, one domain per status.
SERVICES = ["Pending", "Active", "Suspended"]
DOMAINS = ["Pending", "Active"]
# Ordered addons on the first service: (status, the addon has a server module).
ADDONS = [("Pending", True), ("Active", True), ("Suspended", True), ("Active", False)]
ORDER_STATUSES = ["Pending", "Active", "Cancelled", "Fraud", CUSTOM_PENDING, CUSTOM_PLAIN]
INVOICES = ["Unpaid", "Paid", "Cancelled", None]  # Paid = with a payment through Stripe (can refund)

# --- DESIGN.md §4, written out -------------------------------------------------------------------

ALLOWED_FROM = {
    "accept": {"Pending", CUSTOM_PENDING},
    "cancel": set(ORDER_STATUSES) - {"Cancelled"},
    "cancel_and_refund": set(ORDER_STATUSES) - {"Cancelled"},
    "set_fraud": set(ORDER_STATUSES) - {"Fraud"},
    "set_pending": set(ORDER_STATUSES) - {"Pending"},
    "delete": {"Cancelled", "Fraud"},
    "change_status": set(ORDER_STATUSES) - {CUSTOM_PLAIN},  # to Building: any but itself
}
REFUSED_CODE_FOR_STATUS = {"change_status": "same_status"}

# action -> (order, services, domains, invoice {from: to}, side effects, event verbs)
# side effects: (kind, "service"|"domain"|"invoice", item index, then_status or None)
EXPECTED = {
    "accept": (
        "Active",
        ["Pending", "Active", "Suspended"],
        ["Pending Registration", "Active"],
        {},
        [("module_create", "service", 0, None), ("domain_register", "domain", 0, None)],
        ["order_accepted"],
    ),
    "cancel": (
        "Cancelled",
        ["Cancelled", "Active", "Suspended"],
        ["Cancelled", "Active"],
        {"Unpaid": "Cancelled"},
        [("module_terminate", "service", 1, "Cancelled"), ("module_terminate", "service", 2, "Cancelled")],
        ["order_cancelled"],
    ),
    "cancel_and_refund": (
        "Cancelled",
        ["Cancelled", "Active", "Suspended"],
        ["Cancelled", "Active"],
        {"Unpaid": "Cancelled"},
        [
            ("module_terminate", "service", 1, "Cancelled"),
            ("module_terminate", "service", 2, "Cancelled"),
            ("refund", "invoice", 0, None),
        ],
        ["order_cancelled", "order_refund_requested"],
    ),
    "set_fraud": (
        "Fraud",
        ["Fraud", "Active", "Suspended"],
        ["Fraud", "Active"],
        {"Unpaid": "Cancelled"},
        [("module_terminate", "service", 1, "Fraud"), ("module_terminate", "service", 2, "Fraud")],
        ["order_set_fraud"],
    ),
    "set_pending": (
        "Pending",
        ["Pending", "Pending", "Pending"],
        ["Pending", "Pending"],
        {"Cancelled": "Unpaid"},
        [],
        ["order_set_pending"],
    ),
    "delete": (None, None, None, None, [], ["order_deleted"]),
    "change_status": (CUSTOM_PLAIN, SERVICES, DOMAINS, {}, [], ["order_status_changed"]),
}

# Addons exactly like services (issue 11); without a module there is nothing to run, so they move now.
# action -> (addon statuses, side effects (kind, "addon", addon index, then_status))
EXPECTED_ADDONS = {
    "accept": (["Pending", "Active", "Suspended", "Active"], [("addon_create", "addon", 0, None)]),
    "cancel": (
        ["Cancelled", "Active", "Suspended", "Cancelled"],
        [("addon_terminate", "addon", 1, "Cancelled"), ("addon_terminate", "addon", 2, "Cancelled")],
    ),
    "cancel_and_refund": (
        ["Cancelled", "Active", "Suspended", "Cancelled"],
        [("addon_terminate", "addon", 1, "Cancelled"), ("addon_terminate", "addon", 2, "Cancelled")],
    ),
    "set_fraud": (
        ["Fraud", "Active", "Suspended", "Fraud"],
        [("addon_terminate", "addon", 1, "Fraud"), ("addon_terminate", "addon", 2, "Fraud")],
    ),
    "set_pending": (["Pending"] * 4, []),
    "delete": (None, []),
    "change_status": ([status for status, _ in ADDONS], []),
}


def extra_refusal(action: str, invoice: str | None) -> str | None:
    """Conditions beyond the order status (DESIGN.md §4)."""
    if action == "cancel_and_refund" and invoice != "Paid":
        return "no_payments"
    if action == "delete" and invoice == "Paid":
        return "unrefunded_payments"
    return None


def run(action: str, session, order: Order):
    if action == "accept":
        options = AcceptOptions(domains={order.domains[0].id: DomainAcceptOptions("manual", True)})
        return accept_order(session, order, options, ADMIN)
    if action == "cancel":
        return cancel_order(session, order, ADMIN)
    if action == "cancel_and_refund":
        return cancel_order(session, order, ADMIN, refund=True)
    if action == "set_fraud":
        return set_order_fraud(session, order, ADMIN)
    if action == "set_pending":
        return set_order_pending(session, order, ADMIN)
    if action == "delete":
        return delete_order(session, order, ADMIN)
    return change_order_status(session, order, CUSTOM_PLAIN, ADMIN)


# --- helpers --------------------------------------------------------------------------------------

SNAPSHOT_TABLES = [
    "orders",
    "services",
    "service_config_options",
    "service_addons",
    "domains",
    "invoices",
    "invoice_items",
    "transactions",
    "side_effects",
    "order_events",
    "email_log",
]


def table_snapshot(session) -> dict:
    """Every row of every table an order action may touch."""
    session.flush()
    return {
        name: sorted(tuple(map(repr, row)) for row in session.execute(text(f"SELECT * FROM {name}")))
        for name in SNAPSHOT_TABLES
    }


def setup_world(session):
    session.add_all(
        [
            OrderStatusDefinition(title=CUSTOM_PENDING, include_in_pending=True, sort_order=50),
            OrderStatusDefinition(title=CUSTOM_PLAIN, sort_order=60),
            Gateway(name="stripe", display_name="Stripe", module="stripe"),
        ]
    )
    session.flush()


def start(session, status: str, invoice: str | None) -> Order:
    order = make_order(
        status=status,
        services=SERVICES,
        domains=DOMAINS,
        invoice_status=invoice,
        paid=invoice == "Paid",
        gateway="stripe",
    )
    with_module, without = make_addon(module="manual"), make_addon()
    for addon_status, has_module in ADDONS:
        add_ordered_addon(order, order.services[0], with_module if has_module else without, addon_status)
    return order


# One test per (action, order status); the invoice statuses run inside it on separate orders, so
# the per-test database reset is paid 42 times, not 168.
CASES = [(a, s) for a in EXPECTED for s in ORDER_STATUSES]


@pytest.mark.parametrize(("action", "status"), CASES)
def test_transition_table(session, action, status):
    setup_world(session)
    for invoice in INVOICES:
        check_case(session, action, status, invoice)


def check_case(session, action, status, invoice):
    case = f"{action} from {status} with invoice {invoice}"
    order = start(session, status, invoice)
    order_id, invoice_id = order.id, order.invoice_id
    service_ids = [s.id for s in order.services]
    domain_ids = [d.id for d in order.domains]
    addon_ids = [a.id for a in order.addons]
    session.commit()

    refused = None
    if status not in ALLOWED_FROM[action]:
        refused = REFUSED_CODE_FOR_STATUS.get(action, "not_allowed")
    refused = refused or extra_refusal(action, invoice)
    if refused:
        before = table_snapshot(session)
        with pytest.raises(TransitionError) as caught:
            run(action, session, order)
        session.rollback()
        assert caught.value.code == refused, (case, caught.value.message)
        assert caught.value.message
        assert table_snapshot(session) == before, case
        return

    run(action, session, order)
    # Checked inside the transaction: on commit the embedded dispatcher would run the side effects.
    session.flush()
    session.expire_all()
    order_to, services_to, domains_to, invoice_map, effects_to, verbs = EXPECTED[action]
    addons_to, addon_effects = EXPECTED_ADDONS[action]
    effects_to = effects_to + addon_effects

    order = session.get(Order, order_id)
    services = [session.get(Service, i) for i in service_ids]
    domains = [session.get(Domain, i) for i in domain_ids]
    addons = [session.get(ServiceAddon, i) for i in addon_ids]
    stored_invoice = session.get(Invoice, invoice_id) if invoice_id else None
    if order_to is None:  # delete: everything removed
        assert order is None and services == [None] * 3 and domains == [None] * 2, case
        assert addons == [None] * len(ADDONS), case
        assert stored_invoice is None, case
    else:
        assert order.status == order_to, case
        assert [s.status for s in services] == services_to, case
        assert [d.status for d in domains] == domains_to, case
        assert [a.status for a in addons] == addons_to, case
        if invoice is None:
            assert stored_invoice is None, case
        else:
            assert stored_invoice.status == invoice_map.get(invoice, invoice), case

    item_ids = {"service": service_ids, "domain": domain_ids, "invoice": [invoice_id], "addon": addon_ids}
    effects = session.scalars(select(SideEffect).where(SideEffect.order_id == order_id)).all()
    assert sorted(
        (e.kind, e.target_type, e.target_id, e.payload.get("then_status")) for e in effects
    ) == sorted((kind, target, item_ids[target][index], then) for kind, target, index, then in effects_to), (
        case
    )
    assert all(e.status == "queued" for e in effects), case

    got = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()
    assert [e.verb for e in got] == verbs, case
    assert got[0].actor_type == "admin" and got[0].actor_name == "Table Test", case
    assert got[0].from_status == status, case
    assert got[0].to_status == (order_to or ""), case
    session.rollback()  # the next case starts from committed data; nothing here is dispatched


def test_every_action_has_expectations():
    from actions.transitions import TRANSITIONS

    assert {str(a) for a in TRANSITIONS} == set(EXPECTED) == set(ALLOWED_FROM) == set(EXPECTED_ADDONS)


def test_delete_snapshot_keeps_order_items_and_invoice(session):
    setup_world(session)
    order = start(session, "Cancelled", "Cancelled")
    number, service_ids = order.order_number, [s.id for s in order.services]
    order.services[0].password = "hunter2-secret"
    session.commit()
    snapshot = delete_order(session, order, ADMIN)
    session.commit()
    event = session.scalar(select(OrderEvent).where(OrderEvent.verb == "order_deleted"))
    stored = event.details["snapshot"]
    assert stored == snapshot
    assert stored["order"]["order_number"] == number
    assert [s["id"] for s in stored["services"]] == service_ids
    assert len(stored["domains"]) == 2
    assert [a["status"] for a in stored["addons"]] == [status for status, _ in ADDONS]
    assert stored["invoice"]["status"] == "Cancelled" and len(stored["invoice"]["items"]) == 5 + len(ADDONS)
    assert "hunter2-secret" not in repr(stored) and "password" not in stored["services"][0]
    assert db.session.scalar(select(Order).where(Order.order_number == number)) is None
