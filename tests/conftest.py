"""Test fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (each pytest run gets its own fresh database on that
server, so parallel runs never collide). Without it the PostgreSQL half is skipped with a message,
unless REQUIRE_SERVICES=1 (set by .ci/run), which turns every missing service into a failure.
"""

import contextlib
import os
import uuid

import pytest
from flask import current_app, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from actions.reference_data import ensure_reference_data
from app import create_app
from extensions import db, limiter
from models import OrderStatusCount
from tests import factories

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(message: str):
    """Skip locally; fail in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (REQUIRE_SERVICES=1: a missing service is a failure)", pytrace=False)
    pytest.skip(f"{message} - set it up to run this test")


def _server_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_postgres_database(prefix: str):
    """Create an empty database on the TEST_DATABASE_URL server, yield its URL, drop it after."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        service_missing("PostgreSQL tests need TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test")
    base = _server_url(base)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection problem means "service missing"
        admin_engine.dispose()
        service_missing(f"PostgreSQL at {make_url(base).render_as_string()} is not reachable: {exc}")
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh, empty PostgreSQL database for this pytest run (parallel runs never collide)."""
    with fresh_postgres_database("orderdesk_test") as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'orderdesk.db'}"
    return request.getfixturevalue("postgres_url")


def sign_in(client: FlaskClient, user) -> str:
    """Sign `user` in on `client` as the login form does: a live server-side session whose token
    the cookie carries (actions/admin_sessions.py). Returns the token."""
    from actions.admin_sessions import start_admin_session
    from models import AdminUser

    def start() -> str:
        admin = db.session.get(AdminUser, user.id)
        _, token = start_admin_session(db.session, admin, "127.0.0.1", "test client")
        db.session.commit()
        return token

    if has_app_context() and current_app._get_current_object() is client.application:
        token = start()  # the test's own session: it holds the admin (perhaps not yet committed)
    else:
        with client.application.app_context():
            token = start()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = token
        flask_session["_fresh"] = True
    return token


class LoginClient(FlaskClient):
    """`app.test_client(user=admin)` signs the admin in (sign_in). Requests in a test share the
    test's app context, and so `g`, where Flask-Login caches the user; forget it before each
    request so client_as(a) and client_as(b) stay apart."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.session_token = sign_in(self, user)

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def make_test_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": None,
        "MAIL_SERVER": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = LoginClient
    return app


@pytest.fixture(scope="session")
def app(database_url):
    app = make_test_app(database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _truncate_all() -> None:
    # DELETE beats TRUNCATE on small tables (PostgreSQL: ~0.06 s against ~0.45 s per test).
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    # Deleting orders updates their status counters (models.order_counts): empty those last.
    db.session.execute(OrderStatusCount.__table__.delete())
    if db.engine.dialect.name == "postgresql":
        query = text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        for name in db.session.scalars(query).all():
            db.session.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
    else:
        db.session.execute(text("DELETE FROM sqlite_sequence"))
        # Planner statistics an earlier test gathered (seed_demo's ANALYZE, PRAGMA optimize when a
        # pooled connection closes) would shape this test's plans: start without them, as a new
        # database does. ANALYZE sqlite_schema makes SQLite read the emptied table again.
        if db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            db.session.execute(text("DELETE FROM sqlite_stat1"))
            db.session.execute(text("ANALYZE sqlite_schema"))
    db.session.commit()


@pytest.fixture
def app_ctx(app):
    """An app context on a clean database holding only the reference data."""
    with app.app_context():
        _truncate_all()
        ensure_reference_data(db.session)
        db.session.commit()
        # The limiter is process-wide: another test's app (jobs_support.app_context_for) may have
        # bound it to a Redis that test has stopped since. Bind it to this app's storage again
        # (init_app registers its hooks once per app), then start the counts at zero.
        limiter.init_app(app)
        limiter.reset()  # throttling counts (failed logins) start at zero in every test
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def session(app_ctx):
    return db.session


@pytest.fixture
def full_admin(app_ctx):
    return factories.make_admin("Full Administrator")


@pytest.fixture
def sales_admin(app_ctx):
    return factories.make_admin("Sales Operator")


@pytest.fixture
def support_admin(app_ctx):
    return factories.make_admin("Support")


@pytest.fixture
def client_as(app_ctx):
    """client_as(user) -> a test client logged in as that admin."""

    def make(user):
        return app_ctx.test_client(user=user)

    return make


@pytest.fixture
def admin_client(client_as, full_admin):
    return client_as(full_admin)


@pytest.fixture
def anon_client(app_ctx):
    return app_ctx.test_client()


@pytest.fixture
def smtp(app_ctx):
    """The app sends mail (MAIL_SERVER set) to an aiosmtpd server for the length of the test."""
    from tests.modules_support.smtp_server import start_smtp

    controller, mailbox = start_smtp()
    saved = {key: app_ctx.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app_ctx.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield mailbox
    finally:
        app_ctx.config.update(saved)
        controller.stop()
