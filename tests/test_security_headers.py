"""Issue 17, headers: the Content-Security-Policy (a nonce per response, no 'unsafe-inline' for
scripts), frame-ancestors 'none', nosniff, Referrer-Policy, HSTS over HTTPS, and the session
cookie HttpOnly and SameSite=Lax. Every page the crawl finds carries no inline handler and no
script without this response's nonce (the browser side: tests/test_browser_csp.py)."""

import re

from werkzeug.datastructures import MultiDict

from extensions import db
from models import AdminSession
from tests import factories
from tests.conftest import make_test_app, sign_in
from tests.crawl_support import discover, seed_world

INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def _directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_every_response_carries_the_policy_and_the_headers(admin_client, anon_client):
    for client, url in ((admin_client, "/admin/orders/"), (anon_client, "/admin/login/"),
                        (admin_client, "/admin/no-such-page/"), (anon_client, "/api/api.php")):
        response = client.get(url)
        policy = _directives(response.headers["Content-Security-Policy"])
        scripts = policy["script-src"]
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, url
        assert [s for s in scripts if s.startswith("'nonce-")], url
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP, cookies not Secure


def test_each_response_has_a_nonce_of_its_own(admin_client):
    nonces = {admin_client.get("/admin/").headers["Content-Security-Policy"] for _ in range(3)}
    assert len(nonces) == 3


def test_the_login_cookie_is_httponly_and_samesite_lax(anon_client, full_admin, session):
    session.commit()
    form = {"email": full_admin.email, "password": factories.PASSWORD}
    response = anon_client.post("/admin/login/", data=form)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_https_deployments_get_hsts_and_secure_cookies(database_url):
    app = make_test_app(database_url, SESSION_COOKIE_SECURE=True)
    with app.app_context():
        admin = factories.make_admin("Support")
        db.session.commit()
        try:
            client = app.test_client()
            form = {"email": admin.email, "password": factories.PASSWORD}
            response = client.post("/admin/login/", data=form, base_url="https://localhost")
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
            cookie = response.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        finally:
            db.session.execute(AdminSession.__table__.delete())
            db.session.delete(db.session.merge(admin))
            db.session.commit()


def test_no_page_has_an_inline_handler_or_a_script_without_its_nonce(app_ctx):
    seeded = seed_world(db.session)
    client = app_ctx.test_client()
    sign_in(client, seeded["admin"])
    checked = set()
    for case in discover(app_ctx, client, seeded):
        if case.method != "GET":
            continue
        response = client.get(case.path, query_string=MultiDict(case.params))
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        checked.add(case.endpoint)
        body = response.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        assert not INLINE_HANDLER.search(body), (case.path, INLINE_HANDLER.search(body).group(0))
        for tag in SCRIPT_TAG.findall(body):
            if 'type="text/template"' in tag:
                continue  # a template the page's script reads, never run
            assert "src=" in tag or f'nonce="{nonce}"' in tag, (case.path, tag)
    assert len(checked) > 40
