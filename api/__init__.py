"""The WHMCS-compatible HTTP API (/includes/api.php): a face that parses WHMCS's parameters, checks
the caller's credential and permissions, and calls the same actions/ as the admin (docs/api.md)."""

from flask import Flask

ACTION_MODULES = (
    "api.add_order",
    "api.order_actions",
    "api.fraud_check",
    "api.order_queries",
    "api.billing",
    "api.invoices",
    "api.update_invoice",
    "api.clients",
    "api.client_details",
    "api.catalog",
)


def load_actions() -> None:
    """Import every module that registers actions (api.registry.ACTIONS)."""
    from importlib import import_module

    for name in ACTION_MODULES:
        import_module(name)


def init_api(app: Flask) -> None:
    from api.endpoint import blueprint
    from extensions import csrf
    from models.bounds import parse_networks

    load_actions()
    parse_networks(app.config.get("API_ALLOWED_IPS") or "")  # a bad setting fails at start-up, not per call
    csrf.exempt(blueprint)  # API callers authenticate with their credentials, not a session
    app.register_blueprint(blueprint)
