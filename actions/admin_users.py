"""Creating admin users (CLI `create-admin`, first run of `make run`)."""

import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.passwords import password_problem
from models import AdminUser, Role
from models.bounds import parse_time_zone
from models.permissions import FULL_ADMINISTRATOR


class AdminUserError(ValueError):
    pass


def create_admin_user(
    session: Session, email: str, password: str | None = None, role_name: str = FULL_ADMINISTRATOR,
    name: str = "",
) -> tuple[AdminUser, str]:
    """Returns the user and the password (generated when none is given)."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AdminUserError(f"Invalid email address: {exc}") from None
    if session.scalar(select(AdminUser.id).where(AdminUser.email == email)):
        raise AdminUserError(f"An admin with email {email} already exists")
    role = session.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise AdminUserError(f"Unknown role {role_name!r}; roles: {known}")
    if password is None:
        password = secrets.token_urlsafe(12)
    elif problem := password_problem(password, email, name):
        raise AdminUserError(problem)
    user = AdminUser(email=email, name=name or email.split("@")[0], role=role)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user, password


def set_time_zone(session: Session, admin: AdminUser, time_zone: str) -> AdminUser:
    """The admin's own profile setting: the zone the back office shows times in."""
    admin.time_zone = parse_time_zone(time_zone)
    session.flush()
    return admin
