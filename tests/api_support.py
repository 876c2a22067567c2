"""Shared by the API tests: a credential with a role, the catalog the clients need, and calls."""

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from actions.api_credentials import create_api_credential
from extensions import db, limiter
from models import ApiCredential, ApiLogEntry, Gateway, Permission, Role
from tests import factories

API = "/includes/api.php"

ORDER_API_PERMISSIONS = [
    Permission.API_ACCESS,
    Permission.ADD_NEW_ORDER,
    Permission.VIEW_ORDERS,
    Permission.VIEW_ORDER_DETAILS,
    Permission.ACCEPT_ORDER,
    Permission.CANCEL_ORDER,
    Permission.SET_AS_FRAUD,
    Permission.SET_BACK_TO_PENDING,
    Permission.DELETE_ORDER,
    Permission.LIST_INVOICES,
    Permission.ADD_NEW_CLIENT,
    Permission.LIST_CLIENTS,
    Permission.VIEW_PRODUCTS,
    Permission.VIEW_PROMOTIONS,
]
# ... and the invoice actions (AddInvoicePayment, UpdateInvoice, CapturePayment).
INVOICE_API_PERMISSIONS = [
    *ORDER_API_PERMISSIONS,
    Permission.ADD_INVOICE_PAYMENTS,
    Permission.ATTEMPT_CC_CAPTURES,
    Permission.MANAGE_INVOICE,
    Permission.EDIT_INVOICE_LINES,
    Permission.MARK_INVOICES_UNPAID,
    Permission.CANCEL_INVOICES,
]


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Flask-Limiter's counters live in one storage per process: start every test from zero (once an
    app has initialised it; the live-server tests create theirs later)."""
    try:
        limiter.reset()
    except AssertionError:  # no app has called limiter.init_app yet: nothing counted
        pass
    yield


def make_role(name: str, permissions) -> Role:
    role = Role(name=name, permissions=[str(p) for p in permissions])
    db.session.add(role)
    db.session.flush()
    return role


def make_credential(permissions=ORDER_API_PERMISSIONS, allowlist: str = "127.0.0.1", name: str | None = None):
    role = make_role(name or f"API role {factories.next_number()}", permissions)
    credential, secret = create_api_credential(db.session, role.name, allowlist)
    return credential, secret


def ensure_gateway(name: str = "mailin", display: str = "Mail In Payment") -> None:
    if db.session.query(Gateway).filter_by(name=name).first() is None:
        db.session.add(Gateway(name=name, display_name=display, module="banktransfer", sort_order=2))
        db.session.flush()


class Api:
    """POSTs to the endpoint through the Flask test client, authenticated as one credential."""

    def __init__(self, client, identifier: str, secret: str):
        self.client, self.identifier, self.secret = client, identifier, secret

    def call(self, action: str, data=None, **params):
        body = [("identifier", self.identifier), ("secret", self.secret), ("action", action)]
        body += list(data or [])
        body += [(k, str(v)) for k, v in params.items()]
        return self.client.post(API, data=MultiDict(body))

    def ok(self, action: str, data=None, **params) -> dict:
        response = self.call(action, data, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["result"] == "success", body
        return body

    def error(self, action: str, data=None, status: int = 200, **params) -> str:
        response = self.call(action, data, **params)
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.get_json()
        assert body["result"] == "error", body
        return body["message"]


def snapshot() -> dict:
    """Every row of every table but the API log (and when a credential was last used)."""
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name == ApiLogEntry.__tablename__:
            continue
        columns = [
            c
            for c in table.columns
            if not (table.name == ApiCredential.__tablename__ and c.name == "last_used_at")
        ]
        rows[table.name] = sorted(map(repr, db.session.execute(select(*columns)).all()))
    db.session.rollback()
    return rows
