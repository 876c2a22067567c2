"""Passwords: a minimum length, a strength check (zxcvbn), never the email; argon2 hashes made
with other parameters are redone at the next login, without ending the admin's other sessions."""

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select

from actions.passwords import password_problem
from models import AdminSession, AdminUser, hash_secret
from models.admin_users import hasher, secret_needs_rehash
from tests import factories


@pytest.mark.parametrize(("password", "refused_for"), [
    ("short", "at least 10 characters"),
    ("Ops@Example.com", "not be the email address"),
    ("ops@example.com", "not be the email address"),
    ("Password123!", "too easy to guess"),
    ("qwertyuiop12", "too easy to guess"),
    ("Ops12345678", "too easy to guess"),
    ("x" * 257, "at most 256 characters"),
])
def test_weak_passwords_are_refused_with_the_reason(password, refused_for):
    assert refused_for in password_problem(password, "ops@example.com", "Ops")


def test_a_strong_password_is_taken():
    assert password_problem("tangerine otter weekday lamp", "ops@example.com") is None
    assert password_problem(factories.PASSWORD, "ops@example.com") is None


def test_the_cli_and_the_admin_form_refuse_a_weak_password(app_ctx, admin_client, session):
    result = CliRunner().invoke(app_ctx.cli, ["create-admin", "weak@example.com",
                                              "--password", "Password123!"])
    assert result.exit_code != 0 and "too easy to guess" in result.output
    form = {"email": "new@example.com", "name": "New", "role": "1", "active": "y",
            "new_password": "new@example.com"}
    answer = admin_client.post("/admin/admin_users/new/", data=form)
    assert "Password must not be the email address." in answer.get_data(as_text=True)
    assert session.scalar(select(AdminUser).where(AdminUser.email == "new@example.com")) is None


def test_an_old_parameter_hash_is_redone_at_login_and_other_sessions_live_on(app_ctx, full_admin, session):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    full_admin.password_hash = weak.hash(factories.PASSWORD)
    session.commit()
    assert secret_needs_rehash(full_admin.password_hash)
    elsewhere = app_ctx.test_client(user=full_admin)

    answer = app_ctx.test_client().post("/admin/login/", data={"email": full_admin.email,
                                                              "password": factories.PASSWORD})
    assert answer.status_code == 302
    session.expire_all()
    admin = session.get(AdminUser, full_admin.id)
    assert not secret_needs_rehash(admin.password_hash) and admin.check_password(factories.PASSWORD)
    assert "m=65536,t=3,p=4" in admin.password_hash
    live = session.scalars(select(AdminSession).where(AdminSession.admin_id == admin.id,
                                                       AdminSession.ended_at.is_(None))).all()
    assert len(live) == 2  # a rehash is no password change
    assert elsewhere.get("/admin/").status_code == 200


def test_current_hashes_need_no_rehash():
    assert not secret_needs_rehash(hash_secret("anything at all"))
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)
