"""Login throttling: per account and per IP, a clear message with the time to wait, no password
check once refused (the argon2 verifier's calls are counted, no timing), the generic "Invalid
email or password", and every login and failed login in the activity log with IP and user agent."""

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select

import models.admin_users
from actions.events import Verb
from actions.reference_data import ensure_reference_data
from extensions import db, limiter
from models import OrderEvent
from tests import factories
from tests.conftest import make_test_app
from tests.jobs_support import TEST_REDIS_URL, connect_redis

LOGIN = "/admin/login/"
INVALID = "Invalid email or password."


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting how often a password is checked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified = 0

    def verify(self, hash, password):
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def verifier(monkeypatch):
    counting = CountingHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
    monkeypatch.setattr(models.admin_users, "hasher", counting)
    return counting


def attempt(client, email, password="wrong password", ip="127.0.0.1"):
    return client.post(LOGIN, data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": "throttle-test/1.0"})


def test_the_sixth_wrong_password_is_refused_with_the_wait_and_checks_no_password(
        anon_client, full_admin, session, verifier):
    for _ in range(5):
        answer = attempt(anon_client, full_admin.email)
        assert answer.status_code == 401 and INVALID in answer.get_data(as_text=True)
    assert verifier.verified == 5
    sixth = attempt(anon_client, full_admin.email, password=factories.PASSWORD)  # even the right one
    assert sixth.status_code == 429
    assert "Too many failed login attempts. Try again in 15 minutes." in sixth.get_data(as_text=True)
    assert verifier.verified == 5  # refused before any password check
    assert anon_client.get("/admin/").status_code == 302  # not logged in

    failed = session.scalars(select(OrderEvent).where(OrderEvent.verb == Verb.ADMIN_LOGIN_FAILED)
                             .order_by(OrderEvent.id)).all()
    assert [e.details["reason"] for e in failed] == ["wrong password"] * 5 + ["throttled"]
    assert {(e.actor_id, e.details["ip_address"], e.details["user_agent"]) for e in failed} == {
        (full_admin.id, "127.0.0.1", "throttle-test/1.0")}
    # Another account from another address is not affected.
    other = factories.make_admin("Support")
    session.commit()
    assert attempt(anon_client, other.email, factories.PASSWORD, ip="10.1.1.1").status_code == 302


def test_an_unknown_email_gets_the_same_answers(anon_client, full_admin, session):
    answers = [attempt(anon_client, "nobody@example.com") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    wrong_password = attempt(anon_client, full_admin.email)
    assert INVALID in answers[0].get_data(as_text=True) and INVALID in wrong_password.get_data(as_text=True)
    event = session.scalars(select(OrderEvent).where(OrderEvent.verb == Verb.ADMIN_LOGIN_FAILED)).first()
    assert event.actor_id is None and event.details["email"] == "nobody@example.com"


def test_failures_per_ip_across_accounts(app_ctx, anon_client, full_admin, session, monkeypatch, verifier):
    monkeypatch.setitem(app_ctx.config, "LOGIN_IP_FAILURE_LIMIT", "3 per 15 minutes")
    for n in range(3):
        assert attempt(anon_client, f"guess{n}@example.com", ip="192.0.2.7").status_code == 401
    refused = attempt(anon_client, full_admin.email, factories.PASSWORD, ip="192.0.2.7")
    assert refused.status_code == 429 and "Try again in" in refused.get_data(as_text=True)
    assert verifier.verified == 3
    assert attempt(anon_client, full_admin.email, factories.PASSWORD, ip="192.0.2.8").status_code == 302


def test_a_successful_login_clears_the_account_count_and_is_recorded(app_ctx, full_admin, session):
    client = app_ctx.test_client()
    for _ in range(4):
        attempt(client, full_admin.email)
    assert attempt(client, full_admin.email, factories.PASSWORD).status_code == 302
    client.post("/admin/logout/")
    assert [attempt(client, full_admin.email).status_code for _ in range(5)] == [401] * 5
    logged_in = session.scalars(select(OrderEvent).where(OrderEvent.verb == Verb.ADMIN_LOGGED_IN)).one()
    assert logged_in.actor_id == full_admin.id and logged_in.order_id is None
    assert logged_in.details == {"ip_address": "127.0.0.1", "user_agent": "throttle-test/1.0",
                                 "method": "password"}


def test_failed_logins_are_counted_in_redis_across_processes(tmp_path):
    connect_redis()
    apps = [make_test_app(f"sqlite:///{tmp_path / f'{n}.db'}", REDIS_URL=TEST_REDIS_URL,
                          LOGIN_ACCOUNT_FAILURE_LIMIT="3 per 15 minutes") for n in range(2)]
    try:
        assert type(limiter.storage).__name__ == "RedisStorage"
        limiter.reset()
        for app in apps:
            with app.app_context():
                db.create_all()
                ensure_reference_data(db.session)
                db.session.commit()
        first, second = (app.test_client() for app in apps)
        assert [attempt(first, "ops@example.com").status_code for _ in range(2)] == [401, 401]
        assert attempt(second, "ops@example.com").status_code == 401  # the third, seen by the other app
        assert attempt(second, "ops@example.com").status_code == 429
        assert attempt(first, "ops@example.com").status_code == 429
    finally:
        limiter.reset()
        make_test_app(f"sqlite:///{tmp_path / 'after.db'}")  # later apps: memory storage again
