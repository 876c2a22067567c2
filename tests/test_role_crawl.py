"""A crawl of every URL the app answers (tests/crawl_support.py finds them) as each built-in role:
every mutating request a role lacks the permission for answers 403 and changes nothing, no request
answers a 500, and no page a role can open shows a secret (the seeded ones: service password, EPP code, server
and gateway secrets, an API secret, an event hook secret, an admin password)."""

import pytest
from werkzeug.datastructures import MultiDict

from actions.transitions import TRANSITIONS
from admin.order_bulk import bulk_name
from extensions import db
from models import Permission, SideEffect
from models.bounds import is_id
from models.permissions import BUILTIN_ROLES, permissions_to_cancel
from tests import factories
from tests.conftest import sign_in
from tests.crawl_support import SECRETS, admin_views, discover, restore, seed_world, snapshot

# Flask-Admin's standard endpoints -> the view attribute naming their permission.
_STANDARD = {"create_view": "create_permission", "edit_view": "edit_permission",
             "ajax_update": "edit_permission", "delete_view": "delete_permission"}
# Our own POST endpoints -> what they need (the order page's verbs come from its own table).
_CUSTOM = {
    "orders.assign_affiliate_view": (Permission.EDIT_ORDER,),
    "orders.admin_notes_view": (Permission.EDIT_ORDER,),
    "orders.payment_method_view": (Permission.EDIT_ORDER,),
    "orders.config_options_view": (Permission.EDIT_SERVICES,),
    "orders.custom_fields_view": (Permission.EDIT_SERVICES,),
    "client_custom_field_answers.edit": (),  # the view itself needs Edit Clients Details
    "invoices.add_payment_view": (Permission.ADD_INVOICE_PAYMENTS,),
    "invoices.mark_paid_view": (Permission.ADD_INVOICE_PAYMENTS,),
    "invoices.refund_view": (Permission.REFUND_INVOICE_PAYMENTS,),
    "invoices.capture_view": (Permission.ATTEMPT_CC_CAPTURES,),
    "invoices.cancel_invoice_view": (Permission.CANCEL_INVOICES,),
    "invoices.mark_unpaid_view": (Permission.MARK_INVOICES_UNPAID,),
    "invoices.lines_view": (Permission.EDIT_INVOICE_LINES,),
    "api_credentials.rotate_view": (Permission.MANAGE_API_CREDENTIALS,),
    "api_credentials.revoke_view": (Permission.MANAGE_API_CREDENTIALS,),
    "event_hooks.test_view": (),  # opening Event Hooks (Manage Event Hooks) is all it takes
    "event_hooks.reveal_view": (Permission.REVEAL_EVENT_HOOK_SECRETS,),
    "event_hooks.rotate_view": (Permission.REVEAL_EVENT_HOOK_SECRETS,),
    "add_order.index": (Permission.ADD_NEW_ORDER,),
    "amend_order.amend": (),  # opening Amend order (Amend Pending Orders) is all it takes
    "orders.run_fraud_check_view": (Permission.RUN_FRAUD_CHECK,),
    "fraud_settings.index": (),  # opening the page (Configure Fraud Protection) is all it takes
    "add_order.preview": (Permission.ADD_NEW_ORDER,),
    "service_upgrade.order_view": (),  # opening the page (Create Upgrade/Downgrade Orders) is all it takes
    "auth.login": (),  # signing in needs no permission (a signed-in admin is sent on)
    # The login's second step and forced two-factor set-up: a pending login, not a permission.
    "auth.two_factor": (),
    "auth.two_factor_setup": (),
    # The admin's own two-factor and re-authentication: a login is all it takes.
    "account.setup_view": (),
    "account.recovery_codes_view": (),
    "account.turn_off_view": (),
    "account.reauthenticate_view": (),
    "admin_users.reset_two_factor_view": (Permission.RESET_TWO_FACTOR,),
    "profile.index": (),  # an admin's own time zone: any signed-in admin, for their own account
    # The WHMCS API ignores the admin's session: its own credentials decide (tests/test_api_*.py).
    "api.api_php": (),
}
# Each grid's saved views: opening the grid is all it takes (a view is the admin's own).
_GRID_VIEWS = {"save_view_view", "delete_view_view"}
_ACTIONS = {("side_effects", "retry"): (Permission.RETRY_SIDE_EFFECTS,),
            ("side_effects", "cancel"): (Permission.CANCEL_SIDE_EFFECTS,),
            ("orders", "mass_mail"): (Permission.MASS_MAIL,),
            **{("orders", bulk_name(row)): row.permissions for row in TRANSITIONS.values() if row.bulk}}


def _cancel_needs(params) -> tuple[str, ...]:
    """Cancelling a side effect: more for a terminate or a refund (models.permissions)."""
    raw = dict(params).get("side_effect_id", "")
    effect = db.session.get(SideEffect, int(raw)) if is_id(raw) else None
    return permissions_to_cancel(effect.kind) if effect is not None else (Permission.CANCEL_SIDE_EFFECTS,)


def required_permissions(app, case) -> tuple[str, ...]:
    """What a mutating request needs, from the spec above; a new endpoint must be added here."""
    views = admin_views(app)
    blueprint, _, name = case.endpoint.partition(".")
    view = views.get(blueprint)
    opened_by = (view.permission,) if getattr(view, "permission", None) else ()
    if name in _STANDARD and view is not None:
        return opened_by + (getattr(view, _STANDARD[name]),)
    if name == "action_view" and view is not None:
        action = dict(case.params).get("action", "")
        if action == "delete":
            return opened_by + (view.delete_permission,)
        if (blueprint, action) in _ACTIONS:
            return opened_by + _ACTIONS[(blueprint, action)]
        if action not in view._actions_data:
            return opened_by  # no such action: refused (400) for everyone
    if case.endpoint == "orders.order_action_view":
        verb = case.path.rstrip("/").rsplit("/", 1)[-1]
        return opened_by + (TRANSITIONS[verb].permissions if verb in TRANSITIONS else ())  # else 404
    if case.endpoint == "orders.side_effect_view":
        if case.path.endswith("/retry/"):
            return opened_by + (Permission.RETRY_SIDE_EFFECTS,)
        if case.path.endswith("/cancel/"):
            return opened_by + _cancel_needs(case.params)
        return opened_by  # an unknown verb: 404 for everyone
    if name in _GRID_VIEWS:
        return opened_by
    if case.endpoint in _CUSTOM:
        return opened_by + _CUSTOM[case.endpoint]
    raise AssertionError(f"{case.method} {case.path} ({case.endpoint}): a mutating endpoint the crawl does "
                         "not know; say which permission it needs in tests/test_role_crawl.py")


@pytest.fixture
def world(app_ctx):
    seeded = seed_world(db.session)
    client = app_ctx.test_client()
    sign_in(client, seeded["admin"])
    return discover(app_ctx, client, seeded)


def signed_in_as(app, role):
    admin = factories.make_admin(role)
    db.session.commit()
    client = app.test_client()
    sign_in(client, admin)
    return admin, client


# How many mutations the crawl must find each role lacking (a Full Administrator lacks none).
_AT_LEAST_REFUSED = {"Support": 41, "Sales Operator": 16, "Full Administrator": 0}


@pytest.mark.parametrize("role", sorted(BUILTIN_ROLES))
def test_every_mutation_a_role_lacks_is_403_and_changes_nothing(app_ctx, world, role):
    admin, client = signed_in_as(app_ctx, role)
    seed_rows = snapshot()
    checked = 0
    for case in world:
        if case.method != "POST" or case.anonymous:
            continue
        needed = required_permissions(app_ctx, case)
        lacks = [p for p in needed if p and not admin.has_permission(p)]
        response = client.post(case.path, data=MultiDict(case.params))
        assert response.status_code < 500, (role, case.path, case.params, response.status_code)
        if lacks:
            assert response.status_code == 403, (role, case.path, case.params, lacks, response.status_code)
            assert snapshot() == seed_rows, (role, case.path, "changed the database")
            checked += 1
        elif snapshot() != seed_rows:
            restore(seed_rows)
            sign_in(client, admin)
    assert checked >= _AT_LEAST_REFUSED[role] and (checked == 0) == (role == "Full Administrator")


@pytest.mark.parametrize("role", sorted(BUILTIN_ROLES))
def test_no_page_a_role_can_open_shows_a_secret_nor_fails(app_ctx, world, role):
    _, client = signed_in_as(app_ctx, role)
    opened = 0
    for case in world:
        if case.method != "GET" or case.anonymous:
            continue
        response = client.get(case.path, query_string=MultiDict(case.params))
        assert response.status_code < 500, (role, case.path, case.params, response.status_code)
        if response.status_code != 200:
            continue
        opened += 1
        if not response.mimetype.startswith(("text/", "application/json")):
            continue  # an XLSX export: its rows are the CSV export's, which is read as text
        body = response.get_data(as_text=True)
        for what, secret in SECRETS.items():
            assert secret not in body, (role, case.path, what)
    assert opened > 50
