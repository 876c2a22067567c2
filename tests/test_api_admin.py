"""The admin's API pages (credentials: create with the secret shown once, rotate, revoke; the API
log with filters; the legacy API password) and `flask create-api-credential`."""

import hashlib
import re

from sqlalchemy import select

from app import create_app  # noqa: F401 - the CLI runner needs the app module importable
from extensions import db
from models import AdminUser, ApiCredential, ApiLogEntry, Role, verify_secret
from tests import factories
from tests.api_support import API, fresh_throttle  # noqa: F401

CREDENTIALS = "/admin/api_credentials/"


def _secret_page(response) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    identifier = re.search(r'<code id="identifier">([^<]+)</code>', html).group(1)
    secret = re.search(r'<code id="secret">([^<]+)</code>', html).group(1)
    return identifier, secret


def _works(client, identifier, secret) -> bool:
    return (
        client.post(
            API, data={"action": "GetOrderStatuses", "identifier": identifier, "secret": secret}
        ).status_code
        == 200
    )


def test_create_shows_the_secret_once_and_stores_only_its_hash(admin_client, app_ctx):
    role = db.session.scalar(select(Role).where(Role.name == "Full Administrator"))
    response = admin_client.post(
        CREDENTIALS + "new/",
        data={
            "description": "Storefront",
            "role": str(role.id),
            "ip_allowlist": "127.0.0.1\n10.0.0.0/8",
            "active": "y",
        },
    )
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    identifier, secret = _secret_page(response)
    credential = db.session.scalar(select(ApiCredential).where(ApiCredential.identifier == identifier))
    assert credential.secret_hash != secret and verify_secret(credential.secret_hash, secret)
    assert credential.ip_allowlist == "127.0.0.1/32\n10.0.0.0/8"
    assert _works(app_ctx.test_client(), identifier, secret)
    listing = admin_client.get(CREDENTIALS).get_data(as_text=True)
    assert identifier in listing and secret not in listing
    details = admin_client.get(f"{CREDENTIALS}details/?id={credential.id}").get_data(as_text=True)
    assert secret not in details and credential.secret_hash not in details


def test_bad_allow_list_is_refused_with_a_message(admin_client, app_ctx):
    role = db.session.scalar(select(Role).where(Role.name == "Full Administrator"))
    response = admin_client.post(
        CREDENTIALS + "new/", data={"role": str(role.id), "ip_allowlist": "10.0.0.300"}
    )
    assert "10.0.0.300 is not an IP address or CIDR range." in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiCredential.id)) is None


def test_rotate_and_revoke(admin_client, app_ctx):
    from actions.api_credentials import create_api_credential

    credential, old_secret = create_api_credential(db.session, "Full Administrator", "127.0.0.1")
    db.session.commit()
    api = app_ctx.test_client()
    assert _works(api, credential.identifier, old_secret)
    identifier, new_secret = _secret_page(
        admin_client.post(CREDENTIALS + "rotate/", data={"id": credential.id})
    )
    assert identifier == credential.identifier and new_secret != old_secret
    assert not _works(api, identifier, old_secret) and _works(api, identifier, new_secret)
    response = admin_client.post(CREDENTIALS + "revoke/", data={"id": credential.id})
    assert response.status_code == 302
    assert not _works(api, identifier, new_secret)
    assert admin_client.post(CREDENTIALS + "rotate/", data={"id": "99999999999"}).status_code == 404


def test_another_role_cannot_manage_credentials_or_read_the_log(client_as, sales_admin, app_ctx):
    sales = client_as(sales_admin)
    assert sales.get(CREDENTIALS).status_code == 403
    assert sales.post(CREDENTIALS + "rotate/", data={"id": "1"}).status_code == 403
    assert sales.get("/admin/api-log/").status_code == 403


def test_api_log_lists_and_filters(admin_client, app_ctx):
    db.session.commit()  # the admin: an API call's rollback would take it along otherwise
    api = app_ctx.test_client()
    api.post(API, data={"action": "GetOrders", "identifier": "nobody", "secret": "x"})
    api.post(API, data={"action": "GetProducts", "identifier": "nobody", "secret": "x"})
    assert db.session.scalar(select(ApiLogEntry.id).where(ApiLogEntry.action == "getorders"))
    page = admin_client.get("/admin/api-log/?flt0_0=getorders").get_data(as_text=True)
    assert "getorders" in page and "getproducts" not in page and "Invalid or missing credentials" in page


def test_legacy_api_password_is_set_on_the_admin_form(admin_client, app_ctx):
    other = factories.make_admin("Full Administrator", email="scripts@example.com")
    db.session.commit()
    form = {
        "email": other.email,
        "name": "Scripts",
        "role": str(other.role_id),
        "active": "y",
        "legacy_api_password": "legacy-pass-123",
    }
    admin_client.post(f"/admin/admin_users/edit/?id={other.id}", data=form)
    md5 = hashlib.md5(b"legacy-pass-123").hexdigest()
    api = app_ctx.test_client()
    data = {"action": "GetOrderStatuses", "username": other.email, "password": md5}
    assert api.post(API, data=data).status_code == 200
    refused = admin_client.post(
        f"/admin/admin_users/edit/?id={other.id}", data={**form, "legacy_api_password": factories.PASSWORD}
    )
    assert "must differ from the login password" in refused.get_data(as_text=True)
    admin_client.post(
        f"/admin/admin_users/edit/?id={other.id}",
        data={**form, "legacy_api_password": "", "remove_legacy_api_password": "y"},
    )
    db.session.expire_all()
    assert db.session.get(AdminUser, other.id).legacy_api_password_hash is None
    assert api.post(API, data=data).status_code == 403


def test_cli_create_api_credential_prints_identifier_and_secret(app_ctx):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-api-credential",
            "--role",
            "Full Administrator",
            "--allow-ip",
            "127.0.0.1",
            "--allow-ip",
            "192.0.2.0/24",
            "--description",
            "scripts",
        ]
    )
    assert result.exit_code == 0, result.output
    identifier = re.search(r"^identifier: (\S+)$", result.output, re.M).group(1)
    secret = re.search(r"^secret: (\S+)$", result.output, re.M).group(1)
    db.session.expire_all()
    credential = db.session.scalar(select(ApiCredential).where(ApiCredential.identifier == identifier))
    assert credential.ip_allowlist == "127.0.0.1/32\n192.0.2.0/24" and credential.description == "scripts"
    assert _works(app_ctx.test_client(), identifier, secret)
    bad = runner.invoke(args=["create-api-credential", "--role", "Nobody"])
    assert bad.exit_code != 0 and "Unknown role 'Nobody'" in bad.output
    bad = runner.invoke(args=["create-api-credential", "--role", "Support", "--allow-ip", "nonsense"])
    assert bad.exit_code != 0 and "nonsense is not an IP address or CIDR range." in bad.output
