"""The issue's scenarios at 10,000 and 1,000,000 orders, measured in one run, the sizes alternating.

    .venv/bin/python bench/scenarios.py --list                          # the scenarios' names
    .venv/bin/python bench/scenarios.py --small URL --large URL --all   # every scenario
    .venv/bin/python bench/scenarios.py --small URL --large URL --scenario "list default" \\
        --scenario "search: IP"                                         # one command per scenario
    .venv/bin/python bench/scenarios.py --small URL --large URL --all --memory   # + the RSS check

Give it COPIES of databases exactly as the CLI leaves them (`flask db upgrade` + `flask seed-demo
--orders N`; bench/README.md says how to copy the shared ones): nothing here runs ANALYZE, but the
first run adds the same fixture to both, through the product's own actions (bench/pages_bench.py:
an order of 20 items and 50 events, a client with 5,000 placed orders, the bench's admin; `--prepare`
only does that, e.g. for both databases in parallel). Every run of Add New Order's POST places one
more order, and the bulk scenarios change orders inside a transaction they roll back (then, on
PostgreSQL, VACUUM the tables they wrote: scenario_cases.vacuum_rolled_back_rows).

Per scenario: a warm-up at each size, its SQL statements counted at each size (the fewer of two
runs: statements_of), then --repeats
rounds of small then large; prints the median ms at each size and the ratio large/small (target:
1.25), then the bulk action against the raw UPDATE of the same rows (target: within 3x, under 1 s
for 10,000, under 5 s for 100,000). Pages go through the Flask test client as a Full Administrator.

--memory then starts a fresh process on the large database alone that serves every chosen
scenario --repeats times (a bulk scenario once) and reports its resident memory (psutil) and peak
(ru_maxrss): the issue's target is under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import db_name  # noqa: E402

REPEATS = 7
GROWTH_TARGET = 1.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", help="database URL, ~10,000 orders (a copy)")
    parser.add_argument("--large", help="database URL, ~1,000,000 orders (a copy)")
    parser.add_argument("--scenario", action="append", default=[], help="a scenario's name (repeatable)")
    parser.add_argument("--all", action="store_true", help="every scenario")
    parser.add_argument("--list", action="store_true", help="print the scenarios' names and stop")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--prepare", action="store_true", help="only add the fixture (to each URL given)")
    parser.add_argument("--memory", action="store_true", help="then the RSS of a process serving them")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the --memory child: one database
    args = parser.parse_args()
    if args.list:
        print("\n".join(names_of(statuses_of_reference_data())))
        return
    if args.serve:
        serve_and_measure(args.serve, args.scenario, args.repeats)
        return
    urls = [url for url in (args.small, args.large) if url]
    if args.prepare:
        for url in urls:
            open_side(url)
        return
    if len(urls) != 2 or not (args.all or args.scenario):
        parser.error("give --small and --large, and --all or --scenario NAME")
    sides = [open_side(url) for url in urls]
    chosen = choose(sides[0]["facts"]["statuses"], args.all, args.scenario, parser)
    run(sides, chosen, args.repeats)
    if args.memory:
        command = [sys.executable, __file__, "--serve", args.large, "--repeats", str(args.repeats)]
        for name in chosen:
            command += ["--scenario", name]
        print(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip())


def statuses_of_reference_data() -> list[str]:
    from models import OrderStatus

    return [str(status) for status in OrderStatus]  # the core ones: the demo adds none


def names_of(statuses: list[str]) -> list[str]:
    from bench.scenario_cases import scenarios

    return list(scenarios(statuses))


def choose(statuses: list[str], every: bool, names: list[str], parser) -> list[str]:
    known = names_of(statuses)
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; --list shows them")
    return known if every else names


def open_side(url: str) -> dict:
    """The app on this database (fixture added once), a client signed in as the bench's admin."""
    from bench.pages_bench import fixture
    from bench.scenario_cases import read_facts
    from extensions import db
    from tests.conftest import make_test_app

    app = make_test_app(url, SECRET_KEY=None)  # the instance's key, which encrypted the CLI's rows
    made = fixture(app)
    with app.app_context():
        facts = read_facts(db.session, made)
        db.session.remove()
    return {"app": app, "facts": facts, "client": app.test_client(user=made["admin"]), "url": url}


def run(sides: list[dict], chosen: list[str], repeats: int) -> None:
    from bench.scenario_cases import scenarios
    from extensions import db

    cases = scenarios(sides[0]["facts"]["statuses"])
    small, large = (side["facts"]["orders"] for side in sides)
    print(f"\n{db_name(sides[0]['url'])}: {small:,} vs {large:,} orders, median of {repeats} rounds "
          f"(small then large, alternating), load average {load_average()}", flush=True)
    print(f"| Scenario | ms at {small:,} | ms at {large:,} | ratio | statements {small:,} | "
          f"statements {large:,} |")
    print("|---|---:|---:|---:|---:|---:|")
    medians, misses = {}, []
    for name in chosen:
        scenario = cases[name]
        counts = []
        for side in sides:
            scenario(side, side["facts"])  # warm-up
            with side["app"].app_context():
                engine = db.engine
            counts.append(statements_of(scenario, side, engine))
        times = [[], []]
        for _ in range(repeats):
            for n, side in enumerate(sides):
                times[n].append(scenario(side, side["facts"]))
        ms = [statistics.median(t) if None not in t else None for t in times]
        medians[name] = ms
        ratio = ms[1] / ms[0] if None not in ms else None
        if ratio is not None and ratio > GROWTH_TARGET:
            misses.append(name)
        print(f"| {name} | {cell(ms[0])} | {cell(ms[1])} | {cell(ratio, '.2f')} | "
              f"{cell(counts[0], 'd')} | {cell(counts[1], 'd')} |", flush=True)
    print(f"{db_name(sides[0]['url'])}: {len(misses)} scenario(s) above {GROWTH_TARGET}x: "
          f"{', '.join(misses) or 'none'}")
    print_bulk_against_raw(medians, (small, large))


def statements_of(scenario, side: dict, engine) -> int | None:
    """The statements one run sends: the fewer of two runs in a row. Once a minute a request also
    writes the admin session's last-seen time (actions/admin_sessions.py TOUCH_INTERVAL: an UPDATE
    and the admin read again after its commit), whichever page it is."""
    from tests.sql_support import recorded_statements

    counts = []
    for _ in range(2):
        with recorded_statements(engine) as captured:
            ran = scenario(side, side["facts"])
        if ran is None:
            return None
        # Not the VACUUM a bulk scenario runs after itself on PostgreSQL (scenario_cases.py).
        counts.append(sum(not statement.startswith("VACUUM") for statement, _ in captured))
    return min(counts)


def cell(value, spec: str = ".1f") -> str:
    return "n/a" if value is None else format(value, spec)


def print_bulk_against_raw(medians: dict, sizes) -> None:
    """Each bulk scenario next to the raw UPDATE of the same rows, at each size run."""
    from bench.scenario_cases import AGAINST_RAW

    pairs = [(bulk, raw) for bulk, raw in AGAINST_RAW.items() if bulk in medians and raw in medians]
    if not pairs:
        return
    print("\n| Bulk change | orders in the database | action ms | raw UPDATE ms | action / raw |")
    print("|---|---:|---:|---:|---:|")
    for bulk, raw in pairs:
        for n, size in enumerate(sizes):
            action, plain = medians[bulk][n], medians[raw][n]
            if action is not None and plain is not None:
                print(f"| {bulk.removeprefix('bulk Cancel: ')} | {size:,} | {action:.1f} | {plain:.1f} | "
                      f"{action / plain:.2f} |")


def load_average() -> str:
    import os

    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def serve_and_measure(url: str, chosen: list[str], repeats: int) -> None:
    """The --memory child: this process serves every chosen scenario on one database."""
    import psutil

    from bench.scenario_cases import AGAINST_RAW, scenarios

    side = open_side(url)
    cases = scenarios(side["facts"]["statuses"])
    # The bulk runs once each: every rolled-back bulk leaves its row versions dead on PostgreSQL,
    # so repeating them measures the bloat (a 100,000-order UPDATE grew past 9 minutes), not memory.
    bulks = set(AGAINST_RAW) | set(AGAINST_RAW.values())
    for round_ in range(repeats):
        for name in chosen:
            if round_ == 0 or name not in bulks:
                cases[name](side, side["facts"])
    rss = psutil.Process().memory_info().rss / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    report = {"database": db_name(url), "orders": side["facts"]["orders"], "scenarios": len(chosen),
              "rounds": repeats, "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1)}
    print(f"memory of one process after serving every scenario: {json.dumps(report)}")


if __name__ == "__main__":
    main()
