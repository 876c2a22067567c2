"""Keyset paging for every admin list: Newer/Older (Previous/Next) continue from a row's position
in the list's order, so the oldest order is as cheap to reach as the newest, filtered or not.

A list is ordered by its sort column, ties broken by the primary key in the same direction (one
total order, the same for page links, keyset pages and the export). A position is the sort value
and the id of a row; the URL carries it signed (`?cursor=`), with the sort it was made for and its
direction (after: the next rows; before: the previous rows). `?cursor=last` is the list's last page.
The cursor itself, signed and read back strictly: admin/list_cursor.py.

    KeysetPagingMixin        mixed into SecureModelView: get_list() pages by ?page= or ?cursor=,
                             list_pager(data, page, pager_url) -> the links the grid shows
    position_ranges(...)     "the rows after this position" as index ranges (NULLs where each
                             database sorts them: PostgreSQL last ascending, SQLite first)

Page numbers stay for the first CHEAP_PAGES pages (an OFFSET of at most a few hundred rows);
beyond them the pager continues by position. A page number typed by hand is served up to
MAX_LIST_PAGE; one past it, or past the end of the list, is said in a flash message and the list's
last page is shown. A cursor that cannot be used (altered, unreadable,
another sort, a row since deleted) is said in a flash message and the list's first page is shown,
with the URL's filters and search unchanged.
"""

import operator
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import flash, request
from flask_admin.model import BaseModelView
from sqlalchemy import Date, DateTime, and_, literal, select, tuple_, union_all

from admin.list_cursor import (
    CURSOR_ARG,
    LAST_PAGE,
    UNUSABLE,
    Position,
    column_kind,
    column_of,
    keyset_capable,
    make_cursor,
    read_cursor,
)
from extensions import db
from models.bounds import MAX_LIST_PAGE, InvalidInput

CHEAP_PAGES = 10  # page links 1..10: an OFFSET of at most 450 rows at 50 a page


@dataclass(frozen=True)
class ListSort:
    """The list's order: `name` (the sort column's name), its column attribute, descending; ties by `key`.
    `row_attribute`: where a listed row holds the sort value when `column` is not its own (a joined
    table's column equal to one of the row's, e.g. the invoice's id as the order's invoice_id)."""

    name: str
    column: object
    descending: bool
    key: object  # the primary key's column attribute
    row_attribute: str | None = None

    def order(self, reverse: bool = False) -> list:
        descending = self.descending != reverse
        columns = [self.key] if self.column is self.key else [self.column, self.key]
        return [column.desc() if descending else column.asc() for column in columns]


@dataclass
class PageState:
    """What get_list found, for the pager: by page number or by position, and what lies beyond."""

    page: int | None  # the page number, None on a page reached by position
    has_previous: bool
    has_next: bool
    sort: ListSort | None


def position_ranges(sort: ListSort, value, key, *, reverse: bool, inclusive: bool,
                    postgresql: bool) -> list[tuple]:
    """The rows after (value, key) in the list's order (reverse: in the reversed order; inclusive:
    the row at the position too) as index ranges, each (condition, order) - in sequence: the rest
    of the position's tie group (by id), the values beyond it, and the NULLs when they come last.
    NULLs sort large on PostgreSQL, small on SQLite (each database's own order, so its (column,
    id) indexes serve it). PostgreSQL seeks the values (column, id) >= (value, key) as one row
    value; SQLite seeks a row value on its first column only, then walks the whole tie group (a
    status shared by 500,000 orders), so there the tie group and the values beyond are two ranges."""
    descending = sort.descending != reverse
    later = (operator.le if inclusive else operator.lt) if descending else (
        operator.ge if inclusive else operator.gt)
    beyond = operator.lt if descending else operator.gt
    by_key = [sort.key.desc() if descending else sort.key.asc()]
    key_bound = literal(key, type_=sort.key.type)
    if sort.column is sort.key:
        return [(later(sort.key, key_bound), by_key)]
    by_column = [sort.column.desc() if descending else sort.column.asc(), *by_key]
    nulls_follow = postgresql != descending  # PostgreSQL sorts NULLs large, SQLite small
    if value is None:
        ranges = [(and_(sort.column.is_(None), later(sort.key, key_bound)), by_key)]
        return ranges if nulls_follow else [*ranges, (sort.column.is_not(None), by_column)]
    bound = literal(value, type_=sort.column.type)
    if postgresql:  # PostgreSQL seeks a row value on both columns of the (column, id) index
        ranges = [(later(tuple_(sort.column, sort.key), tuple_(bound, key_bound)), by_column)]
    else:
        ranges = [(and_(sort.column == bound, later(sort.key, key_bound)), by_key),
                  (beyond(sort.column, bound), by_column)]
    if nulls_follow and column_of(sort.column).nullable:
        ranges.append((sort.column.is_(None), by_key))
    return ranges


def _plain_column(model, attribute):
    """The attribute's column when it is one of the model's own columns (not a join, not an
    expression), else None."""
    prop = getattr(attribute, "property", None)
    columns = getattr(prop, "columns", None)
    if not columns or len(columns) != 1 or getattr(attribute, "class_", None) is not model:
        return None
    return columns[0] if hasattr(columns[0], "table") else None


class KeysetPagingMixin:
    """get_list() in one total order (sort column, then the primary key), paged by ?page= for the
    first pages and by ?cursor= beyond; the grid's pager is list_pager()."""

    cheap_pages = CHEAP_PAGES
    max_list_page = MAX_LIST_PAGE  # the deepest page (0-based) served by number, by OFFSET

    # --- the order -------------------------------------------------------------------------------

    def list_sort(self, sort_column, sort_desc, filters) -> ListSort | None:
        """The list's order for this request: the chosen sortable column, else the default sort;
        None when it is not one of the model's own columns (then pages go by number only)."""
        keys = self.model.__mapper__.primary_key
        if len(keys) != 1:
            return None
        key = getattr(self.model, self.model.__mapper__.get_property_by_column(keys[0]).key)
        if sort_column is not None and sort_column in self._sortable_columns:
            if self._sortable_joins.get(sort_column):  # a column of a joined table
                return None
            # By its name: Flask-Admin keeps a scaffolded sortable column as the table's Column.
            name, descending = sort_column, bool(sort_desc)
        else:
            # Flask-Admin's own reading of column_default_sort: [(name, descending), ...]
            default = BaseModelView._get_default_order(self) or [(key.key, False)]
            name, descending = default[0][0], bool(default[0][1])
        attribute = getattr(self.model, name, None)
        column = _plain_column(self.model, attribute)
        if column is None or not keyset_capable(column):
            return None
        return ListSort(name, attribute, descending, key)

    # --- the rows --------------------------------------------------------------------------------

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        # A position belongs to one page: the sort, filter, search and page links start afresh.
        args.extra_args.pop(CURSOR_ARG, None)
        return args

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        count, query = super().get_list(None, sort_column, sort_desc, search, filters, execute=False,
                                        page_size=False)
        sort = self.list_sort(sort_column, sort_desc, filters)
        if sort is not None:
            query = query.order_by(None).order_by(*sort.order())
        if not execute:
            return count, self._apply_pagination(query, page, page_size)
        size = self.page_size if page_size is None else page_size
        if not size:  # unlimited: one page
            return count, query.all()
        position = self._list_position(sort)
        rows = None
        if position is not None:
            rows = self._rows_by_position(query, sort, position, size)
        if rows is None:
            page = page or 0
            rows = self._rows_by_number(query, sort, page, size) if page <= self.max_list_page else []
            if not rows and page:
                rows = self._past_the_end(query, sort, page, size)
        return count, rows

    def narrow_page(self, query, reach: int):
        """The list query cut down to rows that can be among its first `reach` (a view's own index
        shortcut, e.g. a status group's branches); the query itself by default."""
        return query

    def _rows_by_number(self, query, sort, page: int, size: int) -> list:
        reach = page * size + size + 1
        rows = self.narrow_page(query, reach).offset(page * size).limit(size + 1).all()
        self._keep_page_state(PageState(page, page > 0, len(rows) > size, sort))
        return rows[:size]

    def _past_the_end(self, query, sort, page: int, size: int) -> list:
        """A page number with no rows (typed by hand, past the bound, or the list has shrunk since):
        said, and the list's last page shown instead (by position: as cheap as the first)."""
        if page > self.max_list_page:
            reason = f"Pages by number go up to {self.max_list_page + 1:,}"
        else:
            reason = f"Page {page + 1:,} is past the end of this list"
        rows = self._rows_by_position(query, sort, Position(LAST_PAGE), size) if sort is not None else None
        if rows is None:  # it all fits on its first page, or it has no order to page by position
            flash(f"{reason}: showing its first page.", "warning")
            return self._rows_by_number(query, sort, 0, size)
        words = _direction_words(sort)
        flash(f"{reason}: showing its last page. ‹ {words[1]} and {words[2]} › page on from any page.",
              "warning")
        return rows

    def _rows_by_position(self, query, sort, position: Position, size: int) -> list | None:
        """The page at `position`; None (the first page is shown) when it is no longer a position."""
        forward = position.direction == "after"
        if position.direction == LAST_PAGE:
            backwards = query.order_by(None).order_by(*sort.order(reverse=True))
            rows = self.narrow_page(backwards, size + 1).limit(size + 1).all()
            if len(rows) <= size:  # the whole list fits on its first page
                return None
            rows = rows[:size][::-1]
            self._keep_page_state(PageState(None, True, False, sort))
            return rows
        # The row at the position is read too (inclusive), so a row since deleted is noticed in the
        # same statement: absent from the answer, it is looked up once more.
        ranges = position_ranges(sort, position.value, position.key, reverse=not forward, inclusive=True,
                                 postgresql=db.engine.dialect.name == "postgresql")
        rows = _rows_in_ranges(query, sort, ranges, not forward, size + 2, self.narrow_page)
        if rows and getattr(rows[0], sort.key.key) == position.key:
            rows = rows[1:]
        elif db.session.get(self.model, position.key) is None:
            flash(f"{UNUSABLE}: the row it continued from no longer exists. Showing the first page.",
                  "warning")
            return None
        more = len(rows) > size
        rows = rows[:size]
        if forward:
            self._keep_page_state(PageState(None, True, more, sort))
            return rows
        # Back at the start, the page may be short: each row is still shown exactly once.
        self._keep_page_state(PageState(None, more, True, sort))
        return rows[::-1]

    def _list_position(self, sort) -> Position | None:
        token = request.args.get(CURSOR_ARG)
        if token is None:
            return None
        try:
            return read_cursor(token, self.endpoint, sort)
        except InvalidInput as exc:
            flash(f"{exc.message} Showing the first page.", "error")
            return None

    def _keep_page_state(self, state: PageState) -> None:
        request.environ[f"orderdesk.list_page.{self.endpoint}"] = state

    def render(self, template, **kwargs):
        # Row actions and forms come back to the page they were on, also one reached by position.
        state = request.environ.get(f"orderdesk.list_page.{self.endpoint}")
        if template == self.list_template and "return_url" in kwargs and state and state.page is None:
            # No cursor in the URL: the last page, shown in place of a page number past the end.
            token = request.args.get(CURSOR_ARG, LAST_PAGE)
            kwargs["return_url"] = _with_arg(kwargs["return_url"], CURSOR_ARG, token)
        return super().render(template, **kwargs)

    # --- the pager -------------------------------------------------------------------------------

    def list_pager(self, data, page, pager_url) -> list[dict]:
        """The grid's page links: first, numbered pages while they are cheap, previous, next, last.
        Each {"label", "href" (None: disabled), "active", "id"}."""
        state = request.environ.get(f"orderdesk.list_page.{self.endpoint}")
        if state is None:  # get_list did not page (a filter error: nothing listed)
            return []
        words = _direction_words(state.sort)
        links = []

        def cursor_url(direction, row=None):
            token = LAST_PAGE if row is None else make_cursor(self.endpoint, state.sort, direction, row)
            return _with_arg(pager_url(0), CURSOR_ARG, token)

        links.append(_link(f"« {words[0]}", pager_url(0) if state.has_previous else None, "pager-first"))
        if state.page is not None and state.page > 0:
            previous = pager_url(state.page - 1)
        elif state.has_previous and data and state.sort is not None:
            previous = cursor_url("before", data[0])
        else:
            previous = pager_url(0) if state.has_previous else None
        links.append(_link(f"‹ {words[1]}", previous, "pager-previous"))
        if state.page is not None:
            last_numbered = min(state.page + (1 if state.has_next else 0), self.cheap_pages - 1)
            for number in range(0, last_numbered + 1):
                links.append(_link(str(number + 1), pager_url(number), f"pager-page-{number + 1}",
                                   active=number == state.page))
        if not state.has_next:
            following = None
        elif state.page is not None and state.page + 1 < self.cheap_pages:
            following = pager_url(state.page + 1)
        elif state.sort is not None and data:
            following = cursor_url("after", data[-1])
        else:
            following = None
        links.append(_link(f"{words[2]} ›", following, "pager-next"))
        last = cursor_url(LAST_PAGE) if state.has_next and state.sort is not None else None
        links.append(_link(f"{words[3]} »", last, "pager-last"))
        return links


def _rows_in_ranges(query, sort: ListSort, ranges: list[tuple], reverse: bool, limit: int, narrow) -> list:
    """The first `limit` rows of the ranges, in the list's order, in one statement: each range's
    first ids (one index seek each), then those rows. `narrow` is the view's narrow_page."""
    if len(ranges) == 1:
        condition, order = ranges[0]
        return narrow(query.filter(condition).order_by(None).order_by(*order), limit).limit(limit).all()
    ids = query.enable_eagerloads(False).with_entities(sort.key).order_by(None)
    firsts = [select(*narrow(ids.filter(condition).order_by(*order), limit).limit(limit).subquery().c)
              for condition, order in ranges]
    union = union_all(*firsts).subquery()
    chosen = query.filter(sort.key.in_(select(*union.c)))
    return chosen.order_by(None).order_by(*sort.order(reverse=reverse)).limit(limit).all()


def _link(label: str, href: str | None, link_id: str, active: bool = False) -> dict:
    return {"label": label, "href": href, "active": active, "id": link_id}


def _with_arg(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=query + urlencode({name: value})))


def _direction_words(sort: ListSort | None) -> tuple[str, str, str, str]:
    """(first, previous, next, last) in the list's own words: Newest/Newer/Older/Oldest when it is
    ordered by id or by a date, newest first (Oldest/Older/Newer/Newest ascending)."""
    if sort is not None and (sort.column is sort.key or column_kind(column_of(sort.column).type) in (
            DateTime, Date)):
        if sort.descending:
            return "Newest", "Newer", "Older", "Oldest"
        return "Oldest", "Older", "Newer", "Newest"
    return "First", "Previous", "Next", "Last"

