"""Where the app may send a browser back to: one strict same-origin check for every redirect target
(the login's `next`, Flask-Admin's `url` return field, every view's return URL).

    safe_redirect_target(target) -> the target, or None     a path on this site, nothing else
    redirect_target(param="url") -> str | None               the request's `param`, when safe

A target is safe when it is a relative path ("/admin/orders/?page=2"): it starts with one "/",
has no scheme and no host once normalised the way browsers do (backslashes read as slashes, tab,
CR and LF dropped, leading spaces and control characters stripped), and holds no control
character at all (a CR/LF would otherwise reach the Location header).

Flask-Admin checks its `url` field with its own is_safe_url, which lets "/%09/evil.example"
through; `use_strict_redirects()` points Flask-Admin's modules at this check instead. Flask-Admin
offers no hook for it, so the override replaces the module-level functions by name, in every
flask_admin module that imported them; tests/test_redirects.py fails if a Flask-Admin upgrade adds
a module this misses.
"""

import sys
from urllib.parse import urlsplit

from flask import request

from models.bounds import has_forbidden_characters

MAX_TARGET_LENGTH = 2048


def safe_redirect_target(target) -> str | None:
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET_LENGTH:
        return None
    if has_forbidden_characters(target, line_breaks=False) or not target.isprintable():
        return None
    # What a browser would make of it: "\\" is "/", and spaces at the start are dropped.
    seen_as = target.replace("\\", "/").lstrip()
    if not seen_as.startswith("/") or seen_as.startswith("//"):
        return None
    parts = urlsplit(seen_as)
    if parts.scheme or parts.netloc:
        return None
    return target


def redirect_target(param_name: str = "url") -> str | None:
    """Flask-Admin's get_redirect_target, with the strict check."""
    return safe_redirect_target(request.values.get(param_name))


def _is_safe_url(target: str) -> bool:
    return safe_redirect_target(target) is not None


# Flask-Admin's name -> ours.
_OVERRIDES = {"get_redirect_target": redirect_target, "is_safe_url": _is_safe_url}


def flask_admin_modules_with_redirect_checks() -> list[str]:
    """Every loaded flask_admin module holding one of the functions we replace."""
    return [name for name, module in list(sys.modules.items())
            if name.split(".")[0] == "flask_admin" and module is not None
            and any(hasattr(module, attr) for attr in _OVERRIDES)]


def use_strict_redirects() -> None:
    """Point every loaded Flask-Admin module at the strict check (idempotent)."""
    import flask_admin.actions  # noqa: F401 - the modules that use them, loaded before patching
    import flask_admin.contrib.sqla.view  # noqa: F401
    import flask_admin.model.base  # noqa: F401

    for name in flask_admin_modules_with_redirect_checks():
        module = sys.modules[name]
        for attr, ours in _OVERRIDES.items():
            if hasattr(module, attr):
                setattr(module, attr, ours)
