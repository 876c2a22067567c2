"""The page's chrome, built once per process: the main menu (per set of permissions and page) and
the URLs of Flask-Admin's static files.

Flask-Admin's layout.menu() asks every entry whether the admin may open it, builds its URL and
runs a macro per entry on every page view. Which entries a role sees and where they point depend
only on its permissions (and the application's configuration); which one is active, on the page.
So the menu's HTML (Flask-Admin 2.2.1's markup) is kept per (permissions, page): two admins of the
same role share it, an admin whose role changes gets another one. Labels that render live - the
badges counting pending orders or failed side effects (a str with __html__) - are left as slots,
filled on every request.
"""

from dataclasses import dataclass

from flask import current_app, request, url_for
from markupsafe import Markup, escape

from admin.access import granted_permissions

_MENUS_KEY = "orderdesk.menus"
_STATIC_KEY = "orderdesk.static_urls"
# Rendered menus kept per process, one per (set of permissions, page): bounded all the same.
MAX_MENUS = 512


@dataclass(frozen=True)
class _Live:
    label: str  # rendered through its __html__ on every request


def _icon(item) -> str:
    kind, value = item.get_icon_type(), item.get_icon_value()
    if kind == "glyph":
        return Markup('<i class="glyphicon {}"></i>').format(value)
    if kind == "fa":
        return Markup('<i class="fa {}"></i>').format(value)
    if kind == "image":
        return Markup('<img src="{}" alt="menu image">').format(url_for("static", filename=value))
    if kind == "image-url":
        return Markup('<img src="{}" alt="menu image">').format(value)
    return ""


def _name(item, parts: list) -> None:
    if hasattr(item.name, "__html__"):
        parts.append(_Live(item.name))
    else:
        parts.append(str(escape(item.name)))


def _link(item, css: str, parts: list) -> None:
    target = Markup(' target="{}"').format(item.target) if item.target else ""
    parts.append(Markup('<a class="{} {}" href="{}"{}>{}').format(
        css, item.get_class_name(), item.get_url(), target, _icon(item)))
    _name(item, parts)
    parts.append("</a>")


def _category(item, view, main: bool, parts: list) -> None:
    children = item.get_children()
    if not children:
        return
    class_name = item.get_class_name() or ""
    span = Markup('<span class="{}"></span> ').format(item.class_name) if item.class_name else ""
    active = "active " if item.is_active(view) else ""
    parts.append(Markup('<li class="{}dropdown"><a class="dropdown-toggle {}" data-toggle="dropdown" '
                        'href="javascript:void(0)">{}{}').format(
        active, "nav-link" if main else "dropdown-item", span, _icon(item)))
    _name(item, parts)
    chevron = "right" if "dropdown-submenu" in class_name else "down"
    parts.append(f'<i class="glyphicon glyphicon-chevron-{chevron} small"></i></a><ul class="dropdown-menu">')
    for child in children:
        if child.is_category():
            _category(child, view, False, parts)
        elif "dropdown-divider" in child.get_class_name():
            parts.append(Markup('<li class="{}"></li>').format(child.get_class_name()))
        else:
            parts.append("<li>")
            _link(child, "dropdown-item active" if child.is_active(view) else "dropdown-item", parts)
            parts.append("</li>")
    parts.append("</ul></li>")


def _render(admin, view) -> tuple:
    parts: list = []
    for item in admin.menu():
        if item.is_category():
            _category(item, view, True, parts)
        elif item.is_accessible() and item.is_visible():
            parts.append('<li class="active">' if item.is_active(view) else "<li>")
            _link(item, "nav-link", parts)
            parts.append("</li>")
    return tuple(parts)


def main_menu(admin, view) -> Markup:
    """The main menu's entries for the signed-in admin on `view`'s page."""
    menus = current_app.extensions.setdefault(_MENUS_KEY, {})
    key = (request.script_root, granted_permissions(), getattr(view, "endpoint", None))
    parts = menus.get(key)
    if parts is None:
        if len(menus) >= MAX_MENUS:
            menus.clear()
        parts = menus[key] = _render(admin, view)
    return Markup("".join(part.label.__html__() if isinstance(part, _Live) else part for part in parts))


def static_url(endpoint: str, filename: str, **values) -> str:
    """url_for a static file ("admin.static", "vendor/jquery.min.js", v="3.5.1"), kept per process:
    it depends on nothing but its arguments and the application's root."""
    urls = current_app.extensions.setdefault(_STATIC_KEY, {})
    key = (request.script_root, endpoint, filename, tuple(sorted(values.items())))
    if key not in urls:
        if len(urls) >= MAX_MENUS:
            urls.clear()
        urls[key] = url_for(endpoint, filename=filename, **values)
    return urls[key]
