"""Stock and promotion caps hold when many orders are placed at the same instant (PostgreSQL).

20 threads, each with its own session, are released together by a barrier and race for 5 units.
"""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.cart import Cart, CartProduct, PlacementError, PlaceOptions
from actions.place import place_order
from actions.reference_data import ensure_reference_data
from extensions import db
from models import Order, Product, Promotion
from tests import factories
from tests.conftest import _truncate_all, make_test_app

RACERS = 20
AVAILABLE = 5
QUIET = PlaceOptions(order_confirmation=False, send_invoice_email=False, new_order_notification=False)


@pytest.fixture
def pg_app(postgres_url):
    app = make_test_app(postgres_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": RACERS + 2, "max_overflow": 0})
    with app.app_context():
        db.create_all()
        _truncate_all()
        ensure_reference_data(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def race(app, cart: Cart) -> list:
    """Place the same cart from RACERS threads at once; returns "placed" or the refusal per thread."""
    barrier = threading.Barrier(RACERS)
    results, lock = [], threading.Lock()

    def attempt():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                place_order(db.session, cart, Actor.system(), QUIET)
                db.session.commit()
                outcome = "placed"
            except PlacementError as exc:
                db.session.rollback()
                outcome = exc.errors
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == RACERS
    return results


def setup_rows(app, **product_kw):
    with app.app_context():
        client = factories.make_client()
        product = factories.make_product("Limited VPS", prices={"Monthly": ("10.00", "0.00")}, **product_kw)
        promotion = factories.make_promotion(code="FIVE", max_uses=AVAILABLE)
        db.session.commit()
        return client.id, product.id, promotion.id


def test_stock_is_never_oversold(pg_app):
    client_id, product_id, _ = setup_rows(pg_app, stock_control=True, stock_quantity=AVAILABLE)
    results = race(
        pg_app, Cart(client_id=client_id, payment_method="banktransfer", products=[CartProduct(product_id)])
    )
    assert results.count("placed") == AVAILABLE
    refusal = {"products-0-quantity": ["Limited VPS is out of stock."]}
    assert [r for r in results if r != "placed"] == [refusal] * (RACERS - AVAILABLE)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == AVAILABLE
        assert db.session.get(Product, product_id).stock_quantity == 0


def test_promotion_max_uses_is_never_exceeded(pg_app):
    client_id, product_id, promotion_id = setup_rows(pg_app)
    results = race(
        pg_app,
        Cart(
            client_id=client_id,
            payment_method="banktransfer",
            promo_code="FIVE",
            products=[CartProduct(product_id)],
        ),
    )
    assert results.count("placed") == AVAILABLE
    assert all("maximum number of uses" in r["promo_code"][0] for r in results if r != "placed")
    with pg_app.app_context():
        assert db.session.get(Promotion, promotion_id).uses == AVAILABLE
        amounts = db.session.scalars(select(Order.amount).where(Order.promo_code == "FIVE")).all()
        assert amounts == [Decimal("9.00")] * AVAILABLE
