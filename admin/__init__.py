"""Flask-Admin faces: views parse input, check a named permission, call actions/, render."""

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin.auth import auth_blueprint, init_login
from admin.index import DashboardView
from admin.menu import main_menu, static_url
from admin.presentation import register_filters
from admin.redirects import use_strict_redirects
from admin.registry import register_views
from admin.security_headers import csp_nonce, init_security_headers


def init_admin(app: Flask) -> Admin:
    use_strict_redirects()
    init_login(app)
    register_filters(app)
    app.add_template_global(main_menu, "main_menu")
    app.add_template_global(static_url, "static_url")
    app.register_blueprint(auth_blueprint)
    init_security_headers(app)
    admin = Admin(
        app,
        name="Orderdesk",
        theme=Bootstrap4Theme(fluid=True, base_template="admin/orderdesk_base.html"),
        index_view=DashboardView(name="Dashboard", url="/admin", endpoint="admin"),
        csp_nonce_generator=csp_nonce,
    )
    register_views(admin)
    return admin
