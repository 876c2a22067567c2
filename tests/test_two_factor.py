"""Two-factor login: enrolment (QR code, encrypted secret, ten hashed recovery codes), login with
a TOTP code and with a recovery code (each once), remembered browsers (off by default), a role
that requires it forcing enrolment, and a Full Administrator resetting another admin's."""

import time

import pyotp
from sqlalchemy import select, text

from actions.actor import Actor
from actions.events import Verb
from actions.two_factor import confirm_enrolment, pending_secret
from admin.auth import REMEMBER_COOKIE
from models import AdminSession, OrderEvent, RecoveryCode, Role
from models.two_factor import hash_one_time_secret
from tests import factories

LOGIN = "/admin/login/"
SECOND_FACTOR = "/admin/login/two-factor/"
SETUP = "/admin/login/two-factor/setup/"


def code_at(secret: str, steps_ahead: int = 0) -> str:
    """The code of the current time step, or of a later one (each step's code is taken once)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol(session, admin) -> list[str]:
    secret = pending_secret(session, admin)
    codes = confirm_enrolment(session, admin, code_at(secret), Actor.admin(admin))
    session.commit()
    return codes


def password_step(client, admin, **extra):
    return client.post(LOGIN, query_string={"next": "/admin/orders/"},
                       data={"email": admin.email, "password": factories.PASSWORD, **extra})


def live_sessions(session, admin) -> int:
    return len(session.scalars(select(AdminSession.id).where(
        AdminSession.admin_id == admin.id, AdminSession.ended_at.is_(None))).all())


def events_of(session, verb) -> list[OrderEvent]:
    return session.scalars(select(OrderEvent).where(OrderEvent.verb == verb).order_by(OrderEvent.id)).all()


def test_enrolment_shows_a_qr_code_keeps_the_secret_encrypted_and_gives_ten_hashed_codes(
        admin_client, full_admin, session):
    page = admin_client.get("/admin/account/two-factor/setup/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<svg" in body and 'id="two-factor-key"' in body
    session.refresh(full_admin)
    secret = full_admin.totp_secret
    assert secret and secret[:4] in body and not full_admin.two_factor_enabled
    stored = session.execute(text("SELECT totp_secret FROM admin_users WHERE id = :id"),
                             {"id": full_admin.id}).scalar()
    assert stored and secret not in stored  # only ciphertext in the database

    wrong = admin_client.post("/admin/account/two-factor/setup/", data={"code": "000000"})
    assert "That code is not right" in wrong.get_data(as_text=True)
    session.refresh(full_admin)
    assert not full_admin.two_factor_enabled

    done = admin_client.post("/admin/account/two-factor/setup/", data={"code": code_at(secret)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    session.refresh(full_admin)
    assert full_admin.two_factor_enabled
    shown = done.get_data(as_text=True)
    rows = session.scalars(select(RecoveryCode).where(RecoveryCode.admin_id == full_admin.id)).all()
    assert len(rows) == 10
    for row in rows:
        assert row.code_hash not in shown and row.used_at is None
    assert shown.count("<code>") == 10
    assert [e.actor_id for e in events_of(session, Verb.TWO_FACTOR_ENABLED)] == [full_admin.id]


def test_login_with_two_factor_needs_the_code_and_a_code_works_once(anon_client, full_admin, session):
    enrol(session, full_admin)
    secret = full_admin.totp_secret
    step = password_step(anon_client, full_admin)
    assert step.status_code == 302 and step.headers["Location"].endswith(SECOND_FACTOR)
    assert live_sessions(session, full_admin) == 0  # the password alone opens nothing
    assert anon_client.get("/admin/orders/").status_code == 302

    wrong = anon_client.post(SECOND_FACTOR, data={"code": "123456"})
    assert wrong.status_code == 401 and "Invalid authentication code." in wrong.get_data(as_text=True)
    code = code_at(secret, 1)  # the enrolment took the current step's code
    ok = anon_client.post(SECOND_FACTOR, data={"code": code})
    assert ok.status_code == 302 and ok.headers["Location"] == "/admin/orders/"
    assert anon_client.get("/admin/orders/").status_code == 200
    assert REMEMBER_COOKIE not in ok.headers.get("Set-Cookie", "")  # remember: off unless asked
    logged_in = events_of(session, Verb.ADMIN_LOGGED_IN)[-1]
    assert logged_in.actor_id == full_admin.id
    assert logged_in.details["method"] == "password + authenticator app"
    assert logged_in.details["ip_address"] == "127.0.0.1" and logged_in.details["user_agent"]

    other = anon_client.application.test_client()  # a second browser replaying the same code
    password_step(other, full_admin)
    assert other.post(SECOND_FACTOR, data={"code": code}).status_code == 401
    failed = events_of(session, Verb.ADMIN_LOGIN_FAILED)
    assert [e.details["reason"] for e in failed] == ["wrong two-factor code"] * 2


def test_each_recovery_code_logs_in_once(app_ctx, full_admin, session):
    codes = enrol(session, full_admin)
    first = app_ctx.test_client()
    password_step(first, full_admin)
    used = first.post(SECOND_FACTOR, data={"code": codes[0]})
    assert used.status_code == 302
    assert events_of(session, Verb.ADMIN_LOGGED_IN)[-1].details["method"] == "password + recovery code"

    again = app_ctx.test_client()
    password_step(again, full_admin)
    assert again.post(SECOND_FACTOR, data={"code": codes[0]}).status_code == 401
    typed_loosely = codes[1].replace("-", " ").lower()
    assert again.post(SECOND_FACTOR, data={"code": typed_loosely}).status_code == 302
    spent = session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
    assert {row.code_hash for row in spent} == {hash_one_time_secret(c.replace("-", "")) for c in codes[:2]}


def test_a_role_that_requires_two_factor_forces_enrolment_at_the_next_login(
        admin_client, anon_client, session):
    sales = factories.make_admin("Sales Operator")
    session.commit()
    role = session.scalar(select(Role).where(Role.name == "Sales Operator"))
    # The switch is editable on a built-in role (its permissions are not).
    form = {"name": role.name, "permissions": role.permissions, "requires_two_factor": "y"}
    saved = admin_client.post(f"/admin/roles/edit/?id={role.id}", data=form)
    assert saved.status_code == 302
    session.refresh(role)
    assert role.requires_two_factor
    refused = admin_client.post(f"/admin/roles/edit/?id={role.id}",
                                data={**form, "permissions": role.permissions[:3]})
    assert "only its two-factor switch can change" in refused.get_data(as_text=True)

    step = password_step(anon_client, sales)
    assert step.status_code == 302 and step.headers["Location"].endswith(SETUP)
    assert anon_client.get("/admin/orders/").status_code == 302  # no way round the set-up
    page = anon_client.get(SETUP)
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    session.refresh(sales)
    codes_page = anon_client.post(SETUP, data={"code": code_at(sales.totp_secret)})
    assert codes_page.status_code == 200 and codes_page.get_data(as_text=True).count("<code>") == 10
    assert anon_client.get("/admin/orders/").status_code == 200
    session.refresh(sales)
    assert sales.two_factor_enabled
    # It cannot be turned off while the role requires it.
    anon_client.post("/admin/account/two-factor/off/")
    session.refresh(sales)
    assert sales.two_factor_enabled


def test_remember_this_browser_skips_the_code_on_that_browser_only(app_ctx, full_admin, session):
    enrol(session, full_admin)
    browser = app_ctx.test_client()
    password_step(browser, full_admin)
    page = browser.get(SECOND_FACTOR).get_data(as_text=True)
    assert 'id="remember"' in page and "checked" not in page.split('id="remember"')[0][-200:]
    answer = browser.post(SECOND_FACTOR, data={"code": code_at(full_admin.totp_secret, 1), "remember": "y"})
    assert REMEMBER_COOKIE in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
    browser.post("/admin/logout/")
    again = password_step(browser, full_admin)
    assert again.status_code == 302 and again.headers["Location"] == "/admin/orders/"
    assert events_of(session, Verb.ADMIN_LOGGED_IN)[-1].details["method"] == "password + remembered browser"

    elsewhere = app_ctx.test_client()
    assert password_step(elsewhere, full_admin).headers["Location"].endswith(SECOND_FACTOR)


def test_a_full_administrator_resets_another_admins_two_factor(app_ctx, admin_client, full_admin, session):
    other = factories.make_admin("Support")
    session.commit()
    enrol(session, other)
    other_client = app_ctx.test_client(user=other)
    assert live_sessions(session, other) == 1

    sales = factories.make_admin("Sales Operator")
    session.commit()
    assert app_ctx.test_client(user=sales).post(
        "/admin/admin_users/reset-two-factor/", data={"id": other.id}).status_code == 403

    listing = admin_client.get("/admin/admin_users/").get_data(as_text=True)
    assert "reset-two-factor" in listing
    done = admin_client.post("/admin/admin_users/reset-two-factor/", data={"id": other.id})
    assert done.status_code == 302
    session.refresh(other)
    assert not other.two_factor_enabled and other.totp_secret is None
    assert session.scalars(select(RecoveryCode).where(RecoveryCode.admin_id == other.id)).all() == []
    assert live_sessions(session, other) == 0
    assert other_client.get("/admin/").status_code == 302
    reset = events_of(session, Verb.TWO_FACTOR_RESET)
    assert [(e.actor_id, e.details["admin_id"]) for e in reset] == [(full_admin.id, other.id)]
    # The activity log shows it.
    log = admin_client.get("/admin/activity-log/").get_data(as_text=True)
    assert "Two factor reset" in log
