"""Shared by the browser tests: the app served on 127.0.0.1 in a thread, headless Debian Chromium
driven by Playwright, and logging in. CHROMIUM_PATH overrides /usr/bin/chromium."""

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from actions.reference_data import ensure_reference_data
from extensions import db
from tests import factories
from tests.conftest import make_test_app, service_missing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIMEOUT_MS = 15_000


@contextmanager
def browser_app(database_path):
    """An app with CSRF on over a new SQLite file holding the reference data; its context pushed
    for the block, so the test adds its own data (and commits) before serving it."""
    app = make_test_app(f"sqlite:///{database_path}", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        yield app


@contextmanager
def serving(app):
    """The app on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@contextmanager
def browser_page(accept_dialogs: bool = True):
    """A Chromium tab (skipped locally, failed in CI, when Chromium is missing); it answers OK to
    every confirm() unless accept_dialogs=False (the test then answers them itself)."""
    if not os.path.exists(CHROMIUM):
        service_missing("Chromium not found: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        tab = context.new_page()
        if accept_dialogs:
            tab.on("dialog", lambda dialog: dialog.accept())  # the confirm() of state-changing actions
        try:
            yield tab
        finally:
            browser.close()


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("button[type=submit]")


def shown_money(amount) -> str:
    """An amount as the pages write it with the default currency settings ("$59.92 USD")."""
    from models.currency import Currency
    from models.settings import DEFAULT_SETTINGS

    return Currency(code=DEFAULT_SETTINGS["currency"], prefix=DEFAULT_SETTINGS["currency_prefix"],
                    suffix=DEFAULT_SETTINGS["currency_suffix"], format=2).format_amount(amount)
