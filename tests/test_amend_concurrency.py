"""Amend against another admin's action on the same order at the same moment: the order's lock and
version let exactly one win; the other is told to reload and changes nothing. PostgreSQL only (row
locks), as tests/test_concurrency.py."""

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select

from actions.actor import Actor
from actions.amend_cart import current_amendment
from actions.amend_order import amend_order
from actions.cancel import cancel_order
from actions.cart import Cart, CartProduct
from actions.place import place_order
from extensions import db
from models import BillingCycle, Order, OrderEvent
from tests.factories import make_client, make_product
from tests.test_concurrency import pg_app, race  # noqa: F401 - pg_app is the fixture

__all__ = ["pg_app"]


def to_annually(session, order, actor):
    amendment = current_amendment(session, order)
    amendment.products[0] = replace(amendment.products[0], billing_cycle=BillingCycle.ANNUALLY)
    amend_order(session, order, amendment, actor)


def placed() -> int:
    product = make_product(prices={BillingCycle.MONTHLY: ("10.00", "5.00"),
                                   BillingCycle.ANNUALLY: ("100.00", "5.00")})
    cart = Cart(client_id=make_client().id, payment_method="banktransfer",
                products=[CartProduct(product.id, BillingCycle.MONTHLY)])
    order = place_order(db.session, cart, Actor.system())
    db.session.commit()
    return order.id


def test_amend_and_cancel_at_once_one_wins(pg_app):  # noqa: F811
    order_id = placed()
    winner = race(pg_app, order_id, to_annually, lambda s, o, a: cancel_order(s, o, a))
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    verbs = set(db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order_id)))
    if winner == "Alice":  # the amendment
        assert (order.status, order.invoice.total) == ("Pending", Decimal("105.00"))
        assert "order_amended" in verbs and "order_cancelled" not in verbs
    else:
        assert (order.status, order.invoice.total) == ("Cancelled", Decimal("15.00"))
        assert "order_cancelled" in verbs and "order_amended" not in verbs


def test_two_amendments_at_once_one_wins(pg_app):  # noqa: F811
    order_id = placed()
    race(pg_app, order_id, to_annually, to_annually)
    db.session.expire_all()
    verbs = list(db.session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order_id)))
    assert verbs.count("order_amended") == 1
    assert db.session.get(Order, order_id).invoice.total == Decimal("105.00")
