"""Search at two sizes in one run: the navbar's intelligent search and the orders list's search
box, median ms per term at each size and the ratio large/small, the two sizes interleaved.

    .venv/bin/python bench/search_bench.py --sqlite-small /tmp/s10k.sqlite --sqlite-large /tmp/s1m.sqlite
    .venv/bin/python bench/search_bench.py --pg-small postgresql://postgres@127.0.0.1:5432/s10k \\
        --pg-large postgresql://postgres@127.0.0.1:5432/s1m

Each pair is two databases exactly as the CLI leaves them (`flask db upgrade`, `flask seed-demo
--orders N`; nothing ANALYZEd here): bench/README.md says how to copy the shared ones. The bench
adds one admin to each (to sign in). Terms are real values from the small database, cut to parts of
words (start, middle), so both sizes search for the same things; the demo's first clients are the
same at every size. Per term and repeat: the navbar search (actions/search.py: all five groups,
identity map cleared) and a GET of /admin/orders/?search=<term> (the whole page, Full
Administrator), small then large ("rows": the rows the list shows, "small / large" when they
differ). Then every statement both run at the large size is EXPLAINed (plain EXPLAIN, nothing
disabled): "index" or "SCAN".
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import db_name  # noqa: E402

REPEATS = 9
BENCH_ADMIN = "search-bench@example.com"
# The list page's statements that read the orders the search found (not its badges and menus).
_SEARCHED = re.compile(r"orders\.(client_id|id) IN|orders\.ip_address =|orders\.order_number =")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite-small", help="path of the small SQLite database")
    parser.add_argument("--sqlite-large", help="path of the large SQLite database")
    parser.add_argument("--pg-small", help="URL of the small PostgreSQL database")
    parser.add_argument("--pg-large", help="URL of the large PostgreSQL database")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    pairs = []
    if args.sqlite_small and args.sqlite_large:
        pairs.append((f"sqlite:///{args.sqlite_small}", f"sqlite:///{args.sqlite_large}"))
    if args.pg_small and args.pg_large:
        pairs.append((args.pg_small, args.pg_large))
    if not pairs:
        parser.error("give --sqlite-small and --sqlite-large, or --pg-small and --pg-large, or both")
    for small, large in pairs:
        run(small, large, args.repeats)


def run(small_url: str, large_url: str, repeats: int) -> None:
    sides = [prepared(small_url), prepared(large_url)]
    database = db_name(small_url)
    terms = pick_terms(sides[0]["app"])
    print(f"\n{database}: median of {repeats}, ms ({sides[0]['orders']:,} vs {sides[1]['orders']:,} orders)")
    print("| Term | What | navbar small | navbar large | ratio | list small | list large | ratio | rows |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {"navbar": [], "list": []}
    for term, what in terms:
        navbar, listed, shown = [[], []], [[], []], []
        for side in sides:  # warm up: caches, the statement cache; the rows shown at each size
            navbar_search(side, term)
            shown.append(list_search(side, term)[1])
        rows = shown[1] if shown[0] == shown[1] else f"{shown[0]} / {shown[1]}"
        for _ in range(repeats):
            for n, side in enumerate(sides):
                navbar[n].append(navbar_search(side, term))
                listed[n].append(list_search(side, term)[0])
        cells = []
        for name, timings in (("navbar", navbar), ("list", listed)):
            small, large = statistics.median(timings[0]), statistics.median(timings[1])
            ratios[name].append(large / small)
            cells += [f"{small:.2f}", f"{large:.2f}", f"{large / small:.2f}"]
        print(f"| `{term}` | {what} | {' | '.join(cells)} | {rows} |", flush=True)
    for name, values in ratios.items():
        print(f"{database}: {name} search, median ratio large/small {statistics.median(values):.2f}, "
              f"worst {max(values):.2f}", flush=True)
    print_plans(sides[1], [term for term, _ in terms])
    for side in sides:
        with side["app"].app_context():
            from extensions import db

            db.engine.dispose()


def prepared(url: str) -> dict:
    """The app on this database, with an admin to sign in as; how many orders it holds."""
    from sqlalchemy import func, select

    from extensions import db
    from models import AdminUser, Order
    from tests import factories
    from tests.conftest import make_test_app

    app = make_test_app(url)
    with app.app_context():
        admin = db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN)) or \
            factories.make_admin("Full Administrator", email=BENCH_ADMIN)
        db.session.commit()
        orders = db.session.scalar(select(func.max(Order.id)))
        assert admin.id
    return {"app": app, "client": app.test_client(user=admin), "orders": orders}


def pick_terms(app) -> list[tuple[str, str]]:
    """Parts of real values (the first client with a company, service with a username, domain),
    the order # and IP of the first order, a word in every email, two letters, and a miss."""
    from sqlalchemy import select
    from sqlalchemy.orm import defer

    from extensions import db
    from models import Client, Domain, Order, Service

    with app.app_context():
        client = db.session.scalar(
            select(Client).where(Client.company_name != "").order_by(Client.id).limit(1))
        service = db.session.scalar(select(Service).where(Service.username != "").order_by(Service.id)
                                    .limit(1).options(defer(Service.password)))
        domain = db.session.scalar(
            select(Domain).order_by(Domain.id).limit(1).options(defer(Domain.epp_code)))
        order = db.session.scalar(select(Order).order_by(Order.id).limit(1))
        local = client.email.split("@")[0]
        return [
            (f"{client.first_name} {client.last_name}", "full name"),
            (client.last_name[1:-1], "middle of a last name"),
            (local[2:] + "@", "middle of an email"),
            (client.company_name[2:9], "middle of a company"),
            (service.domain[2:], "end of a hostname"),
            (service.username[1:], "end of a username"),
            (domain.name[3:], "end of a domain"),
            ("example", "in every email"),
            (client.first_name[:2], "two letters (prefix)"),
            ("zzqxnothing", "a miss"),
            (str(order.order_number), "order # (exact)"),
            (order.ip_address, "IP (exact)"),
        ]


def navbar_search(side: dict, term: str) -> float:
    from actions.search import search
    from extensions import db

    with side["app"].app_context():
        db.session.expunge_all()
        started = time.perf_counter()
        search(db.session, term)
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed * 1000


def list_search(side: dict, term: str) -> tuple[float, int]:
    """One GET of the orders list searching `term`: (ms, rows shown)."""
    started = time.perf_counter()
    response = side["client"].get("/admin/orders/", query_string={"search": term})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (term, response.status_code)
    return elapsed * 1000, len(re.findall(r'class="col-order_number"', response.get_data(as_text=True)))


def print_plans(side: dict, terms: list[str]) -> None:
    """Every statement the navbar and list searches run at the large size, EXPLAINed."""
    from actions.search import order_list_search, search
    from extensions import db
    from tests.sql_support import query_plan, recorded_statements, sqlite_step_is_indexed

    with side["app"].app_context():
        with recorded_statements(db.engine) as captured:
            for term in terms:
                search(db.session, term)
                order_list_search(db.session, term)
        with recorded_statements(db.engine) as page:  # the list's own queries of the orders found
            for term in terms:
                side["client"].get("/admin/orders/", query_string={"search": term})
        captured += [(statement, parameters) for statement, parameters in page if _SEARCHED.search(statement)]
        connection = db.session.connection()
        scans, seen = 0, set()
        for statement, parameters in captured:
            if (statement, str(parameters)) in seen or not statement.lstrip().upper().startswith("SELECT"):
                continue
            seen.add((statement, str(parameters)))
            steps = query_plan(connection, statement, parameters)
            if connection.dialect.name == "postgresql":
                plan = " | ".join(step.strip() for step in steps)
                scanned = "Seq Scan" in plan
            else:
                plan = "; ".join(steps)
                # A table read without an index; not a read of a subquery's few rows.
                scanned = any(re.match(r"SCAN \w+", step) and not step.startswith("SCAN CONSTANT ROW")
                              and not sqlite_step_is_indexed(step) for step in steps)
            scans += scanned
            if scanned:
                print(f"  SCAN: {plan}\n    in {' '.join(statement.split())[:300]}")
        print(f"{db_name(str(connection.engine.url))}: {len(seen)} statements EXPLAINed, "
              f"{len(seen) - scans} through indexes, {scans} scans", flush=True)
        db.session.remove()


if __name__ == "__main__":
    main()
