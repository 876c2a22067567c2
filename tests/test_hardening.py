"""Issue 8's findings, each at its root: redirects stay on this site, bad input is refused with a
message (never a 500), every list filter is applied or reported, amounts and counts are bounded,
database errors show a reference (never SQL), and admin sessions live on the server."""

import logging
import sys

import pytest
from flask_login import FlaskLoginClient
from sqlalchemy import func, select

from admin.redirects import flask_admin_modules_with_redirect_checks, redirect_target, safe_redirect_target
from extensions import db
from models import (
    AdminSession,
    AdminUser,
    Client,
    Order,
    OrderStatus,
    Product,
    Promotion,
    Role,
    Tld,
    default_currency,
)
from models.bounds import MAX_ID, MAX_MONEY
from tests import factories
from tests.conftest import make_test_app

# --- 1. redirects ------------------------------------------------------------------------------

HOSTILE_TARGETS = ["//evil.example/x", "/\t/evil.example", "/\\evil.example",
                   "\\\\evil.example", " //evil.example", "https://evil.example/", "http:/evil.example",
                   "javascript:alert(1)", "/\r/x", "/\nLocation: //evil.example", "evil.example", "",
                   "/\x00/x", "/" + "a" * 5000]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_only_relative_paths_on_this_site_are_redirect_targets(target):
    assert safe_redirect_target(target) is None


def test_local_paths_stay_redirect_targets():
    for target in ("/admin/", "/admin/orders/?flt0_status_equals=Pending&page=2",
                   "/admin/clients/?search=Zoë"):
        assert safe_redirect_target(target) == target


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0D/x", "/\\evil.example", "//evil.example"])
def test_login_next_never_leaves_the_site_nor_fails(anon_client, admin_client, full_admin, session, target):
    session.commit()
    signed_in = admin_client.get(f"/admin/login/?next={target}")
    assert signed_in.status_code in (302, 400)
    assert signed_in.status_code == 400 or signed_in.headers["Location"] == "/admin/"
    posted = anon_client.post(f"/admin/login/?next={target}",
                              data={"email": full_admin.email, "password": factories.PASSWORD})
    assert posted.status_code in (302, 400)
    assert posted.status_code == 400 or posted.headers["Location"] == "/admin/"


def test_flask_admin_return_urls_use_the_strict_check(admin_client, session):
    client = factories.make_client()
    session.commit()
    response = admin_client.post(f"/admin/clients/edit/?id={client.id}&url=/%5Cevil.example",
                                 data={"first_name": "Ada", "last_name": "L", "email": client.email,
                                       "country": "GB", "status": "Active"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    # Every Flask-Admin module (and ours) that holds a redirect check holds ours.
    assert flask_admin_modules_with_redirect_checks()
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("flask_admin", "admin") and module is not None:
            for attr in ("get_redirect_target", "is_safe_url"):
                found = getattr(module, attr, None)
                assert found is None or found.__module__ == "admin.redirects", (name, attr)
    assert redirect_target.__module__ == "admin.redirects"


# --- 4. bad input: refused with a message, never a 500 --------------------------------------------

def test_nul_and_control_characters_are_refused_everywhere_even_before_login(anon_client, admin_client):
    response = anon_client.post("/admin/login/", data={"email": "a\x00@example.com", "password": "x\x00"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert admin_client.get("/admin/clients/?search=a%00b").status_code == 400
    assert admin_client.get("/admin/clients/?flt0_country_equals=%1b[31m").status_code == 400
    # Line breaks are free text in a form value, never in the address.
    assert admin_client.get("/admin/clients/?search=a%0Ab").status_code == 400


@pytest.mark.parametrize("bad_id", [str(MAX_ID + 1), "9" * 30, "-1", "abc", "1.5", "\u00b9"])
def test_unknown_or_impossible_ids_are_not_found_never_a_500(admin_client, session, bad_id):
    factories.make_order()
    session.commit()
    for view in ("orders", "clients", "services", "domains", "invoices", "products", "promotions",
                 "admin_users", "email_log", "side_effects"):
        base = "/admin/side-effects" if view == "side_effects" else f"/admin/{view}"
        for page in ("details", "edit"):
            response = admin_client.get(f"{base}/{page}/?id={bad_id}")
            assert response.status_code in (302, 403, 404), (view, page, response.status_code)
    response = admin_client.post("/admin/clients/action/", data={"action": "delete", "rowid": [bad_id]})
    assert response.status_code == 400
    response = admin_client.post("/admin/orders/order/cancel/", data={"id": bad_id}, follow_redirects=True)
    assert response.status_code == 200 and "no longer exists" in response.get_data(as_text=True)


@pytest.mark.parametrize("term", [str(2**63), "9" * 40, "\u00b2", str(MAX_ID + 1)])
def test_oversized_numbers_in_the_orders_search_match_nothing(admin_client, session, term):
    factories.make_order()
    session.commit()
    response = admin_client.get("/admin/orders/", query_string={"search": term})
    assert response.status_code == 200 and 'id="matching-count"' not in response.get_data(as_text=True)


def test_lookup_paging_is_bounded(admin_client):
    lookup = "/admin/services/ajax/lookup/?name=product&query=a"
    assert admin_client.get(f"{lookup}&limit=10").status_code == 200
    for args in ("limit=99999999999", "offset=-1", "limit=0", "offset=abc"):
        assert admin_client.get(f"{lookup}&{args}").status_code == 400


# --- 6. filters: applied or reported, for every list ---------------------------------------------

BAD_FILTERS = [
    ("orders", "flt0_status_group_equals=pendng"),
    ("orders", "flt0_order_id_equals=abc"),
    ("orders", f"flt0_order_id_equals={MAX_ID + 1}"),
    ("orders", "flt0_total_at_least=abc"),
    ("orders", "flt0_total_at_least=1e400"),
    ("orders", "flt0_date_between=2024-13-01+to+2024-01-31"),
    ("orders", "flt0_nonsense_equals=1"),
    ("orders", "flt0_product_equals=%C2%B2"),
    ("clients", "flt0_nonsense_equals=1"),
    ("services", "flt0_order_id_equals=99999999999"),
    ("services", "flt0_recurring_amount_greater_than=1e400"),
    ("invoices", "flt0_total_equals=abc"),
    ("products", "flt0_hidden_equals=maybe"),
    ("promotions", "flt0_start_date_equals=yesterday"),
]


@pytest.mark.parametrize(("view", "query"), BAD_FILTERS)
def test_an_invalid_filter_is_an_error_and_matches_nothing(admin_client, session, view, query):
    factories.make_order()
    session.commit()
    response = admin_client.get(f"/admin/{view}/?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing is listed until the filter is corrected." in html
    assert 'id="clear-filters"' in html or "<td" not in html  # the empty list's "clear the filters"


def test_all_matching_is_refused_when_a_filter_did_not_apply(admin_client, session):
    orders = [factories.make_order() for _ in range(3)]
    session.commit()
    query = "flt0_status_group_equals=pendng&all_matching=1"
    assert 'id="matching-refused"' in admin_client.get(f"/admin/orders/?{query}").get_data(as_text=True)
    response = admin_client.post(f"/admin/orders/action/?{query}",
                                 data={"action": "bulk_cancel", "all_matching": "1", "url": "/admin/orders/"})
    assert response.status_code == 302
    session.expire_all()
    assert {session.get(Order, o.id).status for o in orders} == {OrderStatus.PENDING}


def test_all_matching_confirmation_restates_count_and_filters(admin_client, session):
    for _ in range(2):
        factories.make_order()
    session.commit()
    html = admin_client.get("/admin/orders/?flt0_status_group_equals=pending&all_matching=1").get_data(
        as_text=True)
    assert 'data-matching="2 orders matching: Status group equals pending"' in html


# --- 5. bounds on money and counts ----------------------------------------------------------------

def _product_form(**changes) -> dict:
    data = {"name": "Starter", "group_name": "Shared Hosting", "type": "Shared Hosting", "module": "manual",
            "auto_setup": "on_accept", "stock_quantity": "0", "prices-0-cycle": "Monthly",
            "prices-0-price": "10.00", "prices-0-setup_fee": "0.00",
            "prices-0-currency": str(default_currency(db.session).id)}
    data.update(changes)
    return data


@pytest.mark.parametrize(("changes", "message"), [
    ({"prices-0-price": "1e20"}, "must be at most 99,999,999,999,999.99"),
    ({"prices-0-price": "NaN"}, "must be an amount like 12.34"),
    ({"stock_quantity": str(10**15)}, "Enter a whole number from 0 to 1,000,000."),
    ({"stock_quantity": "-1"}, "Enter a whole number from 0 to 1,000,000."),
])
def test_product_amounts_and_stock_are_bounded(admin_client, session, changes, message):
    response = admin_client.post("/admin/products/new/", data=_product_form(**changes))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Product)) == 0


def _promotion_form(**changes) -> dict:
    form = {"code": "BIG", "type": "Percentage", "value": "10.00", "recur_for": "0", "max_uses": "0",
            "applies_to_products": "[]", "applies_to_tlds": "[]", "requires_products": "[]",
            "requires_tlds": "[]", "cycles": "[]"}
    form.update(changes)
    return form


def test_a_percentage_promotion_is_at_most_100(admin_client, session):
    response = admin_client.post("/admin/promotions/new/", data=_promotion_form(value="1000"))
    assert "A percentage is at most 100." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Promotion)) == 0
    response = admin_client.post("/admin/promotions/new/",
                                 data=_promotion_form(type="Fixed Amount", value="1000"))
    assert response.status_code == 302


def test_registration_periods_are_1_to_10_years(admin_client, session):
    response = admin_client.post("/admin/tlds/new/", data={
        "extension": ".dev", "auto_registrar": "", "dns_management_price": "0", "email_forwarding_price": "0",
        "id_protection_price": "0", "prices-0-years": "11", "prices-0-register_price": "10.00"})
    assert "Enter a whole number from 1 to 10." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Tld)) == 0
    order = factories.make_order(domains=["Pending"])
    session.commit()
    domain = order.domains[0]
    response = admin_client.post(f"/admin/domains/edit/?id={domain.id}", data={
        "client": str(order.client_id), "name": domain.name, "type": "Register", "period_years": "-1",
        "registrar": "", "first_payment_amount": "1.00", "recurring_amount": "1.00"})
    assert "Enter a whole number from 1 to 10." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(type(domain), domain.id).period_years == 1


def test_add_order_price_override_is_bounded(admin_client, session):
    client = factories.make_client()
    product = factories.make_product()
    session.commit()
    response = admin_client.post("/admin/add-order/", data={
        "client_id": str(client.id), "payment_method": "banktransfer",
        "products-0-product_id": str(product.id), "products-0-billing_cycle": "Monthly",
        "products-0-quantity": "1", "products-0-price_override": "1e20"})
    assert response.status_code == 400
    assert "at most 99,999,999,999,999.99" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Order)) == 0


# --- 12. database errors show a reference, never SQL -----------------------------------------------

def test_an_unexpected_error_shows_a_reference_and_logs_the_detail(database_url, caplog, app_ctx):
    app = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.route("/admin/boom")
    def boom():
        db.session.execute(select(func.nonexistent_function(Client.email)))

    with app.app_context():
        admin = factories.make_admin()
        db.session.commit()
        client = app.test_client(user=admin)
        with caplog.at_level(logging.ERROR, logger="admin.errors"):
            response = client.get("/admin/boom")
        db.engine.dispose()
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "Something went wrong" in html
    assert "SELECT" not in html and "nonexistent_function" not in html
    reference = html.split('id="error-reference">')[1].split("<")[0]
    assert reference in caplog.text and "nonexistent_function" in caplog.text


def test_a_refused_save_flashes_a_reference_not_the_sql(admin_client, session, caplog):
    product = factories.make_product()
    session.commit()
    # The CHECK constraint (stock >= 0) is the last line: the form's bound is bypassed here.
    from admin.base import NumberWithin
    with caplog.at_level(logging.WARNING, logger="admin.errors"):
        original = NumberWithin.__call__
        NumberWithin.__call__ = lambda self, form, field: None
        try:
            response = admin_client.post(f"/admin/products/edit/?id={product.id}",
                                         data=_product_form(stock_quantity="-5"), follow_redirects=True)
        finally:
            NumberWithin.__call__ = original
    html = response.get_data(as_text=True)
    assert "The database refused the change" in html and "Reference" in html
    assert "INSERT" not in html and "UPDATE" not in html and "[SQL:" not in html
    assert "UPDATE products" in caplog.text or "stock" in caplog.text


# --- 12. server-side sessions ------------------------------------------------------------------------

def _login(app, admin) -> FlaskLoginClient:
    client = app.test_client()
    response = client.post("/admin/login/", data={"email": admin.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def _copy_cookie(source, app):
    copy = app.test_client()
    cookie = source.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    return copy


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app_ctx, full_admin, session):
    session.commit()
    client = _login(app_ctx, full_admin)
    stolen = _copy_cookie(client, app_ctx)
    assert stolen.get("/admin/").status_code == 200
    assert client.post("/admin/logout/").status_code == 302
    assert stolen.get("/admin/").status_code == 302  # the copy is signed out too
    ended = session.scalar(select(AdminSession).where(AdminSession.admin_id == full_admin.id))
    session.refresh(ended)
    assert ended.ended_at is not None and ended.end_reason == "logged out"
    assert len(ended.token_hash) == 64 and client.get_cookie("session").value.find(ended.token_hash) < 0


@pytest.mark.parametrize("change", ["password", "role", "deactivate"])
def test_password_role_change_or_deactivation_ends_the_admins_other_sessions(
        app_ctx, full_admin, session, change):
    target = factories.make_admin("Sales Operator")
    session.commit()
    laptop, phone = _login(app_ctx, target), _login(app_ctx, target)
    editor = _login(app_ctx, full_admin)
    support = session.scalar(select(Role).where(Role.name == "Support"))
    form = {"email": target.email, "name": target.name, "role": str(target.role_id), "active": "y"}
    if change == "password":
        form["new_password"] = "a brand new password"
    elif change == "role":
        form["role"] = str(support.id)
    else:
        del form["active"]
    response = editor.post(f"/admin/admin_users/edit/?id={target.id}", data=form)
    assert response.status_code == 302
    assert laptop.get("/admin/").status_code == 302 and phone.get("/admin/").status_code == 302
    assert editor.get("/admin/").status_code == 200  # the editor's own session is not touched


def test_changing_your_own_password_keeps_this_session_and_ends_the_others(app_ctx, full_admin, session):
    session.commit()
    here, elsewhere = _login(app_ctx, full_admin), _login(app_ctx, full_admin)
    form = {"email": full_admin.email, "name": full_admin.name, "role": str(full_admin.role_id),
            "active": "y", "new_password": "another long password"}
    assert here.post(f"/admin/admin_users/edit/?id={full_admin.id}", data=form).status_code == 302
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    assert session.scalar(select(func.count()).select_from(AdminSession).where(
        AdminSession.admin_id == full_admin.id, AdminSession.ended_at.is_(None))) == 1


def test_a_cookie_with_only_an_admin_id_signs_nobody_in(app_ctx, full_admin, session):
    session.commit()
    forged = app_ctx.test_client()
    with forged.session_transaction() as flask_session:
        flask_session["_user_id"] = str(full_admin.id)  # what the cookie used to carry
    assert forged.get("/admin/").status_code == 302
    assert session.get(AdminUser, full_admin.id).active


def test_money_bound_is_the_column_bound():
    assert str(MAX_MONEY) == "99999999999999.99"


def test_an_order_total_beyond_what_money_holds_is_refused(admin_client, session):
    client = factories.make_client()
    product = factories.make_product(prices={"Monthly": ("99999999999999.99", "0.00")})
    session.commit()
    response = admin_client.post("/admin/add-order/", data={
        "client_id": str(client.id), "payment_method": "banktransfer",
        "products-0-product_id": str(product.id), "products-0-billing_cycle": "Monthly",
        "products-0-quantity": "2"})
    assert response.status_code == 400
    assert "The order total would be more than 99,999,999,999,999.99" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Order)) == 0
