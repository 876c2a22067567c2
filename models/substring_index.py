"""Substring search: clients, services and domains found by any part of a word (`contains`).

A b-tree serves only the start of a value (models.base.prefix_search_index); "any part" needs an
index of the value's trigrams (three-character pieces), one per table over its searched columns:
- PostgreSQL: a pg_trgm GIN index on lower(col1 || ' ' || col2 ...), which serves
  `lower(...) LIKE '%word%'` (the database keeps it current on every write, COPY included);
- SQLite: an FTS5 table with the trigram tokenizer, external content (it stores only the index;
  the row is the table's own), kept current by triggers on insert, update and delete (they fire
  for seed-demo's executemany too). A MATCH of one quoted phrase per word is a substring match,
  case-insensitive (Unicode case folding; accents are not folded on either database).

A term matches a row when every one of its words is part of one of the row's searched columns
("ada lov" finds Ada Lovelace, "lovelace ada" too). Trigrams cannot find words shorter than three
characters: for those `searchable_words` says None and the caller keeps to its prefix search.

The DDL below is run by create_all (events) and by the migration that added it (56d0b3a1c7e2).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import DDL, ColumnElement, Index, and_, column, event, literal_column, select, table, text
from sqlalchemy.orm import Session

from models.clients import Client
from models.orders import Domain, Service

# Trigrams need three characters; no searched column holds a word longer than 255 characters; a
# term of more words than this is no name, email or hostname (and each word is one more lookup).
MIN_WORD, MAX_WORD, MAX_WORDS = 3, 255, 8


@dataclass(frozen=True)
class SubstringIndex:
    table: str
    columns: tuple[str, ...]

    @property
    def fts(self) -> str:
        return f"{self.table}_fts"

    @property
    def gin(self) -> str:
        return f"ix_{self.table}_substring_trgm"

    def expression(self) -> str:
        """The indexed text on PostgreSQL; queries use the same expression, so the index serves them.
        The space between columns keeps a word (which has none) from matching across two of them.
        Written as PostgreSQL prints it back (casts, parentheses), so the migrations' drift check
        (autogenerate) sees the reflected index equal to the declared one."""
        text = f"{self.columns[0]}::text"
        for n, name in enumerate(self.columns[1:]):
            text = f"({'(' * bool(n)}{text}{')' * bool(n)} || ' '::text) || {name}::text"
        return f"lower({text})"

    def postgresql_index(self, table) -> Index:
        """The GIN index, declared on the table for PostgreSQL only (SQLite has its FTS5 table)."""
        return Index(self.gin, literal_column(self.expression()).label("substring_text"),
                     postgresql_using="gin", postgresql_ops={"substring_text": "gin_trgm_ops"},
                     _table=table).ddl_if(dialect="postgresql")

    def sqlite_ddl(self) -> list[str]:
        names = ", ".join(self.columns)
        return [f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.fts} USING fts5({names}, content='{self.table}', "
                "content_rowid='id', tokenize='trigram')", *self.sqlite_triggers()]

    def sqlite_triggers(self) -> list[str]:
        names = ", ".join(self.columns)
        new = ", ".join(f"new.{name}" for name in self.columns)
        old = ", ".join(f"old.{name}" for name in self.columns)
        add = f"INSERT INTO {self.fts} (rowid, {names}) VALUES (new.id, {new});"
        remove = f"INSERT INTO {self.fts} ({self.fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
        return [
            f"CREATE TRIGGER {self.fts}_insert AFTER INSERT ON {self.table} BEGIN {add} END",
            f"CREATE TRIGGER {self.fts}_delete AFTER DELETE ON {self.table} BEGIN {remove} END",
            f"CREATE TRIGGER {self.fts}_update AFTER UPDATE OF {names} ON {self.table} "
            f"BEGIN {remove} {add} END",
        ]

    def sqlite_drop_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.fts}_{event}" for event in ("insert", "delete", "update")]

    def sqlite_backfill(self) -> str:
        """Index the rows already there (reads them from the content table)."""
        return f"INSERT INTO {self.fts} ({self.fts}) VALUES ('rebuild')"

    def sqlite_drop(self) -> list[str]:
        return [*self.sqlite_drop_triggers(), f"DROP TABLE IF EXISTS {self.fts}"]


INDEXES = {
    Client: SubstringIndex("clients", ("first_name", "last_name", "company_name", "email")),
    Service: SubstringIndex("services", ("domain", "username")),
    Domain: SubstringIndex("domains", ("name",)),
}


def is_fts_table(name: str) -> bool:
    """One of the SQLite FTS5 tables here or its shadow tables (clients_fts_data, ...)."""
    return any(name == index.fts or name.startswith(index.fts + "_") for index in INDEXES.values())


def include_object(object, name, type_, reflected, compare_to) -> bool:
    """Alembic autogenerate's filter (migrations/env.py): the FTS5 tables are no model's, and made
    by the migration; without this, every new revision would propose dropping them."""
    return not (type_ == "table" and reflected and compare_to is None and is_fts_table(name))


def searchable_words(text: str) -> list[str] | None:
    """The words of a (lower-cased, whitespace-collapsed) term, or None when the trigram index
    cannot answer it: a word under MIN_WORD characters, or too long or too many to match anything."""
    words = text.split()
    if not words or len(words) > MAX_WORDS or any(not MIN_WORD <= len(w) <= MAX_WORD for w in words):
        return None
    return words


def contains_all(dialect: str, model, words: list[str], limit: int) -> tuple[ColumnElement[bool], object]:
    """(condition, ordering) for `model` rows whose searched columns contain every word, read in
    id order (the oldest first): the caller's query takes at most `limit` of them. Ascending, as
    FTS5 reads its doclists: ORDER BY rowid DESC made it load whole doclists (23 ms against 0.2 ms
    for a hostname among 1,200,000 services)."""
    index = INDEXES[model]
    if dialect == "postgresql":
        # The LIKE wildcards and PostgreSQL's default escape character are taken literally. With
        # ORDER BY id LIMIT the planner either walks the primary key and stops at `limit`
        # matches (a word in most rows) or reads the GIN index (a rare word): both cheap.
        expression = literal_column(index.expression())
        escaped = (w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words)
        return and_(*(expression.like(f"%{w}%") for w in escaped)), model.id
    # One FTS5 phrase per word, each quoted (a quote doubled): FTS syntax in a term stays text.
    # The rowids come in order from the FTS index itself; the rows by primary key.
    fts = table(index.fts, column("rowid"))
    query = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    found = (select(fts.c.rowid).where(literal_column(index.fts).op("MATCH")(query))
             .order_by(fts.c.rowid).limit(limit))
    return model.id.in_(found.scalar_subquery()), None


@contextmanager
def indexing_deferred(session: Session) -> Iterator[None]:
    """A bulk load (seed-demo) on SQLite: its rows are written with the FTS5 triggers off, and each
    index is rebuilt once at the end, the triggers back. Row by row, the trigram inserts cost about
    5x the CPU of one rebuild, and batch after batch they leave segments whose merges read the
    growing index again and again (a 1,000,000-order seed took hours instead of minutes). The end
    runs even when the load fails; a killed load leaves the triggers off until the next seed-demo.
    PostgreSQL keeps its GIN indexes itself (COPY included): nothing to do there."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    for index in INDEXES.values():
        for statement in index.sqlite_drop_triggers():
            session.execute(text(statement))
    session.commit()
    try:
        yield
    finally:
        session.rollback()  # what a failed batch left; the load commits every batch it completes
        for index in INDEXES.values():
            rebuild = [*index.sqlite_drop_triggers(), index.sqlite_backfill(), *index.sqlite_triggers()]
            for statement in rebuild:
                session.execute(text(statement))
        session.commit()


def _register() -> None:
    """create_all builds the indexes too (the tests' databases, `db create-all`)."""
    event.listen(Client.__table__, "before_create",
                 DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
    for model, index in INDEXES.items():
        index.postgresql_index(model.__table__)
        for statement in index.sqlite_ddl():
            event.listen(model.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
        event.listen(model.__table__, "after_drop",
                     DDL(f"DROP TABLE IF EXISTS {index.fts}").execute_if(dialect="sqlite"))


_register()
