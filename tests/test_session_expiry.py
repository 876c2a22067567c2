"""Issue 17, sessions: an admin's login ends after the idle timeout and at its absolute lifetime
(moved by setting the stored timestamps, never by sleeping), the session is new at login, and
logout is only a POST. (A password or role change and a deactivation ending every other session:
tests/test_hardening.py; logout with and without its CSRF token: tests/test_security.py.)"""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from extensions import db
from models import AdminSession, utcnow
from tests import factories
from tests.conftest import make_test_app


def _login(app, admin):
    client = app.test_client()
    response = client.post("/admin/login/", data={"email": admin.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def _the_session(admin) -> AdminSession:
    db.session.expire_all()
    return db.session.scalars(select(AdminSession).where(AdminSession.admin_id == admin.id)
                              .order_by(AdminSession.id.desc())).first()


def _age(admin, **moved_back):
    """Move this admin's session timestamps into the past, as time passing would."""
    for column, delta in moved_back.items():
        db.session.execute(update(AdminSession).where(AdminSession.admin_id == admin.id)
                           .values({column: utcnow() - delta}))
    db.session.commit()


def test_a_session_idle_for_less_than_the_timeout_stays_signed_in(app_ctx, full_admin, session):
    session.commit()
    client = _login(app_ctx, full_admin)
    _age(full_admin, last_seen_at=timedelta(minutes=59))
    assert client.get("/admin/").status_code == 200
    assert _the_session(full_admin).last_seen_at > utcnow() - timedelta(minutes=1)  # the visit counts


def test_a_session_idle_past_the_timeout_is_ended_and_sends_to_login(app_ctx, full_admin, session):
    session.commit()
    client = _login(app_ctx, full_admin)
    _age(full_admin, last_seen_at=timedelta(minutes=60, seconds=1))
    response = client.get("/admin/orders/")
    assert response.status_code == 302 and "/admin/login/" in response.location
    row = _the_session(full_admin)
    assert row.ended_at is not None and row.end_reason == "idle timeout"
    page = client.get(response.location).get_data(as_text=True)
    assert "Your session ended after 60 minutes without activity" in page
    # Coming back later does not revive it, even once the idle clock would look fresh again.
    _age(full_admin, last_seen_at=timedelta(0))
    assert client.get("/admin/").status_code == 302


def test_a_busy_session_still_ends_at_its_absolute_lifetime(app_ctx, full_admin, session):
    session.commit()
    client = _login(app_ctx, full_admin)
    _age(full_admin, created_at=timedelta(hours=11, minutes=59))
    assert client.get("/admin/").status_code == 200
    _age(full_admin, created_at=timedelta(hours=12))
    assert client.get("/admin/").status_code == 302  # active a moment ago, but too old
    assert _the_session(full_admin).end_reason == "lifetime reached"


def test_the_limits_are_configurable(database_url):
    app = make_test_app(database_url, ADMIN_SESSION_IDLE_MINUTES=5, ADMIN_SESSION_LIFETIME_HOURS=1)
    with app.app_context():
        admin = factories.make_admin("Support")
        db.session.commit()
        try:
            client = _login(app, admin)
            _age(admin, last_seen_at=timedelta(minutes=4))
            assert client.get("/admin/").status_code == 200
            _age(admin, last_seen_at=timedelta(minutes=5))
            assert client.get("/admin/").status_code == 302
            client = _login(app, admin)
            _age(admin, created_at=timedelta(hours=1))
            assert client.get("/admin/").status_code == 302
        finally:
            db.session.execute(AdminSession.__table__.delete())
            db.session.delete(db.session.merge(admin))
            db.session.commit()


@pytest.mark.parametrize("setting", ["ADMIN_SESSION_IDLE_MINUTES", "ADMIN_SESSION_LIFETIME_HOURS"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_an_impossible_limit_refuses_to_start(database_url, setting, value):
    with pytest.raises(RuntimeError, match="must be positive numbers"):
        make_test_app(database_url, **{setting: value})


def test_login_starts_a_new_session_and_keeps_nothing_from_before(app_ctx, full_admin, session):
    session.commit()
    earlier = _login(app_ctx, full_admin)
    planted_token = _the_session(full_admin)
    client = app_ctx.test_client()
    with client.session_transaction() as flask_session:
        flask_session["planted"] = "by whoever handed over this cookie"
    before = client.get_cookie("session").value
    client.post("/admin/login/", data={"email": full_admin.email, "password": factories.PASSWORD})
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as flask_session:
        assert "planted" not in flask_session
        token = flask_session["_user_id"]
    row = _the_session(full_admin)
    assert row.id != planted_token.id and row.ended_at is None
    assert earlier.get("/admin/").status_code == 200 and client.get("/admin/").status_code == 200
    with earlier.session_transaction() as flask_session:
        assert flask_session["_user_id"] != token


def test_logout_by_get_is_refused_and_signs_nobody_out(app_ctx, full_admin, session):
    session.commit()
    client = _login(app_ctx, full_admin)
    assert client.get("/admin/logout/").status_code == 405
    assert client.get("/admin/").status_code == 200
    assert _the_session(full_admin).ended_at is None
    assert client.post("/admin/logout/").status_code == 302
    assert _the_session(full_admin).end_reason == "logged out"


@pytest.mark.parametrize("change, reason", [("password", "password changed"), ("role", "role changed"),
                                            ("disable", "deactivated")])
def test_a_change_made_outside_any_session_ends_every_session(app_ctx, full_admin, session, change, reason):
    """The CLI or a script (no signed-in request): nothing to keep, every session of the admin ends."""
    target = factories.make_admin("Sales Operator")
    session.commit()
    laptop, phone = _login(app_ctx, target), _login(app_ctx, target)
    admin = session.get(type(target), target.id)
    if change == "password":
        admin.set_password("an entirely new passphrase")
    elif change == "role":
        admin.role = full_admin.role
    else:
        admin.active = False
    session.commit()
    assert laptop.get("/admin/").status_code == 302 and phone.get("/admin/").status_code == 302
    session.expire_all()
    rows = session.scalars(select(AdminSession).where(AdminSession.admin_id == target.id)).all()
    assert len(rows) == 2 and {row.end_reason for row in rows} == {reason}
