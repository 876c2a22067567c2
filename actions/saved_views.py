"""Saving and removing a grid's view (its query string under a name).

    save_view(session, admin_id, endpoint, name, query, shared=False) -> SavedView
    delete_view(session, view, admin_id, may_delete_others=False) -> None

The query string is parsed and re-encoded (only its parameters are kept: no path, no host, so a
saved view can only ever open the list it belongs to). Saving a name again replaces that view.
Raises models.bounds.InvalidInput with a message for a bad name or query. Flushes, never commits.
"""

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import SavedView
from models.bounds import InvalidInput, clean_text

MAX_QUERY = 2000
MAX_PARAMETERS = 40
# Parameters that are not part of a view: "all_matching" (a bulk selection), the page and the
# position a page continued from (admin/keyset.py: a view opens on its first page).
_NOT_A_VIEW = {"all_matching", "page", "cursor", "csrf_token"}


def view_query(query: str) -> str:
    try:
        pairs = parse_qsl(query or "", keep_blank_values=True, strict_parsing=bool(query), max_num_fields=200)
    except ValueError:
        raise InvalidInput("This view cannot be saved: its address is not a list query.") from None
    kept = [(clean_text(k, max_length=100, single_line=True), clean_text(v, max_length=500, single_line=True))
            for k, v in pairs if k not in _NOT_A_VIEW][:MAX_PARAMETERS]
    encoded = urlencode(kept)
    if len(encoded) > MAX_QUERY:
        raise InvalidInput("This view has too many filters to save.")
    return encoded


def save_view(session: Session, admin_id: int, endpoint: str, name: str, query: str, shared: bool = False):
    name = clean_text(name, max_length=100, what="The view's name", single_line=True)
    if not name:
        raise InvalidInput("Give the view a name.")
    query = view_query(query)
    view = session.scalar(select(SavedView).where(
        SavedView.admin_id == admin_id, SavedView.endpoint == endpoint, SavedView.name == name))
    if view is None:
        view = SavedView(admin_id=admin_id, endpoint=endpoint, name=name)
        session.add(view)
    view.query, view.shared = query, shared
    session.flush()
    return view


def delete_view(session: Session, view: SavedView, admin_id: int, may_delete_others: bool = False) -> None:
    if view.admin_id != admin_id and not may_delete_others:
        raise InvalidInput("Only the admin who saved this view can remove it.")
    session.delete(view)
    session.flush()
