"""The signed-in admin's permissions, read once per request.

A page asks has_permission dozens of times (every view's can_* flags, every bulk action, the
menu the first time a role sees it); each answer is a lookup in the permissions read at the
first question.
"""

from flask import has_request_context, request
from flask_login import current_user

_GRANTED_KEY = "orderdesk.granted_permissions"


def granted_permissions() -> frozenset[str] | None:
    """The signed-in admin's permissions (empty when deactivated or without a role); None when
    nobody is signed in. Read once per request and per signed-in admin (a login or logout during
    the request reads them again)."""
    user = current_user._get_current_object()
    cached = request.environ.get(_GRANTED_KEY)
    if cached is not None and cached[0] is user:
        return cached[1]
    granted = None
    if user.is_authenticated:
        role = user.role if user.active else None
        granted = frozenset(role.permissions or ()) if role is not None else frozenset()
    request.environ[_GRANTED_KEY] = (user, granted)
    return granted


def has_permission(permission: str | None) -> bool:
    if not has_request_context():
        return False
    granted = granted_permissions()
    return granted is not None and (permission is None or permission in granted)
