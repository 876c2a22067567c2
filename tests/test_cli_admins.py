"""`create-admin` and `ensure-first-admin`: scripts and deploys create admins without prompting."""

from sqlalchemy import select

from extensions import db
from models import AdminUser


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_admin_with_flags_does_not_prompt_and_can_log_in(app_ctx, anon_client):
    result = _run(app_ctx, "create-admin", "Ops@Example.com", "--password", "s3cret-enough!", "--role",
                  "Sales Operator")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == "Ops@example.com"))
    assert user.role.name == "Sales Operator" and user.password_hash != "s3cret-enough!"
    login = {"email": "ops@example.com", "password": "s3cret-enough!"}  # email matched case-insensitively
    response = anon_client.post("/admin/login/", data=login)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_create_admin_refuses_bad_input_and_writes_nothing(app_ctx):
    for args, message in [
        (["not-an-email"], "Invalid email address"),
        (["a@example.com", "--role", "Janitor"], "Unknown role 'Janitor'"),
        (["a@example.com", "--password", "short"], "at least 10 characters"),
    ]:
        result = _run(app_ctx, "create-admin", *args)
        assert result.exit_code != 0 and message in result.output, result.output
    assert db.session.scalar(select(db.func.count()).select_from(AdminUser)) == 0

    assert _run(app_ctx, "create-admin", "a@example.com").exit_code == 0
    duplicate = _run(app_ctx, "create-admin", "a@example.com")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output


def test_first_admin_is_created_once_and_its_password_printed_once(app_ctx):
    first = _run(app_ctx, "ensure-first-admin")
    assert first.exit_code == 0 and "password:" in first.output
    password = first.output.split("password:")[1].split()[0]
    user = db.session.scalar(select(AdminUser))
    assert user.check_password(password) and user.role.name == "Full Administrator"

    again = _run(app_ctx, "ensure-first-admin")
    assert again.exit_code == 0 and "password" not in again.output
    assert db.session.scalar(select(db.func.count()).select_from(AdminUser)) == 1
