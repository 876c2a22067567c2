"""The same page served by two source trees, requests alternating, one database: B's time over A's.

    .venv/bin/python bench/ab_bench.py --a /path/to/main --b . --db sqlite:////tmp/sb/s1m.sqlite \
        --requests 100 /admin/orders/ "/admin/orders/?flt0_status_equals=Cancelled"

Each tree runs in its own process (its own virtualenv's Python, `.venv/bin/python` under it) with
the Flask test client as a Full Administrator (bench/baseline_bench.py's `prepare`: an admin row is
added if missing, nothing else is written). Per path: 5 warm-up requests each, then --requests
rounds of one request to A and one to B; prints both medians and B/A. A vs the same tree (A/A)
shows the noise. Give it a copy of a database: both processes read it at once.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys, time
root, url = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from bench.baseline_bench import prepare
from tests.conftest import make_test_app
app = make_test_app(url, SECRET_KEY=None)
client = app.test_client(user=prepare(app)["admin"])
for line in sys.stdin:
    started = time.perf_counter()
    status = client.get(line.strip()).status_code
    print(f"{(time.perf_counter() - started) * 1000:.3f} {status}", flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="source tree A (the baseline)")
    parser.add_argument("--b", required=True, help="source tree B")
    parser.add_argument("--db", required=True, help="a database URL (a copy)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    trees = [Path(tree).resolve() for tree in (args.a, args.b)]
    children = [subprocess.Popen([str(tree / ".venv/bin/python"), "-c", CHILD, str(tree), args.db], cwd=tree,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for tree in trees]
    try:
        for path in args.paths:
            for child in children:
                for _ in range(5):
                    one(child, path)
            times = [[], []]
            for _ in range(args.requests):
                for side, child in enumerate(children):
                    times[side].append(one(child, path))
            a, b = (statistics.median(t) for t in times)
            print(f"{path}: A {a:.2f} ms, B {b:.2f} ms, B/A {b / a:.3f}", flush=True)
    finally:
        for child in children:
            child.stdin.close()
            child.wait()


def one(child, path: str) -> float:
    child.stdin.write(path + "\n")
    child.stdin.flush()
    ms, status = child.stdout.readline().split()
    if status != "200":
        sys.exit(f"{path}: HTTP {status}")
    return float(ms)


if __name__ == "__main__":
    main()
