"""Paging and sorting shared by the list actions (GetOrders, GetInvoices, GetClients)."""

from api.errors import ApiError
from api.params import Params
from api.registry import Call

DEFAULT_PAGE = 25
MAX_PAGE = 1000
MAX_OFFSET = 2**31 - 1


def page_of(call: Call) -> tuple[int, int]:
    p = call.params
    return (
        p.int("limitstart", minimum=0, maximum=MAX_OFFSET, default=0),
        p.int("limitnum", minimum=1, maximum=MAX_PAGE, default=DEFAULT_PAGE),
    )


def ordering(
    params: Params, columns: dict, tiebreak, *, by: str, direction: str, words=("asc", "desc")
) -> list:
    """ORDER BY the chosen column (default id), then the tiebreak (the id), so pages never overlap."""
    column = columns.get(params.text(by, max_length=32).lower() or "id")
    if column is None:
        raise ApiError(f"{by} must be one of " + ", ".join(columns))
    chosen = params.text(direction, max_length=8).lower() or "asc"
    if chosen not in ("asc", "desc"):
        raise ApiError(f"{direction} must be {words[0]} or {words[1]}")
    return [column.desc(), tiebreak.desc()] if chosen == "desc" else [column.asc(), tiebreak.asc()]
