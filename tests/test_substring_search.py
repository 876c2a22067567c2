"""Substring search (models/substring_index.py): any part of a word finds clients, services and
domains in the navbar search and the orders list's search box, on SQLite (FTS5 trigram tables kept
by triggers) and PostgreSQL (pg_trgm GIN indexes); order #, id and IP stay exact."""

import pytest
from sqlalchemy import delete, insert, text, update

from actions.search import LIST_MATCHES, order_list_search, search
from extensions import db
from models import Client, Domain, Order, Service
from tests import factories
from tests.sql_support import query_plan, recorded_statements, sqlite_step_is_indexed


@pytest.fixture
def data(session):
    emile = factories.make_client(first_name="Émile", last_name="Zola", email="EZola@Rougon.example",
                                  company_name="Macquart Publishing")
    ada = factories.make_client(first_name="Ada", last_name="Lovelace", email="countess@analytical.example",
                                company_name="Difference Works")
    mine = factories.make_order(client=ada, domains=["Pending"])
    mine.services[0].domain, mine.services[0].username = "engines.babbage.example", "ada4babbage"
    mine.domains[0].name = "thinking-machines.org"
    theirs = factories.make_order(client=emile)
    theirs.ip_address = "203.0.113.9"
    session.commit()
    return dict(emile=emile, ada=ada, mine=mine, theirs=theirs, service=mine.services[0],
                domain=mine.domains[0])


def ids(rows):
    return [row.id for row in rows]


def test_each_field_is_found_by_its_start_middle_and_end_in_any_case(session, data):
    ada, emile = data["ada"], data["emile"]
    clients = {  # first, last, "first last", company, email: start, middle, end of a word
        ada: ["Ada Lovelace", "ovela", "LACE", "lovelace ada", "differ", "ference", "WORKS", "countess@",
              "ntes", "analytical.example", "lytic"],
        emile: ["émile", "ÉMILE", "mile", "ZOL", "ola", "mile zola", "acquar", "ublishing", "rougon.ex",
                "ezola@rou"],
    }
    for client, terms in clients.items():
        for term in terms:
            assert ids(search(session, term).clients) == [client.id], term
    for term in ("abbage.ex", "ENGINES", "bage.exam", "4babb", "babbage"):
        assert ids(search(session, term).services) == [data["service"].id], term
    for term in ("machines", "-mach", "ING-MACH", "s.org"):
        assert ids(search(session, term).domains) == [data["domain"].id], term
    # Misses: a part that is not there, words in two different clients, accents not folded.
    for term in ("lovelacez", "ada zola", "emile", "works ltd", "babbage.org", "machinesx"):
        found = search(session, term)
        assert found.clients == found.services == found.domains == [], term


def test_the_clients_orders_come_with_them(session, data):
    assert ids(search(session, "ovela").orders) == [data["mine"].id]


@pytest.mark.parametrize("model", [Client, Service, Domain])
def test_the_index_follows_inserts_updates_and_deletes_of_any_writer(session, data, model):
    """The ORM, a set-based UPDATE and an executemany INSERT (seed-demo's way) are all followed."""
    row = {Client: data["ada"], Service: data["service"], Domain: data["domain"]}[model]
    column = {Client: "company_name", Service: "username", Domain: "name"}[model]
    kind = {Client: "clients", Service: "services", Domain: "domains"}[model]

    def found(term):
        return ids(getattr(search(session, term), kind))

    setattr(row, column, "quasarwidget")
    session.commit()
    assert found("asarwid") == [row.id]
    session.execute(update(model).where(model.id == row.id).values({column: "nebulagizmo"}))
    session.commit()
    assert found("asarwid") == [] and found("ulagiz") == [row.id]
    copies = [{c.key: getattr(row, c.key) for c in model.__table__.columns if c.key != "id"}
              for _ in range(2)]
    for n, copy in enumerate(copies):
        copy[column] = f"pulsar{n}thing"
        if model is Client:
            copy["email"] = f"copy{n}@pulsar.example"
    session.execute(insert(model), copies)
    session.commit()
    assert len(found("ulsar")) == 2
    session.execute(delete(model).where(getattr(model, column).like("pulsar%")))
    session.execute(delete(Service).where(Service.id == -1))  # nothing: no trigger error either
    session.commit()
    assert found("ulsar") == [] and found("ulagiz") == [row.id]


HOSTILE = ['%', '%%%', '_', '___', "'", "''; DROP TABLE clients; --", '"', '"ada"', '***', 'ada*', 'lov*',
           'NEAR', 'ada NEAR lovelace', 'NEAR(ada lovelace)', 'ada OR zola', 'ada AND zola', 'NOT ada',
           '^ada', 'first_name:ada', '{first_name}:ada', '(ada)', 'ada\x00lace', '\x00', '\\', '\\%',
           'a' * 5000, 'ada ' * 1250, '💥💥💥', '\u202e']


@pytest.mark.parametrize("term", HOSTILE)
def test_hostile_terms_never_fail_and_never_match_everything(session, data, term):
    everyone = {data["ada"].id, data["emile"].id}
    found = search(session, term)
    assert set(ids(found.clients)) != everyone and len(found.orders) < 2
    listed = session.scalars(
        db.select(Order.id).where(order_list_search(session, term).where)).all()
    assert len(listed) < 2


def test_hostile_terms_through_the_pages(admin_client, data):
    for term in HOSTILE:
        if "\x00" in term:  # refused by the request guard before any search (test_hardening.py)
            continue
        for url in ("/admin/search/", "/admin/search/suggest/", "/admin/orders/"):
            response = admin_client.get(url, query_string={"q": term, "search": term})
            assert response.status_code == 200, (url, term)


def test_the_list_search_sends_each_kind_of_term_to_its_own_lookup(session, data):
    mine, theirs = data["mine"], data["theirs"]

    def listed(term):
        found = order_list_search(session, term)
        return found.kind, set(session.scalars(db.select(Order.id).where(found.where)))

    assert listed("Lovelace") == ("client", {mine.id})  # a name was taken as an IP before
    assert listed("ada love") == ("client", {mine.id})
    assert listed("ovela") == ("client", {mine.id})
    assert listed("countess@analytical.example") == ("client", {mine.id})
    assert listed("@rougon") == ("client", {theirs.id})
    assert listed("Macquart") == ("client", {theirs.id})
    assert listed("thinking-machines.org") == ("domain", {mine.id})
    assert listed("babbage.example") == ("domain", {mine.id})
    # Exact, as before: the IP, the order #, the id; a part of one matches nothing.
    assert listed("203.0.113.9") == ("IP address", {theirs.id})
    assert listed("203.0.113.90")[1] == set() and listed("203.0.113")[1] == set()
    assert listed(str(mine.order_number)) == ("order number", {mine.id})
    assert listed(str(mine.order_number)[:6])[1] == set()
    assert mine.id in listed(str(mine.id))[1]
    assert listed("99999999999999999999") == ("order number", set())


def test_the_list_page_finds_orders_by_part_of_a_name(admin_client, data):
    page = admin_client.get("/admin/orders/?search=ovelac").get_data(as_text=True)
    assert f"/admin/orders/details/?id={data['mine'].id}" in page
    assert f"/admin/orders/details/?id={data['theirs'].id}" not in page
    assert "client name, email, domain" in page


def test_more_matching_clients_than_the_list_takes_is_said(session, admin_client):
    for n in range(LIST_MATCHES + 1):
        factories.make_client(first_name="Common", last_name=f"Name{n}", email=f"common{n}@x.example")
    session.commit()
    found = order_list_search(session, "ommon")
    assert found.note and f"More than {LIST_MATCHES} clients" in found.note
    page = admin_client.get("/admin/orders/?search=ommon").get_data(as_text=True)
    assert f"More than {LIST_MATCHES} clients match" in page
    assert order_list_search(session, "name7").note is None


def test_statement_counts_do_not_grow_with_the_matches(session, data):
    """Once a group is full (10 clients, whose newest orders are one indexed query each), more
    matches add no statement: 12 matching clients and 40 cost the same."""
    def add_clients(first, last):
        for n in range(first, last):
            factories.make_order(client=factories.make_client(last_name="Samename", email=f"s{n}@x.example"))
        session.commit()
        session.expunge_all()
        with recorded_statements(db.engine) as captured:
            search(session, "samename")
            search(session, "amenam")
            order_list_search(session, "samename")
            order_list_search(session, "amenam")
        return len(captured)

    assert add_clients(0, 12) == add_clients(12, 40)


def test_explain_shows_the_trigram_index_serves_each_substring_lookup(session, data):
    """SQLite: each substring lookup reads its FTS5 table through MATCH (never a full read) and
    the rows by primary key. PostgreSQL: with sequential and plain index scans priced out (the
    tables are tiny here), the plan is a Bitmap Index Scan of the GIN trigram index; without it
    the plan would still be a Seq Scan."""
    with recorded_statements(db.engine) as captured:
        search(session, "ovela")
        search(session, "abbage.ex")
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
    used = set()
    for statement, parameters in captured:
        if "_fts" not in statement and "LIKE '%" not in statement and "LIKE %" not in statement:
            continue
        plan = query_plan(connection, statement, parameters)
        if postgresql:
            assert "Seq Scan" not in "\n".join(plan), plan
            used |= {name for name in ("clients", "services", "domains")
                     if f"ix_{name}_substring_trgm" in "\n".join(plan)}
        else:
            assert all(map(sqlite_step_is_indexed, plan)), plan
            used |= {name for name in ("clients", "services", "domains")
                     if any(step.startswith(f"SCAN {name}_fts VIRTUAL TABLE") for step in plan)}
    assert used == {"clients", "services", "domains"}


def test_the_sqlite_tables_and_triggers_exist_as_the_migration_makes_them(session):
    if db.engine.dialect.name != "sqlite":
        names = set(session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'")))
        assert names == {f"ix_{table}_substring_trgm" for table in ("clients", "services", "domains")}
        return
    names = set(session.scalars(text("SELECT name FROM sqlite_master")))
    for table in ("clients", "services", "domains"):
        assert {f"{table}_fts", f"{table}_fts_insert", f"{table}_fts_update", f"{table}_fts_delete"} <= names


def test_seed_demo_batches_are_indexed_as_they_are_written(session):
    """seed-demo writes with executemany (SQLite) and COPY (PostgreSQL): every client, service and
    domain it writes is found by a part of its name."""
    from demo import seed_demo

    seed_demo(session, orders=30)
    session.commit()
    client = session.scalar(db.select(Client).order_by(Client.id.desc()).limit(1))
    service = session.scalar(db.select(Service).where(Service.domain != "").order_by(Service.id.desc())
                             .limit(1).options(db.defer(Service.password)))
    domain = session.scalar(db.select(Domain).order_by(Domain.id.desc()).limit(1)
                            .options(db.defer(Domain.epp_code)))
    assert client.id in ids(search(session, client.email[1:-1]).clients)
    assert service.id in ids(search(session, service.domain[1:]).services)
    assert domain.id in ids(search(session, domain.name[1:]).domains)
    if db.engine.dialect.name == "sqlite":  # one index entry per row, no more, no less
        for model, index in (Client, "clients_fts"), (Service, "services_fts"), (Domain, "domains_fts"):
            indexed = session.scalar(text(f"SELECT count(*) FROM {index}_docsize"))
            assert indexed == session.scalar(db.select(db.func.count()).select_from(model))
    # The load ran with the SQLite triggers off (models.substring_index.indexing_deferred): they
    # are back, and a client written after it is indexed as it is written.
    test_the_sqlite_tables_and_triggers_exist_as_the_migration_makes_them(session)
    later = factories.make_client(first_name="Hypatia", last_name="Alexandrina", email="h@library.example")
    session.commit()
    assert ids(search(session, "ypati").clients) == [later.id]


def test_a_failed_bulk_load_still_leaves_every_row_indexed_and_the_triggers_back(session, data):
    from models.substring_index import indexing_deferred

    with pytest.raises(RuntimeError), indexing_deferred(session):
        factories.make_client(first_name="Grace", last_name="Hopper", email="grace@cobol.example")
        session.commit()  # a batch the load completed
        factories.make_client(first_name="Never", last_name="Written", email="never@lost.example")
        raise RuntimeError("the load fails in its next batch")
    session.rollback()  # as seed-demo's caller does when it fails (a no-op after SQLite's rebuild)
    assert len(ids(search(session, "opper").clients)) == 1
    assert search(session, "ritten").clients == []
    test_the_sqlite_tables_and_triggers_exist_as_the_migration_makes_them(session)


def test_the_list_binds_no_more_values_for_a_client_with_many_orders(session):
    """A client's orders are found through the (client_id, id) index: the list's condition binds
    one value per matching client on SQLite and one array on PostgreSQL, however many orders they
    have (it bound one value per order: 1,435 for a name's 100 clients at 1,000,000 orders)."""
    busy = factories.make_client(first_name="Busy", last_name="Buyer", email="busy@x.example")
    quiet = factories.make_client(first_name="Quiet", last_name="Buyer", email="quiet@x.example")
    orders = [factories.make_order(client=busy) for _ in range(30)] + [factories.make_order(client=quiet)]
    session.commit()
    found = order_list_search(session, "uyer")
    dialect = session.get_bind().dialect
    sent = db.select(Order.id).where(found.where).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}).params  # as executed
    assert len(sent) == (1 if dialect.name == "postgresql" else 2)
    assert set(session.scalars(db.select(Order.id).where(found.where))) == {o.id for o in orders}
