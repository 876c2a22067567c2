"""Two-factor login in a real browser (headless Chromium, Playwright, CSRF on): a role that
requires it forces the set-up at login (QR code, typed key, ten recovery codes), then a login with
an authenticator code, then one with a recovery code, which works only once."""

import time

import pyotp
import pytest
from sqlalchemy import select

from extensions import db
from models import Role
from tests import factories
from tests.browser_support import ARTIFACTS, browser_app, browser_page, log_in, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    with browser_app(tmp_path / "browser.db") as app:
        role = db.session.scalar(select(Role).where(Role.name == "Sales Operator"))
        role.requires_two_factor = True
        admin = factories.make_admin("Sales Operator", email="sales2fa@example.com")
        db.session.commit()
        email = admin.email
    with serving(app) as base:
        yield base, email


@pytest.fixture
def page():
    with browser_page() as tab:
        yield tab


def _log_out(page):
    page.click("form[action$='/admin/logout/'] button")
    page.wait_for_url("**/admin/login/")


def test_forced_enrolment_then_totp_then_a_recovery_code_once(served, page):
    from playwright.sync_api import expect

    base, email = served
    log_in(page, base, email)
    page.wait_for_url("**/admin/login/two-factor/setup/")
    expect(page.locator("#two-factor-qr svg")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "two-factor-setup.png"), full_page=True)
    secret = page.locator("#two-factor-key").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("#code", totp.now())
    page.click("#two-factor-setup-form button[type=submit]")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.click("#codes-saved")
    expect(page.locator("#two-factor-link")).to_be_visible()
    _log_out(page)

    log_in(page, base, email)
    page.wait_for_url("**/admin/login/two-factor/")
    expect(page.locator("#remember")).not_to_be_checked()  # remember this browser: off by default
    page.fill("#code", totp.at(time.time() + 30))  # the set-up took the current step's code
    page.click("#two-factor-form button[type=submit]")
    expect(page.locator("#two-factor-link")).to_be_visible()
    _log_out(page)

    log_in(page, base, email)
    page.fill("#code", codes[0])
    page.click("#two-factor-form button[type=submit]")
    expect(page.locator(".alert-warning")).to_contain_text("9 left")
    _log_out(page)

    log_in(page, base, email)
    page.fill("#code", codes[0])
    page.click("#two-factor-form button[type=submit]")
    expect(page.locator(".alert-danger")).to_have_text("Invalid authentication code.")
    page.screenshot(path=str(ARTIFACTS / "two-factor-code-used.png"), full_page=True)
