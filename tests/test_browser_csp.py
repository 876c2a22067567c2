"""Issue 17, the Content-Security-Policy in a real browser (headless Debian Chromium, Playwright):
every main page (one of each page the crawl finds, tests/crawl_support.py) loads with the policy
on and Chromium reports no violation; the controls whose inline handlers became data attributes
still work; and a page framed by another origin is refused."""

import http.server
import re
import threading

import pytest
from werkzeug.datastructures import MultiDict

from actions.reference_data import ensure_reference_data
from extensions import db
from models import Product
from tests import factories
from tests.browser_support import browser_app, browser_page, log_in, serving
from tests.conftest import make_test_app, sign_in
from tests.crawl_support import discover, seed_world
from tests.jobs_support import TEST_REDIS_URL, connect_redis, job_config

pytestmark = pytest.mark.browser

# Chromium's console line for a refused script, style, frame ... ("Refused to execute inline
# script because it violates the following Content Security Policy directive: ...").
VIOLATION = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)
INJECTED_HANDLER = ("var d = document.createElement('div'); d.setAttribute('onclick', 'window.ran = 1');"
                    " document.body.appendChild(d); d.click();")


def _watch(page) -> list[str]:
    """Every CSP violation the page reports: console errors and securitypolicyviolation events."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if VIOLATION.search(message.text) else None)
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.expose_function("reportViolation", lambda text: seen.append(text))
    page.add_init_script("document.addEventListener('securitypolicyviolation', function (e) {"
                         " window.reportViolation(e.violatedDirective + ' ' + e.blockedURI + ' '"
                         " + e.sourceFile + ':' + e.lineNumber); });")
    return seen


@pytest.fixture
def crawled(tmp_path):
    """The app with the crawl's world, on a free port; yields (base_url, admin email, main pages)."""
    with browser_app(tmp_path / "csp.db") as app:
        seeded = seed_world(db.session)
        email = seeded["admin"].email
        client = app.test_client()
        sign_in(client, seeded["admin"])
        pages = {}
        for case in discover(app, client, seeded):
            if case.method != "GET" or case.anonymous or case.endpoint in pages:
                continue
            response = client.get(case.path, query_string=MultiDict(case.params))
            if response.status_code == 200 and response.mimetype == "text/html":
                query = "&".join(f"{k}={v}" for k, v in case.params)
                pages[case.endpoint] = case.path + (f"?{query}" if query else "")
        product_id = db.session.query(Product.id).first()[0]
        db.session.commit()
    with serving(app) as base:
        yield base, email, pages, product_id


def test_every_main_page_loads_with_no_csp_violation(crawled):
    base, email, pages, _ = crawled
    assert len(pages) > 40
    with browser_page() as page:
        violations = _watch(page)
        page.goto(f"{base}/admin/login/")
        page.wait_for_load_state("load")
        log_in(page, base, email)
        page.wait_for_url(f"{base}/admin/")
        for endpoint, url in sorted(pages.items()):
            page.goto(base + url)
            page.wait_for_load_state("load")
            assert not violations, (endpoint, url, violations)
        page.goto(f"{base}/admin/no-such-page/")  # the error page too
        page.wait_for_load_state("load")
        assert not violations, violations
        # The watch does see a violation: an inline handler added to the page is refused.
        with page.expect_console_message(lambda message: VIOLATION.search(message.text) is not None):
            page.evaluate(INJECTED_HANDLER)
        assert page.evaluate("window.ran") is None and violations


def test_the_controls_that_had_inline_handlers_still_work(crawled):
    from playwright.sync_api import expect

    base, email, _, product_id = crawled
    with browser_page() as page:
        violations = _watch(page)
        log_in(page, base, email)
        page.wait_for_url(f"{base}/admin/")
        # Flask-Admin's "Add Filter" items (a javascript: link and a handler, before).
        page.goto(f"{base}/admin/orders/")
        page.click("a.dropdown-toggle:has-text('Add Filter')")
        page.click("a.dropdown-item.filter >> nth=0")
        expect(page.locator(".filters .filter-val").first).to_be_visible()
        assert page.url.startswith(f"{base}/admin/orders/")
        # The quick status select opens the list filtered by the status chosen.
        page.select_option("#quick-status", label="Pending")
        page.wait_for_url(re.compile(r"flt0_status_equals=Pending"))
        # An inline form's "Add" button (the product's prices).
        page.goto(f"{base}/admin/products/edit/?id={product_id}")
        before = page.locator(".inline-field").count()
        page.click("a[data-add-inline-field]")
        expect(page.locator(".inline-field")).to_have_count(before + 1)
        # Flask-Admin's row delete asks first (browser_page accepts every question).
        asked = []
        page.on("dialog", lambda dialog: asked.append(dialog.message))
        page.goto(f"{base}/admin/products/")
        page.click("form.icon button[title='Delete Record'] >> nth=0")
        page.wait_for_load_state("load")
        assert asked == ["Are you sure you want to delete this record?"]
        assert not violations, violations


class _FramingPage(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):  # noqa: N802 - http.server's hook name
        body = f'<html><body><iframe id="framed" src="{self.target}"></iframe></body></html>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_page_framed_by_another_origin_is_refused(crawled):
    base, _, _, _ = crawled
    handler = type("Framing", (_FramingPage,), {"target": f"{base}/admin/login/"})
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        with browser_page() as page:
            refusals = []
            page.on("console", lambda message: refusals.append(message.text)
                    if "frame-ancestors" in message.text or "X-Frame-Options" in message.text else None)
            page.goto(f"http://127.0.0.1:{other.server_port}/")
            page.wait_for_load_state("load")
            framed = page.frame_locator("#framed")
            assert framed.locator("#email").count() == 0  # the login form never shows in the frame
            assert refusals and "frame-ancestors 'none'" in refusals[0], refusals
    finally:
        other.shutdown()
        thread.join(timeout=10)


def test_the_job_dashboard_runs_under_its_own_policy(tmp_path):
    """rq-dashboard (REDIS_URL set): its nonce'd inline script runs and its row templates render
    (underscore's _.template: 'unsafe-eval' on its pages only), with no violation."""
    from playwright.sync_api import expect

    connect_redis()
    app = make_test_app(f"sqlite:///{tmp_path / 'jobs.db'}",
                        **job_config(TEST_REDIS_URL, WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
        ensure_reference_data(db.session)
        email = factories.make_admin("Full Administrator").email
        db.session.commit()
    with serving(app) as base, browser_page() as page:
        violations = _watch(page)
        log_in(page, base, email)
        page.wait_for_url(f"{base}/admin/")
        page.goto(f"{base}/admin/rq/")
        expect(page.locator("table#queues tbody tr").first).to_be_visible()  # rendered by its script
        page.click("a.nav-link:text-is('Workers')")
        expect(page.locator("table#workers tbody tr").first).to_be_visible()
        page.click("a.nav-link:text-is('Jobs')")
        page.wait_for_load_state("load")
        assert not violations, violations
