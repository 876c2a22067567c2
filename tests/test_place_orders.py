"""Placing an order: what it creates and records, and refusals that change nothing."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.cart import Cart, CartDomain, CartProduct, PlacementError, PlaceOptions
from actions.place import place_order
from extensions import db
from models import (
    Affiliate,
    AutoSetup,
    BillingCycle,
    Client,
    ClientStatus,
    Domain,
    DomainStatus,
    EmailLog,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderSource,
    OrderStatus,
    OrderStatusDefinition,
    Product,
    Promotion,
    Service,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
)
from tests import factories


@pytest.fixture
def catalog(session):
    product = factories.make_product(
        name="Starter", prices={BillingCycle.MONTHLY: ("10.00", "5.00")}, auto_setup=AutoSetup.ON_ORDER
    )
    tld = factories.make_tld(".com", register="12.00", years=(1, 2))
    return product, tld


def good_cart(client, product, **kw) -> Cart:
    values = dict(
        client_id=client.id,
        payment_method="banktransfer",
        ip_address="198.51.100.4",
        notes="Please call me",
        products=[CartProduct(product.id, BillingCycle.MONTHLY, quantity=2)],
        domains=[CartDomain("Register", "example.com", 2)],
    )
    values.update(kw)
    return Cart(**values)


def test_placing_creates_order_items_invoice_side_effects_and_event(session, catalog, full_admin):
    product, _ = catalog
    client = factories.make_client()
    affiliate = Affiliate(client=factories.make_client())
    session.add(affiliate)
    session.flush()
    cart = good_cart(client, product, affiliate_id=affiliate.id)
    order = place_order(
        session, cart, Actor.admin(full_admin), PlaceOptions(placed_by_admin_id=full_admin.id)
    )

    assert order.status == OrderStatus.PENDING
    assert 1_000_000_000 <= order.order_number <= 9_999_999_999
    assert (order.client_id, order.ip_address, order.notes, order.affiliate_id) == (
        client.id,
        "198.51.100.4",
        "Please call me",
        affiliate.id,
    )
    assert (order.source, order.placed_by_admin_id, order.payment_method) == (
        OrderSource.ADMIN,
        full_admin.id,
        "banktransfer",
    )
    assert order.promo_code == "" and order.promo_value is None
    assert [s.status for s in order.services] == [ServiceStatus.PENDING] * 2
    assert [d.status for d in order.domains] == [DomainStatus.PENDING]
    assert order.invoice.status == InvoiceStatus.UNPAID
    assert order.invoice.client_id == client.id and order.invoice.payment_method == "banktransfer"
    assert order.amount == order.invoice.total == Decimal("54.00")

    effects = session.scalars(
        select(SideEffect).where(SideEffect.order_id == order.id).order_by(SideEffect.id)
    ).all()
    emails = [e for e in effects if e.kind == SideEffectKind.EMAIL]
    assert [
        (e.payload["template"], e.payload["order_id"], e.payload["invoice_id"], e.payload["client_id"])
        for e in emails
    ] == [
        (name, order.id, order.invoice_id, client.id)
        for name in ("Order Confirmation", "Invoice Created", "New Order Notification")
    ]
    logs = [session.get(EmailLog, e.target_id) for e in emails]
    assert [log.to for log in logs] == [client.email, client.email, ""]  # "": the active admins
    creates = [(e.target_type, e.target_id) for e in effects if e.kind == SideEffectKind.MODULE_CREATE]
    assert creates == [("service", s.id) for s in order.services]
    # The username is chosen once at placement and travels in the payload, so a retry reuses it.
    payload_usernames = [e.payload["username"] for e in effects if e.kind == SideEffectKind.MODULE_CREATE]
    assert payload_usernames == [s.username for s in order.services] and all(payload_usernames)

    (event,) = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)).all()
    assert (event.verb, event.to_status, event.actor_type, event.actor_id) == (
        "order_placed",
        OrderStatus.PENDING,
        "admin",
        full_admin.id,
    )
    assert event.details["order_number"] == order.order_number and event.details["amount"] == "54.00"


def test_options_switch_off_emails_and_invoice_and_pick_a_status(session, catalog):
    product, _ = catalog
    product.auto_setup = AutoSetup.ON_ACCEPT
    session.add(OrderStatusDefinition(title="Awaiting Documents"))
    client = factories.make_client()
    order = place_order(
        session,
        good_cart(client, product),
        Actor.system(),
        PlaceOptions(
            order_confirmation=False,
            generate_invoice=False,
            send_invoice_email=True,
            new_order_notification=False,
            status="Awaiting Documents",
            source=OrderSource.API,
        ),
    )
    assert order.status == "Awaiting Documents" and order.source == OrderSource.API
    assert order.invoice is None
    assert session.scalar(select(func.count(SideEffect.id)).where(SideEffect.order_id == order.id)) == 0

    order = place_order(
        session,
        good_cart(client, product),
        Actor.system(),
        PlaceOptions(order_confirmation=False, send_invoice_email=False),
    )
    templates = session.scalars(select(SideEffect.payload).where(SideEffect.order_id == order.id)).all()
    assert [t["template"] for t in templates] == ["New Order Notification"]


def test_promotion_snapshot_on_order(session, catalog):
    product, _ = catalog
    promotion = factories.make_promotion(code="SPRING", type="Fixed Amount", value="2.00")
    order = place_order(
        session, good_cart(client := factories.make_client(), product, promo_code=" spring "), Actor.system()
    )
    assert (order.promo_code, order.promo_type, order.promo_value) == (
        "SPRING",
        "Fixed Amount",
        Decimal("2.00"),
    )
    assert order.amount == Decimal("48.00") and client.id == order.client_id  # 3 items x 2.00 off
    assert promotion.uses == 1


def test_stock_is_taken_and_an_oversell_is_refused(session, catalog):
    product, _ = catalog
    product.stock_control, product.stock_quantity = True, 3
    client = factories.make_client()
    place_order(session, good_cart(client, product), Actor.system())
    assert session.get(Product, product.id).stock_quantity == 1
    with pytest.raises(PlacementError) as caught:
        place_order(session, good_cart(client, product), Actor.system())
    assert caught.value.errors == {"products-0-quantity": ["Starter is out of stock."]}
    assert session.get(Product, product.id).stock_quantity == 1


def counts(session) -> dict:
    models = (Order, Service, Domain, Invoice, InvoiceItem, SideEffect, OrderEvent)
    result = {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in models}
    result["uses"] = session.scalar(select(func.sum(Promotion.uses)))
    result["stock"] = session.scalar(select(func.sum(Product.stock_quantity)))
    return result


def _closed_client(session, cart):
    session.get(Client, cart.client_id).status = ClientStatus.CLOSED


def _retired(session, cart):
    session.get(Product, cart.products[0].product_id).retired = True


def _exhausted_promo(session, cart):
    factories.make_promotion(code="USEDUP", max_uses=1, uses=1)
    cart.promo_code = "USEDUP"


def _second_line_out_of_stock(session, cart):
    # The first line's stock and the promotion use are taken, then given back.
    factories.make_promotion(code="TEN", max_uses=5)
    cart.promo_code = "TEN"
    other = factories.make_product(name="Limited", stock_control=True, stock_quantity=1)
    session.get(Product, cart.products[0].product_id).stock_control = True
    session.get(Product, cart.products[0].product_id).stock_quantity = 10
    cart.products.append(CartProduct(other.id, quantity=2))


REFUSALS = {
    "closed client": (_closed_client, "client_id", "Unable to add order when client status is Closed"),
    "no client": (lambda s, c: setattr(c, "client_id", None), "client_id", "Choose a client."),
    "unknown product": (
        lambda s, c: setattr(c.products[0], "product_id", 999999),
        "products-0-product_id",
        "Unknown product.",
    ),
    "retired product": (_retired, "products-0-product_id", "retired"),
    "disabled cycle": (
        lambda s, c: setattr(c.products[0], "billing_cycle", BillingCycle.ANNUALLY),
        "products-0-billing_cycle",
        "not offered with the Annually billing cycle",
    ),
    "quantity zero": (lambda s, c: setattr(c.products[0], "quantity", 0), "products-0-quantity", "between 1"),
    "negative override": (
        lambda s, c: setattr(c.products[0], "price_override", Decimal("-1.00")),
        "products-0-price_override",
        "cannot be negative",
    ),
    "bad product domain": (
        lambda s, c: setattr(c.products[0], "domain", "bad_name.com"),
        "products-0-domain",
        "not a valid domain name",
    ),
    "bad domain": (
        lambda s, c: setattr(c.domains[0], "name", "-bad-.com"),
        "domains-0-name",
        "not a valid domain name",
    ),
    "single label": (
        lambda s, c: setattr(c.domains[0], "name", "localhost"),
        "domains-0-name",
        "not a valid domain name",
    ),
    "unknown tld": (
        lambda s, c: setattr(c.domains[0], "name", "example.zzz"),
        "domains-0-name",
        "Domains ending in .zzz are not sold here.",
    ),
    "period not sold": (
        lambda s, c: setattr(c.domains[0], "period_years", 5),
        "domains-0-period_years",
        "not offered",
    ),
    "transfer without epp": (
        lambda s, c: c.domains.append(CartDomain("Transfer", "moving.com")),
        "domains-1-epp_code",
        "An EPP code is required to transfer .com domains.",
    ),
    "bad domain type": (
        lambda s, c: setattr(c.domains[0], "type", "Steal"),
        "domains-0-type",
        "Register or Transfer",
    ),
    "unknown payment": (
        lambda s, c: setattr(c, "payment_method", "bitcoin"),
        "payment_method",
        "Unknown payment method 'bitcoin'.",
    ),
    "empty cart": (lambda s, c: (c.products.clear(), c.domains.clear()), "cart", "Add at least one"),
    "unknown promo": (lambda s, c: setattr(c, "promo_code", "NOPE"), "promo_code", "does not exist"),
    "exhausted promo": (_exhausted_promo, "promo_code", "maximum number of uses"),
    "out of stock": (_second_line_out_of_stock, "products-1-quantity", "Limited is out of stock."),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refusal_names_the_field_and_changes_nothing(session, catalog, name):
    product, _ = catalog
    spoil, field, message = REFUSALS[name]
    cart = good_cart(factories.make_client(), product)
    spoil(session, cart)
    session.flush()
    before = counts(session)
    with pytest.raises(PlacementError) as caught:
        place_order(session, cart, Actor.system())
    assert message in " ".join(caught.value.errors.get(field, [])), caught.value.errors
    session.expire_all()
    assert counts(session) == before


def test_transfer_without_epp_is_fine_when_the_tld_does_not_need_one(session, catalog):
    product, _ = catalog
    factories.make_tld(".io", register="30.00", transfer="25.00", epp_required=False)
    order = place_order(
        session,
        good_cart(
            factories.make_client(), product, products=[], domains=[CartDomain("Transfer", "moving.io")]
        ),
        Actor.system(),
    )
    assert order.amount == Decimal("25.00") and order.domains[0].epp_code is None


def test_idn_domains_are_accepted_and_stored_in_unicode(session, catalog):
    product, _ = catalog
    order = place_order(
        session,
        good_cart(
            factories.make_client(), product, products=[], domains=[CartDomain("Register", "Bücher.COM")]
        ),
        Actor.system(),
    )
    assert order.domains[0].name == "bücher.com"


def test_all_errors_are_reported_together(session, catalog):
    product, _ = catalog
    cart = good_cart(
        factories.make_client(),
        product,
        payment_method="",
        products=[CartProduct(product.id, quantity=0)],
        domains=[CartDomain("Register", "x")],
    )
    with pytest.raises(PlacementError) as caught:
        place_order(session, cart, Actor.system())
    assert set(caught.value.errors) == {"payment_method", "products-0-quantity", "domains-0-name"}
    assert db.session.scalar(select(func.count(Order.id))) == 0
