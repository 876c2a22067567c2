"""Amend a pending order (actions.amend_order): items added and removed, the invoice re-priced by
placement's code (expected amounts worked out by hand below), refusals that change nothing, and the
order_amended event with its before -> after diff."""

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from actions.actor import Actor
from actions.amend_cart import Amendment, current_amendment
from actions.amend_order import amend_order
from actions.cart import Cart, CartDomain, CartProduct, PlacementError
from actions.errors import ErrorCode, TransitionError
from actions.place import place_order
from admin.timeline import describe
from extensions import db
from models import (
    BillingCycle,
    CustomFieldValue,
    Domain,
    EmailLog,
    Invoice,
    InvoiceItem,
    Order,
    OrderEvent,
    Product,
    Promotion,
    Service,
    ServiceAddon,
    ServiceConfigOption,
    ServiceStatus,
    SideEffect,
    Transaction,
    utcnow,
)
from tests import factories

D = Decimal


@pytest.fixture
def shop(session):
    starter = factories.make_product(name="Starter", prices={
        BillingCycle.MONTHLY: ("10.00", "5.00"), BillingCycle.ANNUALLY: ("100.00", "5.00")})
    pro = factories.make_product(name="Pro", prices={BillingCycle.MONTHLY: ("20.00", "0.00")},
                                 stock_control=True, stock_quantity=5)
    backup = factories.make_addon(products=[starter], name="Backup", prices={
        BillingCycle.MONTHLY: ("3.00", "1.00"), BillingCycle.ANNUALLY: ("30.00", "1.00")})
    factories.make_tld(".com", register="12.00")
    return starter, pro, backup


@pytest.fixture
def order(session, shop, full_admin):
    """Starter monthly (10.00 + 5.00 setup) and example.com registered for a year (12.00): 27.00."""
    starter, _, _ = shop
    cart = Cart(client_id=factories.make_client().id, payment_method="banktransfer",
                products=[CartProduct(starter.id, BillingCycle.MONTHLY, domain="site.example")],
                domains=[CartDomain("Register", "example.com", 1)])
    placed = place_order(session, cart, Actor.admin(full_admin))
    assert placed.amount == D("27.00")
    return placed


def lines(order: Order) -> list[tuple[str, str, Decimal]]:
    return [(i.type, i.description, i.amount) for i in order.invoice.items]


def amend(order, amendment, admin, version=None):
    return amend_order(db.session, order, amendment, Actor.admin(admin), expected_version=version)


def test_add_and_remove_items_and_the_invoice_follows(session, order, shop, full_admin):
    starter, pro, _ = shop
    amendment = current_amendment(session, order)
    kept = order.services[0]
    # Keep the Starter service, add two Pro, remove the domain.
    amendment.products.append(CartProduct(pro.id, BillingCycle.MONTHLY, quantity=2))
    amendment.service_ids.append(None)
    amendment.domains, amendment.domain_ids = [], []
    domain_id = order.domains[0].id
    amend(order, amendment, full_admin)

    session.expire_all()
    order = session.get(Order, order.id)
    assert [s.product_id for s in order.services] == [starter.id, pro.id, pro.id]
    assert order.services[0].id == kept.id  # the kept service is the same row
    assert order.domains == [] and session.get(Domain, domain_id) is None
    ids = [s.id for s in order.services]
    # By hand: Starter 10.00 + 5.00 setup, Pro 20.00 twice (no setup) = 55.00.
    assert lines(order) == [
        ("Hosting", "Shared Hosting - Starter - site.example (Monthly)", D("10.00")),
        ("Setup", "Setup Fee: Shared Hosting - Starter - site.example", D("5.00")),
        ("Hosting", "Shared Hosting - Pro (Monthly)", D("20.00")),
        ("Hosting", "Shared Hosting - Pro (Monthly)", D("20.00")),
    ]
    assert [i.related_id for i in order.invoice.items] == [ids[0], ids[0], ids[1], ids[2]]
    assert order.invoice.subtotal == order.invoice.total == order.amount == D("55.00")
    assert [(s.first_payment_amount, s.recurring_amount) for s in order.services] == [
        (D("15.00"), D("10.00")), (D("20.00"), D("20.00")), (D("20.00"), D("20.00"))]
    assert session.get(Product, pro.id).stock_quantity == 3  # two taken

    # Then: drop one Pro, Starter to Annually with the Backup addon, a 10% promotion.
    factories.make_promotion(code="TENOFF", value="10.00")
    amendment = current_amendment(session, order)
    assert amendment.service_ids == ids
    amendment.products[0] = replace(amendment.products[0], billing_cycle=BillingCycle.ANNUALLY,
                                    addon_ids=[shop[2].id])
    del amendment.products[2], amendment.service_ids[2]
    amendment.promo_code = "tenoff"
    amend(order, amendment, full_admin)

    session.expire_all()
    order = session.get(Order, order.id)
    assert [s.id for s in order.services] == ids[:2]
    starter_id = ids[0]
    (addon,) = order.addons
    # By hand, 10% off each item: Starter 100.00 + 5.00 -> 10.50 off; Pro 20.00 -> 2.00 off;
    # Backup 30.00 + 1.00 -> 3.10 off. 105.00 + 20.00 + 31.00 - 15.60 = 140.40.
    assert lines(order) == [
        ("Hosting", "Shared Hosting - Starter - site.example (Annually)", D("100.00")),
        ("Setup", "Setup Fee: Shared Hosting - Starter - site.example", D("5.00")),
        ("PromoHosting", "Promotion Code: TENOFF - Shared Hosting - Starter - site.example", D("-10.50")),
        ("Hosting", "Shared Hosting - Pro (Monthly)", D("20.00")),
        ("PromoHosting", "Promotion Code: TENOFF - Shared Hosting - Pro", D("-2.00")),
        ("Addon", "Addon: Backup (Shared Hosting - Starter) (Annually)", D("30.00")),
        ("Addon", "Setup Fee: Addon: Backup (Shared Hosting - Starter)", D("1.00")),
        ("PromoAddon", "Promotion Code: TENOFF - Addon: Backup (Shared Hosting - Starter)", D("-3.10")),
    ]
    assert order.invoice.total == order.amount == D("140.40")
    assert (order.promo_code, order.services[0].billing_cycle) == ("TENOFF", BillingCycle.ANNUALLY)
    assert (addon.service_id, addon.first_payment_amount) == (starter_id, D("27.90"))
    assert session.get(Product, pro.id).stock_quantity == 4  # one given back
    assert session.scalar(select(Promotion.uses).where(Promotion.code == "TENOFF")) == 1


def test_the_diff_event(session, order, shop, full_admin):
    amendment = current_amendment(session, order)
    amendment.products[0] = replace(amendment.products[0], billing_cycle=BillingCycle.ANNUALLY)
    amendment.domains[0] = replace(amendment.domains[0], dns_management=True)  # no charge for it here
    invoice_id = order.invoice_id
    amend(order, amendment, full_admin)

    event = session.scalars(select(OrderEvent).where(OrderEvent.verb == "order_amended")).one()
    assert (event.order_id, event.actor_type, event.actor_id) == (order.id, "admin", full_admin.id)
    d = event.details
    assert d["invoice_id"] == invoice_id
    assert (d["before"]["total"], d["after"]["total"]) == ("27.00", "117.00")
    assert [(line["type"], line["description"], line["amount"]) for line in d["removed"]] == [
        ("Hosting", "Shared Hosting - Starter - site.example (Monthly)", "10.00"),
        ("DomainRegister", "Domain Register - example.com - 1 Year(s)", "12.00")]
    assert [line["description"] for line in d["added"]] == [
        "Shared Hosting - Starter - site.example (Annually)",
        "Domain Register - example.com - 1 Year(s) + DNS Management"]
    entry = describe(event)
    assert entry.sentence == "Order amended: 2 invoice line(s) removed, 2 added."
    assert "Total: $27.00 USD → $117.00 USD" in entry.changes
    assert "Removed: Shared Hosting - Starter - site.example (Monthly) $10.00 USD" in entry.changes
    assert "Added: Shared Hosting - Starter - site.example (Annually) $100.00 USD" in entry.changes


# --- refusals: nothing changed --------------------------------------------------------------------

TABLES = (Order, Service, Domain, ServiceAddon, ServiceConfigOption, CustomFieldValue, Invoice, InvoiceItem,
          Transaction, SideEffect, OrderEvent, EmailLog, Product, Promotion)


def state() -> dict:
    """Every row of the tables an amendment touches, column by column."""
    db.session.flush()
    db.session.expire_all()
    found = {}
    for model in TABLES:
        columns = [c.key for c in inspect(model).mapper.column_attrs]
        rows = db.session.scalars(select(model).order_by(model.id)).all()
        found[model.__tablename__] = [{c: getattr(r, c) for c in columns} for r in rows]
    return found


def bigger(session, order) -> Amendment:
    amendment = current_amendment(session, order)
    amendment.products[0] = replace(amendment.products[0], billing_cycle=BillingCycle.ANNUALLY)
    return amendment


def refused(session, order, amendment, admin, error=TransitionError, **kw):
    before = state()
    with pytest.raises(error) as caught:
        amend(session.get(Order, order.id), amendment, admin, **kw)
    session.rollback()
    assert state() == before
    return caught.value


def test_refused_after_a_payment(session, order, full_admin):
    session.add(Transaction(client_id=order.client_id, invoice=order.invoice, gateway="banktransfer",
                            amount_in=D("1.00"), transaction_id="t-1", date=utcnow()))
    session.commit()
    error = refused(session, order, bigger(session, order), full_admin)
    assert "payment" in error.message


def test_refused_after_an_item_is_provisioned(session, order, full_admin):
    order.services[0].status = ServiceStatus.ACTIVE
    session.commit()
    error = refused(session, order, bigger(session, order), full_admin)
    assert error.message.startswith(f"Service #{order.services[0].id} is Active")


def test_refused_once_a_module_create_has_run(session, order, full_admin):
    from actions.side_effects import record_module_create

    effect = record_module_create(session, order.services[0], server_id=None, send_welcome_email=False)
    effect.attempts, effect.status = 1, "failed"
    session.commit()
    error = refused(session, order, bigger(session, order), full_admin)
    assert "set-up command" in error.message


def test_a_queued_create_of_a_removed_service_is_cancelled(session, order, shop, full_admin):
    from actions.side_effects import record_module_create

    effect = record_module_create(session, order.services[0], server_id=None, send_welcome_email=False)
    amendment = current_amendment(session, order)
    amendment.products, amendment.service_ids = [CartProduct(shop[1].id, BillingCycle.MONTHLY)], [None]
    amend(order, amendment, full_admin)
    assert session.get(SideEffect, effect.id).status == "cancelled"


def test_stale_version_and_unchanged_amendment_are_refused(session, order, full_admin):
    session.commit()
    assert refused(session, order, bigger(session, order), full_admin, version=order.version + 1).code \
        == ErrorCode.STALE
    error = refused(session, order, current_amendment(session, order), full_admin)
    assert error.message.startswith("Nothing to amend")


@pytest.mark.parametrize("change, field", [
    (lambda a, other: replace(a, service_ids=[other]), "products-0-service_id"),
    (lambda a, other: replace(a, products=[replace(a.products[0], quantity=-1)]), "products-0-quantity"),
    (lambda a, other: replace(a, products=[replace(a.products[0], price_override=D("-5.00"))]),
     "products-0-price_override"),
    (lambda a, other: replace(a, products=[replace(a.products[0], billing_cycle="Weekly")]),
     "products-0-billing_cycle"),
    (lambda a, other: replace(a, products=[replace(a.products[0], quantity=100,
                                                   price_override=D("99999999999999.00"))]),
     "products-0-quantity"),
    (lambda a, other: replace(a, promo_code="NOSUCHCODE"), "promo_code"),
    (lambda a, other: replace(a, domain_ids=[other]), "domains-0-name"),
])
def test_hostile_lines_are_refused_with_a_message(session, order, shop, full_admin, change, field):
    other = factories.make_order(domains=["Pending"])  # another client's: its items are not this order's
    session.commit()
    amendment = change(bigger(session, order),
                       other.services[0].id if "service" in field else other.domains[0].id)
    error = refused(session, order, amendment, full_admin, error=PlacementError)
    assert field in error.errors and all(error.errors[field])


def test_an_on_order_service_gets_its_create_again_and_hooks_hear_of_it(session, shop, full_admin):
    from actions.hook_events import create_endpoint
    from models import AutoSetup

    starter = shop[0]
    starter.auto_setup = AutoSetup.ON_ORDER
    create_endpoint(session, "https://hooks.example.net/orderdesk", ["order.amended"])
    cart = Cart(client_id=factories.make_client().id, payment_method="banktransfer",
                products=[CartProduct(starter.id, BillingCycle.MONTHLY)])
    order = place_order(session, cart, Actor.admin(full_admin))
    (first,) = session.scalars(select(SideEffect).where(SideEffect.kind == "module_create")).all()
    amendment = current_amendment(session, order)
    amendment.products[0] = replace(amendment.products[0], billing_cycle=BillingCycle.ANNUALLY)
    amend(order, amendment, full_admin)

    creates = session.scalars(select(SideEffect).where(SideEffect.kind == "module_create")
                              .order_by(SideEffect.id)).all()
    assert [(e.id, e.status) for e in creates] == [(first.id, "cancelled"), (creates[1].id, "queued")]
    assert creates[1].target_id == first.target_id == order.services[0].id
    (delivery,) = session.scalars(select(SideEffect).where(SideEffect.kind == "hook_delivery")).all()
    assert delivery.payload["type"] == "order.amended"
    assert delivery.payload["data"]["order"]["amount"] == "105.00"


def test_options_and_quantity_of_a_kept_line(session, shop, full_admin):
    from models import ConfigOptionType

    starter = shop[0]
    group = factories.make_option_group([starter], [("Memory", ConfigOptionType.DROPDOWN, {
        "2 GB": {BillingCycle.MONTHLY: ("0.00", "0.00")}, "4 GB": {BillingCycle.MONTHLY: ("4.00", "1.00")}},
        0, 0)])
    memory = group.options[0]
    cart = Cart(client_id=factories.make_client().id, payment_method="banktransfer",
                products=[CartProduct(starter.id, BillingCycle.MONTHLY)])
    order = place_order(session, cart, Actor.admin(full_admin))
    kept_id = order.services[0].id
    amendment = current_amendment(session, order)
    assert amendment.products[0].config_options == {memory.id: memory.choices[0].id}
    amendment.products[0] = replace(amendment.products[0], quantity=2,
                                    config_options={memory.id: memory.choices[1].id})
    amend(order, amendment, full_admin)

    session.expire_all()
    order = session.get(Order, order.id)
    assert order.services[0].id == kept_id and len(order.services) == 2
    # By hand: each 10.00 + 4.00 for 4 GB, setup 5.00 + 1.00; two of them = 40.00.
    assert lines(order) == [
        ("Hosting", "Shared Hosting - Starter (Monthly)\nMemory: 4 GB", D("14.00")),
        ("Setup", "Setup Fee: Shared Hosting - Starter", D("6.00")),
    ] * 2
    assert order.amount == order.invoice.total == D("40.00")
    assert [[(o.option_id, o.choice_id) for o in s.config_options] for s in order.services] == \
        [[(memory.id, memory.choices[1].id)]] * 2
