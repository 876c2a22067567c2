"""Intelligent search: one term finds clients, orders, invoices, services and domains.

Built to answer in milliseconds at 1,000,000 orders, so every lookup is one index search
(tests/test_search.py proves it with EXPLAIN on SQLite and PostgreSQL):
- a number matches order id, order # and invoice id exactly (primary keys, the unique order #);
- text matches the *start* of client first/last name ("ada lov" = first name + last-name prefix),
  email and company, service hostname and username, and domain name, case-insensitively, through
  the lower(column) indexes made by models.base.prefix_search_index;
- text whose words have three characters or more also matches *any part* of those columns ("love",
  "king@", "ngines.exa"): every word in one of the row's columns, through the trigram indexes of
  models.substring_index (the first matches by id; shorter words keep to the prefix search);
- orders are also found by IP address (exact, indexed) and by client: the newest orders of the
  clients the text matches (the (client_id, id) index).
Each group stops at `limit` rows and nothing is counted; secrets (service passwords, EPP codes) are
not loaded, so never decrypted for a result list. Read-only.
"""

import ipaddress
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, ColumnElement, Integer, and_, any_, bindparam, false, func, select, union_all
from sqlalchemy import text as sql_text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, defer, load_only, selectinload
from sqlalchemy.sql.visitors import InternalTraversal

from models import Affiliate, Client, Domain, Invoice, Order, Service

# MAX_ID: a larger number can match no id (and would defeat the index).
from models.bounds import MAX_BIGINT, MAX_ID, is_id, whole_number
from models.substring_index import contains_all, searchable_words

LIMIT = 10
LIST_MATCHES = 100  # the orders list's search: the orders of at most this many clients or items
KINDS = ("clients", "orders", "invoices", "services", "domains")
_ORDER_NUMBERS = range(1_000_000_000, 10_000_000_000)


@dataclass
class SearchResults:
    term: str
    clients: list[Client] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    domains: list[Domain] = field(default_factory=list)

    def found(self) -> bool:
        return any(getattr(self, kind) for kind in KINDS)


def search(session: Session, term: str, kinds=KINDS, limit: int = LIMIT) -> SearchResults:
    """Up to `limit` matches per kind in `kinds` (the groups the caller may see)."""
    term = clean_term(term)
    results = SearchResults(term)
    if not term:
        return results
    number = _as_number(term)
    text = term.lower()
    prefix = _PrefixMatch(session.get_bind().dialect.name)
    substring = _SubstringMatch(session.get_bind().dialect.name, text, limit)

    clients = []
    if "clients" in kinds or ("orders" in kinds and number is None):
        clients = _first_matches(session, Client, client_conditions(prefix, substring, text), limit,
                                 key=lambda c: (c.last_name.lower(), c.first_name.lower(), c.id))
        if "clients" in kinds:
            results.clients = clients
    if "orders" in kinds:
        results.orders = _orders(session, term, number, clients, limit)
    if "invoices" in kinds and number is not None and number <= MAX_ID:
        results.invoices = _first_matches(session, Invoice, [Invoice.id == number], limit,
                                          key=lambda i: i.id, options=(selectinload(Invoice.client),))
    if "services" in kinds:
        conditions = [prefix(Service.domain, text), prefix(Service.username, text), *substring(Service)]
        results.services = _first_matches(
            session, Service, conditions, limit, key=lambda s: (s.domain.lower(), s.id),
            options=(selectinload(Service.client), selectinload(Service.product), defer(Service.password)))
    if "domains" in kinds:
        conditions = [prefix(Domain.name, text), *substring(Domain)]
        results.domains = _first_matches(session, Domain, conditions, limit,
                                         key=lambda d: (d.name.lower(), d.id),
                                         options=(selectinload(Domain.client), defer(Domain.epp_code)))
    return results


def clean_term(term: str) -> str:
    """The term as searched: whitespace collapsed, control characters (NUL...) dropped."""
    return " ".join("".join(ch for ch in term if ch.isprintable() or ch.isspace()).split())


def client_conditions(prefix, substring, text: str) -> list:
    """The client lookups for a lower-cased term: the start of each column, and any part of them."""
    first, _, last = text.partition(" ")
    conditions = [prefix(Client.first_name, text), prefix(Client.last_name, text),
                  prefix(Client.email, text), prefix(Client.company_name, text), *substring(Client)]
    if last:  # "ada lov": the first name, then the start of the last name (one composite index)
        last_name, by_last_name = prefix(Client.last_name, last)
        conditions.append((and_(func.lower(Client.first_name) == first, last_name), by_last_name))
    return conditions


@dataclass
class OrderListSearch:
    """What the orders list's search box asks: orders `where`; `note` when the term matched more
    clients (or items) than the list takes, said to the admin, never silently dropped."""

    kind: str  # "order number", "IP address", "domain" or "client"
    where: ColumnElement[bool]
    note: str | None = None


def order_list_search(session: Session, term: str, limit: int = LIST_MATCHES) -> OrderListSearch:
    """The orders list's search box: a number is an order # or id, an address an IP (exact, as
    before); a hostname (a dot, no space or @) the orders of the domains and services it is part
    of; anything else a client (name, company or email, by its start or any part of a word of
    three characters or more) and that client's orders. At most `limit` clients or items."""
    term = clean_term(term)
    if not term:  # only control characters: nothing to look for
        return OrderListSearch("nothing", false())
    number = whole_number(term, maximum=MAX_BIGINT)
    if number is not None:
        condition = Order.order_number == number
        return OrderListSearch("order number", condition | (Order.id == number) if is_id(term) else condition)
    if term.isdigit():  # all digits, but more than any order number or id: nothing
        return OrderListSearch("order number", false())
    if _is_ip_address(term):
        return OrderListSearch("IP address", Order.ip_address == term)
    text = term.lower()
    prefix = _PrefixMatch(session.get_bind().dialect.name)
    substring = _SubstringMatch(session.get_bind().dialect.name, text, limit + 1)
    if "." in text and not {" ", "@"} & set(text):
        order_ids, more = set(), False
        for model, column in ((Domain, Domain.name), (Service, Service.domain)):
            rows = _first_matches(session, model, [prefix(column, text), *substring(model)], limit + 1,
                                  key=lambda row: -row.id, options=(load_only(model.id, model.order_id),))
            more |= len(rows) > limit
            order_ids |= {row.order_id for row in rows[:limit] if row.order_id is not None}
        return OrderListSearch("domain", Order.id.in_(order_ids),
                               _more_note(term, "domains and services", limit) if more else None)
    clients = _first_matches(session, Client, client_conditions(prefix, substring, text), limit + 1,
                             key=lambda c: -c.id, options=(load_only(Client.id),))
    note = _more_note(term, "clients", limit) if len(clients) > limit else None
    client_ids = [c.id for c in clients[:limit]]
    return OrderListSearch("client", _orders_of_clients(session, client_ids), note)


def _orders_of_clients(session: Session, client_ids: list[int]) -> ColumnElement[bool]:
    """WHERE of these clients' orders, each client's through the (client_id, id) index, in a
    statement whose size is bounded by the clients (at most `limit`), not by their orders.

    SQLite: `client_id IN (...)`, one index range per client, the page sorted from them.
    PostgreSQL: given `client_id IN (...) ORDER BY id DESC`, it may walk every order newest first,
    statistics or not, and without statistics read it by a Seq Scan (345 ms at 1,000,000 orders);
    so the orders' ids are read first, per client by a lookup the planner cannot flatten (LATERAL
    ... OFFSET 0: an index range whatever it guesses, 6 ms), and the list takes them as one array
    (an exact estimate it plans as lookups; one bound value however many orders those clients have)."""
    if not client_ids:
        return false()
    if session.get_bind().dialect.name != "postgresql":
        return Order.client_id.in_(client_ids)
    per_client = sql_text(
        "SELECT o.id FROM unnest(CAST(:clients AS integer[])) AS c(id) CROSS JOIN LATERAL "
        "(SELECT orders.id FROM orders WHERE orders.client_id = c.id OFFSET 0) AS o")
    order_ids = list(session.scalars(per_client, {"clients": client_ids}))
    return Order.id == any_(bindparam("searched_client_orders", order_ids, type_=ARRAY(Integer)))


def _more_note(term: str, what: str, limit: int) -> str:
    return (f"More than {limit} {what} match {term[:40]!r}: the list shows the orders of {limit} of "
            "them. Type more of the name to narrow it.")


def _orders(session, term: str, number: int | None, clients: list[Client], limit: int) -> list[Order]:
    """By order id or order #; by IP address (exact); or the newest orders of the clients found."""
    options = (selectinload(Order.client),)
    if number is not None:
        conditions = [Order.order_number == number] if number in _ORDER_NUMBERS else []
        if number <= MAX_ID:
            conditions.append(Order.id == number)
        return _first_matches(session, Order, conditions, limit, key=lambda o: o.id, options=options)
    if _is_ip_address(term):
        query = select(Order).where(Order.ip_address == term).order_by(Order.id.desc()).limit(limit)
        return list(session.scalars(query.options(*options)))
    if not clients:
        return []
    # One (client_id, id) index range per client, newest first (an IN list would need a sort), all
    # in one statement: a UNION ALL of the LIMITed ranges, however many clients matched.
    newest = [select(Order.id).where(Order.client_id == client.id).order_by(Order.id.desc()).limit(limit)
              .subquery() for client in clients]
    ranges = union_all(*(select(each.c.id) for each in newest)).subquery()
    query = select(Order).where(Order.id.in_(select(ranges.c.id))).options(*options)
    return sorted(session.scalars(query), key=lambda o: -o.id)[:limit]


def _is_ip_address(term: str) -> bool:
    try:
        ipaddress.ip_address(term)
    except ValueError:
        return False
    return True


def _as_number(term: str) -> int | None:
    digits = term.removeprefix("#")
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else None


class _PrefixMatch:
    """`lower(column)` starts with `text`, written the way each database serves from the index.

    PostgreSQL: LIKE 'text%' (escaped), served by the text_pattern_ops index in any collation.
    SQLite: the range lower(column) >= 'text' AND < 'texu' - exact for a binary (codepoint) prefix,
    and a plain b-tree search; SQLite's own LIKE would need a NOCASE index and refuses an index for
    patterns starting with a digit on an expression.
    """

    def __init__(self, dialect: str):
        self.postgresql = dialect == "postgresql"

    def __call__(self, column, text: str) -> tuple[ColumnElement[bool], ColumnElement]:
        """(condition, ordering): ordering by the index's own order makes "first 10 by the index"
        the cheapest plan, so PostgreSQL never trades the index for a scan that hopes to stop early."""
        key = func.lower(column)
        if self.postgresql:
            # Backslash is PostgreSQL's default LIKE escape; an ESCAPE clause would hide the prefix.
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return key.like(escaped + "%"), _IndexOrder(key)
        return and_(key >= text, key < text[:-1] + chr(ord(text[-1]) + 1)), key


class _SubstringMatch:
    """substring(model) -> [] or [the condition "every word of the term is part of a column"]:
    nothing for a term the trigram index cannot answer (a word under three characters)."""

    def __init__(self, dialect: str, text: str, limit: int):
        self.dialect, self.words, self.limit = dialect, searchable_words(text), limit

    def __call__(self, model) -> list:
        """A (condition, ordering) pair, as _PrefixMatch gives."""
        return [] if self.words is None else [contains_all(self.dialect, model, self.words, self.limit)]


class _IndexOrder(ColumnElement):
    """ORDER BY expr in a text_pattern_ops index's order: `expr USING ~<~` on PostgreSQL."""

    inherit_cache = True
    _traverse_internals = [("expr", InternalTraversal.dp_clauseelement)]

    def __init__(self, expr):
        self.expr = expr


@compiles(_IndexOrder)
def _index_order(element, compiler, **kw):
    return compiler.process(element.expr, **kw) + " USING ~<~"


def _first_matches(session, model, conditions, limit, key, options=()) -> list:
    """One LIMITed query per condition (each one index search; an OR would risk a scan), merged.
    A condition is a predicate, or a (predicate, ordering) pair from _PrefixMatch."""
    found = {}
    for condition in conditions:
        condition, order = condition if isinstance(condition, tuple) else (condition, None)
        query = select(model).where(condition).limit(limit).options(*options)
        if order is not None:
            query = query.order_by(order)
        for row in session.scalars(query):
            found[row.id] = row
    return sorted(found.values(), key=key)[:limit]


def affiliates(session: Session, term: str, limit: int = LIMIT) -> list[Affiliate]:
    """The affiliate picker: by affiliate id, or the start of the client's first or last name, email
    or company (the same prefix indexes as the client search). At most `limit`, by client name."""
    term = clean_term(term)
    number = _as_number(term)
    if number is not None:
        return [found] if number <= MAX_ID and (found := session.get(Affiliate, number)) else []
    if not term:
        query = select(Affiliate).order_by(Affiliate.id.desc()).limit(limit)
        return list(session.scalars(query.options(selectinload(Affiliate.client))))
    prefix = _PrefixMatch(session.get_bind().dialect.name)
    text = term.lower()
    found = {}
    for column in (Client.first_name, Client.last_name, Client.email, Client.company_name):
        condition, _ = prefix(column, text)
        query = (select(Affiliate).join(Affiliate.client).where(condition).limit(limit)
                 .options(selectinload(Affiliate.client)))
        for affiliate in session.scalars(query):
            found[affiliate.id] = affiliate
    return sorted(found.values(), key=lambda a: (a.client.last_name.lower(), a.client.first_name.lower(),
                                                  a.id))[:limit]
