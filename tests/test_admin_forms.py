"""Bad input on admin forms gives a clear message and writes nothing; write-only secrets stay hidden."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    AdminUser,
    ApiCredential,
    Client,
    Order,
    OrderStatusDefinition,
    Product,
    ProductPrice,
    Promotion,
    Server,
    default_currency,
    verify_secret,
)
from tests import factories


@pytest.fixture
def web(admin_client, session):
    """The full admin's client; the admin is committed so a refused form's rollback keeps it."""
    session.commit()
    return admin_client


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _product_form(**prices) -> dict:
    data = {"name": "Starter", "group_name": "Shared Hosting", "type": "Shared Hosting", "module": "manual",
            "auto_setup": "on_accept", "stock_quantity": "0", "prices-0-cycle": "Monthly",
            "prices-0-price": "10.00", "prices-0-setup_fee": "0.00",
            "prices-0-currency": str(default_currency(db.session).id)}
    data.update({f"prices-0-{key}": value for key, value in prices.items()})
    return data


@pytest.mark.parametrize(("price", "message"), [
    ("-1.00", "Price cannot be negative."),
    ("10.999", "at most two decimal places"),
])
def test_inline_price_rejects_bad_money_on_create(web, session, price, message):
    response = web.post("/admin/products/new/", data=_product_form(price=price))
    assert response.status_code == 200
    assert message in _text(response)
    assert _count(session, Product) == 0 and _count(session, ProductPrice) == 0


def test_inline_price_rejects_bad_money_on_edit(web, session):
    product = factories.make_product(prices={"Monthly": ("10.00", "5.00")})
    session.commit()
    price = product.prices[0]
    data = _product_form(setup_fee="-5.00", id=str(price.id))
    response = web.post(f"/admin/products/edit/?id={product.id}", data=data)
    assert "Setup Fee cannot be negative." in _text(response)
    session.expire_all()
    assert session.get(ProductPrice, price.id).setup_fee == Decimal("5.00")

    response = web.post(f"/admin/products/edit/?id={product.id}",
                                 data=_product_form(setup_fee="7.50", id=str(price.id)))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(ProductPrice, price.id).setup_fee == Decimal("7.50")


def test_promotion_value_rejects_three_decimals_on_create_and_edit(web, session):
    form = {"code": "SAVE10", "type": "Percentage", "value": "10.005", "recur_for": "0", "max_uses": "0",
            "applies_to_products": "[]", "applies_to_tlds": "[]", "requires_products": "[]",
            "requires_tlds": "[]", "cycles": "[]"}
    response = web.post("/admin/promotions/new/", data=form)
    assert "at most two decimal places" in _text(response)
    assert _count(session, Promotion) == 0

    response = web.post("/admin/promotions/new/", data={**form, "value": "10.00"})
    assert response.status_code == 302
    promotion = session.scalar(select(Promotion))
    response = web.post(f"/admin/promotions/edit/?id={promotion.id}", data={**form, "value": "-3"})
    assert "Value cannot be negative." in _text(response)
    session.expire_all()
    assert session.get(Promotion, promotion.id).value == Decimal("10.00")


def _client_form(**changes) -> dict:
    data = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "country": "GB",
            "status": "Active"}
    data.update(changes)
    return data


def test_duplicate_client_email_is_refused(web, session):
    factories.make_client(email="ada@example.com")
    session.commit()
    response = web.post("/admin/clients/new/", data=_client_form())
    assert "A client with email ada@example.com already exists." in _text(response)
    assert _count(session, Client) == 1


def test_client_form_rejects_invalid_email(web, session):
    response = web.post("/admin/clients/new/", data=_client_form(email="not-an-email"))
    assert "Enter a valid email address." in _text(response)
    assert _count(session, Client) == 0


def test_client_form_refuses_an_unknown_country_and_accepts_a_real_one(web, session):
    response = web.post("/admin/clients/new/", data=_client_form(country="XX"))
    assert "Choose a country (ISO 3166-1 two-letter code)." in _text(response)
    assert _count(session, Client) == 0
    web.post("/admin/clients/new/", data=_client_form(country="NZ"))
    assert [client.country for client in session.query(Client)] == ["NZ"]


def test_client_with_orders_cannot_be_deleted(web, session):
    order = factories.make_order()
    session.commit()
    response = web.post("/admin/clients/delete/", data={"id": order.client_id}, follow_redirects=True)
    assert "has orders and cannot be deleted" in _text(response)
    assert _count(session, Client) == 1


# --- order statuses ---------------------------------------------------------------------------

def _status_form(**changes) -> dict:
    data = {"title": "Processed", "color": "#336699", "sort_order": "50"}
    data.update(changes)
    return data


def _status(session, title) -> OrderStatusDefinition:
    session.expire_all()
    return session.scalar(select(OrderStatusDefinition).where(OrderStatusDefinition.title == title))


def test_custom_status_is_created(web, session):
    response = web.post("/admin/order_statuses/new/",
                                 data=_status_form(include_in_pending="y", color="#AABBCC"))
    assert response.status_code == 302
    status = _status(session, "Processed")
    assert status.include_in_pending and not status.is_core and status.color == "#aabbcc"


@pytest.mark.parametrize("title", ["Pending", "pending"])
def test_duplicate_status_title_is_refused(web, session, title):
    before = _count(session, OrderStatusDefinition)
    response = web.post("/admin/order_statuses/new/", data=_status_form(title=title))
    assert f"An order status named {title} already exists" in _text(response)
    assert _count(session, OrderStatusDefinition) == before


@pytest.mark.parametrize("color", ["red", "#12345", "#12345g", "123456"])
def test_invalid_colour_is_refused(web, session, color):
    before = _count(session, OrderStatusDefinition)
    response = web.post("/admin/order_statuses/new/", data=_status_form(color=color))
    assert "is not valid: use #rrggbb" in _text(response)
    assert _count(session, OrderStatusDefinition) == before


def test_core_status_cannot_be_renamed_but_its_colour_can_change(web, session):
    pending = _status(session, "Pending")
    url = f"/admin/order_statuses/edit/?id={pending.id}"
    response = web.post(url, data=_status_form(title="Waiting", color="#cc0000",
                                                        include_in_pending="y"))
    assert "Pending is a core order status and cannot be renamed." in _text(response)
    assert _status(session, "Pending") is not None and _status(session, "Waiting") is None

    response = web.post(url, data=_status_form(title="Pending", color="#ff0000", include_in_pending="y"))
    assert response.status_code == 302
    assert _status(session, "Pending").color == "#ff0000"


def test_core_status_cannot_be_deleted(web, session):
    fraud = _status(session, "Fraud")
    response = web.post("/admin/order_statuses/delete/", data={"id": fraud.id}, follow_redirects=True)
    assert "Fraud is a core order status and cannot be deleted." in _text(response)
    assert _status(session, "Fraud") is not None


def test_custom_status_in_use_cannot_be_deleted_and_renaming_carries_orders(web, session):
    session.add(OrderStatusDefinition(title="Processed", color="#336699"))
    order = factories.make_order(status="Processed")
    session.commit()
    status = _status(session, "Processed")

    response = web.post("/admin/order_statuses/delete/", data={"id": status.id}, follow_redirects=True)
    assert "Order status Processed is used by orders" in _text(response)
    assert _status(session, "Processed") is not None

    response = web.post(f"/admin/order_statuses/edit/?id={status.id}",
                                 data=_status_form(title="Building"))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Order, order.id).status == "Building"


def test_unused_custom_status_is_deleted(web, session):
    session.add(OrderStatusDefinition(title="Design Sent", color="#336699"))
    session.commit()
    status = _status(session, "Design Sent")
    response = web.post("/admin/order_statuses/delete/", data={"id": status.id})
    assert response.status_code == 302
    assert _status(session, "Design Sent") is None


# --- secrets ----------------------------------------------------------------------------------

def test_new_admin_password_is_hashed_and_never_shown(web, session):
    role_id = session.scalar(select(AdminUser.role_id))
    form = {"email": "new@example.com", "name": "New", "role": str(role_id), "active": "y"}
    response = web.post("/admin/admin_users/new/", data=form)
    assert "A new admin needs a password." in _text(response)
    assert _count(session, AdminUser) == 1

    response = web.post("/admin/admin_users/new/", data={**form, "new_password": "a long password 1"})
    assert response.status_code == 302
    user = session.scalar(select(AdminUser).where(AdminUser.email == "new@example.com"))
    assert user.check_password("a long password 1")
    for url in (f"/admin/admin_users/details/?id={user.id}", f"/admin/admin_users/edit/?id={user.id}",
                "/admin/admin_users/"):
        assert user.password_hash not in _text(web.get(url))

    response = web.post("/admin/admin_users/new/", data={**form, "new_password": "a long password 1"})
    assert "An admin with email new@example.com already exists." in _text(response)


def test_api_secret_is_shown_once_and_stored_hashed(web, session):
    role_id = session.scalar(select(AdminUser.role_id))
    response = web.post("/admin/api_credentials/new/", data={
        "description": "Storefront", "role": str(role_id), "ip_allowlist": "127.0.0.1\n10.0.0.0/8",
        "active": "y"}, follow_redirects=True)
    credential = session.scalar(select(ApiCredential))
    # The page answering the POST shows it (api_credential_secret.html), never a flash message.
    secret = re.search(r'<code id="secret">([^<]+)</code>', _text(response)).group(1)
    assert credential.identifier in _text(response)
    assert verify_secret(credential.secret_hash, secret) and secret not in credential.secret_hash
    assert secret not in _text(web.get(f"/admin/api_credentials/details/?id={credential.id}"))
    assert secret not in _text(web.get("/admin/api_credentials/"))


def test_api_credential_rejects_a_bad_allowlist(web, session):
    role_id = session.scalar(select(AdminUser.role_id))
    response = web.post("/admin/api_credentials/new/", data={
        "description": "x", "role": str(role_id), "ip_allowlist": "10.0.0.300"})
    assert "10.0.0.300 is not an IP address or CIDR range." in _text(response)
    assert _count(session, ApiCredential) == 0


def test_server_secret_is_write_only(web, session):
    form = {"name": "web1", "hostname": "web1.example", "module": "webhook", "url": "https://hooks.example/",
            "secret": "s3cret-value", "active": "y"}
    assert web.post("/admin/servers/new/", data=form).status_code == 302
    server = session.scalar(select(Server))
    assert server.secret == "s3cret-value"
    for url in ("/admin/servers/", f"/admin/servers/details/?id={server.id}",
                f"/admin/servers/edit/?id={server.id}"):
        assert "s3cret-value" not in _text(web.get(url))
    # Left blank on edit, the stored secret stays.
    assert web.post(f"/admin/servers/edit/?id={server.id}",
                             data={**form, "secret": "", "hostname": "web2.example"}).status_code == 302
    session.expire_all()
    server = session.get(Server, server.id)
    assert server.secret == "s3cret-value" and server.hostname == "web2.example"
