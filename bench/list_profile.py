"""Where an orders list request spends its time: cProfile over the Flask test client.

    .venv/bin/python bench/list_profile.py --db sqlite:////tmp/orders_10k.sqlite
    .venv/bin/python bench/list_profile.py --db sqlite:////tmp/orders_1m.sqlite \
        --query flt0_status_equals=Pending

Requests `/admin/orders/` as a Full Administrator (as bench/baseline_bench.py does: an admin row
is added if the bench's is missing, nothing else is written) REQUESTS times under cProfile after a
warm-up, then prints each part's share of the request (cumulative time of the functions named
below, so a part includes what it calls: the SQL of the badges is in both "badges" and "SQL") and
the functions with the most time of their own. Shares, not milliseconds: the profiler slows small
calls more than big ones, and the machine's load moves both.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUESTS = 30
# Part -> (a file path's ending, function name) whose cumulative time it is.
PARTS = {
    "the whole request (Flask)": ("flask/app.py", "wsgi_app"),
    "login lookup (session + admin + role)": ("flask_login/login_manager.py", "_load_user"),
    "the page's rows: query and ORM load": ("admin/keyset.py", "get_list"),
    "template, all of it": ("flask/templating.py", "_render"),
    "  rows HTML (client names, payment status: one statement)": ("admin/lean_grid.py", "rows"),
    "  main menu with its badges": ("admin/menu.py", "main_menu"),
    "    pending orders badge (a capped COUNT)": ("admin/orders.py", "__html__"),
    "    failed side effects badge (a capped COUNT)": ("admin/side_effects.py", "__html__"),
    "  saved views menu (one query)": ("admin/list_views.py", "saved_views"),
    "  filter options (statuses, products)": ("admin/orders.py", "_get_filter_groups"),
    "every SQL statement, in the driver": ("sqlalchemy/engine/base.py", "_execute_context"),
    "session cookie read": ("flask/sessions.py", "open_session"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a database URL")
    parser.add_argument("--query", action="append", default=[],
                        help="name=value of the list's URL (repeatable)")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    query = dict(item.split("=", 1) for item in args.query)

    from bench.baseline_bench import prepare
    from tests.conftest import make_test_app

    app = make_test_app(args.db, SECRET_KEY=None)
    client = app.test_client(user=prepare(app)["admin"])
    for _ in range(5):
        assert client.get("/admin/orders/", query_string=query).status_code == 200
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        client.get("/admin/orders/", query_string=query)
    profile.disable()
    stats = pstats.Stats(profile)
    whole = _cumulative(stats, *PARTS["the whole request (Flask)"])
    print(f"{args.db} /admin/orders/?{'&'.join(args.query)}: {args.requests} requests, "
          f"{whole / args.requests * 1000:.1f} ms each under the profiler")
    print("| Part | share of the request |\n|---|---:|")
    for name, (path, function) in PARTS.items():
        print(f"| {name} | {_cumulative(stats, path, function) / whole * 100:.0f} % |")
    print("\nMost time of their own:")
    stats.sort_stats("tottime").print_stats(12)


def _cumulative(stats: pstats.Stats, path: str, function: str) -> float:
    return sum(entry[3] for (filename, _, name), entry in stats.stats.items()
               if filename.endswith(path) and name == function)


if __name__ == "__main__":
    main()
