"""Security headers on every response, and the per-request nonce that lets our scripts run under the
Content-Security-Policy (docs/decisions.md: why a small after_request and not flask-talisman).

    csp_nonce() -> str     this request's nonce (templates: <script nonce="{{ csp_nonce() }}">;
                           Flask-Admin's own scripts get it through Admin(csp_nonce_generator=...))

Scripts run only from this site's files or with the nonce: no inline handler (onclick=...) and no
javascript: URL runs. Our templates say what a control does with data attributes instead
(data-confirm, data-navigate, data-model-action ...), which admin/static/orderdesk.js carries out.
Styles keep 'unsafe-inline' (Flask-Admin and its widgets set style attributes; a style cannot run
code). rq-dashboard's pages (/admin/rq) also need 'unsafe-eval': its JavaScript compiles its row
templates with underscore's _.template, which uses the Function constructor.
"""

import secrets

from flask import Blueprint, Flask, current_app, request

# Our static files (admin/static), public like Flask-Admin's own.
static_blueprint = Blueprint("orderdesk", __name__, static_folder="static",
                             static_url_path="/admin/orderdesk-static")

HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    # Kept on the request itself: an app context (and so `g`) may outlive one request.
    return request.environ.setdefault("orderdesk.csp_nonce", secrets.token_urlsafe(18))


def content_security_policy(nonce: str, allow_eval: bool = False) -> str:
    scripts = f"'self' 'nonce-{nonce}'" + (" 'unsafe-eval'" if allow_eval else "")
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _add_headers(response):
    headers = response.headers
    jobs_dashboard = request.blueprint == "rq_dashboard"
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), jobs_dashboard))
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP 2
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")  # order and client URLs stay on this site
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if _served_over_https():
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _served_over_https() -> bool:
    # SESSION_COOKIE_SECURE=1 says the deployment is HTTPS-only (behind a proxy the request itself
    # may arrive as plain HTTP); browsers ignore HSTS received over plain HTTP anyway.
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def init_security_headers(app: Flask) -> None:
    app.register_blueprint(static_blueprint)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)
