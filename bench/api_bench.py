"""The WHMCS-compatible API under gunicorn (4 workers) against PostgreSQL, at two sizes in one run.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/api_bench.py
    ... bench/api_bench.py --orders-small 10000 --orders-large 1000000 --seconds 20
    ... bench/api_bench.py --copy-small orderdesk_10k --copy-large orderdesk_1m --seconds 20

For each size: a database exactly as the CLI leaves it, never ANALYZEd by the bench: either fresh
(`flask db upgrade`, `flask seed-demo --orders N`) or a copy (CREATE DATABASE ... TEMPLATE) of an
existing database the CLI built, brought to this code by `flask db upgrade` and `flask seed-demo
--orders <what it holds>` (adds nothing; seed-demo ends with ANALYZE on PostgreSQL, demo/seed.py;
`--upgrade-only` skips it); then
`flask create-api-credential` and gunicorn with 4 sync workers. Copies and fresh databases are
dropped afterwards. A copy is served with the caller's SECRET_KEY / ENCRYPTION_KEY /
ORDERDESK_INSTANCE: give the ones the copied databases were built with (their secrets are
encrypted with that key).
Printed:
1. GetOrders (limitnum 25) at the small and the large size, requested alternately by one client
   (so load on the shared machine hits both alike): median ms each and the ratio large/small.
2. Sustained load on the large database: AddOrder and GetOrders (limitnum 25), CONCURRENCY clients
   for --seconds each: calls per second, p50 and p99 in ms, and any non-success answer.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed_bench import fresh_postgres_database  # noqa: E402

FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app"]
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
CONCURRENCY = 8
RATIO_CALLS = 60


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders-small", type=int, default=10_000)
    parser.add_argument("--orders-large", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--copy-small", metavar="DATABASE", help="copy this database instead of seeding")
    parser.add_argument("--copy-large", metavar="DATABASE", help="copy this database instead of seeding")
    parser.add_argument(
        "--upgrade-only", action="store_true", help="copies: flask db upgrade only, no flask seed-demo"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        servers = []
        for size, template in ((args.orders_small, args.copy_small), (args.orders_large, args.copy_large)):
            if template:
                url = stack.enter_context(copied_postgres_database(template))
            else:
                url = stack.enter_context(fresh_postgres_database())
            env, size = prepared(url, None if template else size, args.upgrade_only)
            servers.append((size, stack.enter_context(gunicorn(env, args.workers))))
        ratio(servers)
        size, server = servers[1]
        print(
            f"\nSustained load at {size:,} orders: {CONCURRENCY} clients, {args.seconds:g} s each, "
            f"gunicorn {args.workers} workers, PostgreSQL"
        )
        print("| Call | calls/s | p50 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|")
        for name, make in (("GetOrders (limitnum 25)", get_orders), ("AddOrder", add_order)):
            load(name, server, make, args.seconds)
        for action, message in FIRST_ERRORS.items():
            print(f"first {action} error: {message}")


@contextmanager
def copied_postgres_database(template: str):
    """A copy of `template` (which must have no open connection) on the same server, dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(os.environ.get("BENCH_DATABASE_URL") or os.environ["TEST_DATABASE_URL"])
    server = server.set(drivername="postgresql+psycopg")
    name = f"apibench_{template}_{os.getpid()}_{uuid.uuid4().hex[:4]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    print(f"copied {template} in {time.perf_counter() - started:.0f} s", flush=True)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepared(url: str, orders: int | None, upgrade_only: bool = False) -> tuple[dict, int]:
    """The database brought to this schema and through `flask seed-demo` (a copy: to the orders it
    holds, so nothing is added), a credential made; returns the server's environment and how many
    orders the database holds."""
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "API_AUTH_FAILURE_LIMIT": "1000 per minute"}
    if orders is not None:  # fresh: its own keys (a copy keeps the caller's, which encrypted its secrets)
        env.update(SECRET_KEY="api-bench", ORDERDESK_INSTANCE=str(ROOT / "instance" / "api-bench"))
    started = time.perf_counter()
    subprocess.run([*FLASK, "db", "upgrade"], env=env, check=True, capture_output=True)
    psql = ["psql", url.replace("postgresql+psycopg", "postgresql"), "-Atc"]
    if orders is None:  # a copy: this CLI's top-up adds nothing, and leaves what seed-demo leaves
        orders = int(subprocess.run([*psql, "SELECT count(*) FROM orders"], check=True, capture_output=True,
                                    text=True).stdout)
        if upgrade_only:
            print("(copy upgraded only: flask seed-demo not run on it)", flush=True)
            return _with_credential(env, orders, started)
    seed = [*FLASK, "seed-demo", "--orders", str(orders)]
    subprocess.run(seed, env=env, check=True, capture_output=True)
    return _with_credential(env, orders, started)


def _with_credential(env: dict, orders: int, started: float) -> tuple[dict, int]:
    out = subprocess.run(
        [*FLASK, "create-api-credential", "--role", "Full Administrator", "--allow-ip", "127.0.0.1"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    env["BENCH_IDENTIFIER"] = re.search(r"^identifier: (\S+)", out, re.M).group(1)
    env["BENCH_SECRET"] = re.search(r"^secret: (\S+)", out, re.M).group(1)
    print(f"{orders:,} orders: database ready in {time.perf_counter() - started:.0f} s", flush=True)
    return env, orders


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict, workers: int):
    port = _free_port()
    process = subprocess.Popen(
        [
            GUNICORN,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/includes/api.openapi.json", timeout=10)
                break
            except requests.RequestException:  # workers still booting
                time.sleep(0.5)
        yield {
            "url": f"{base}/includes/api.php",
            "identifier": env["BENCH_IDENTIFIER"],
            "secret": env["BENCH_SECRET"],
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def _auth(server: dict) -> dict:
    return {"identifier": server["identifier"], "secret": server["secret"]}


def get_orders(server: dict, n: int) -> dict:
    return {**_auth(server), "action": "GetOrders", "limitnum": "25"}


def add_order(server: dict, n: int) -> dict:
    # Demo clients start at id 1; product 1 (Starter, needs a hostname) exists after seed-demo.
    return {
        **_auth(server),
        "action": "AddOrder",
        "clientid": str(1 + n % 500),
        "paymentmethod": "banktransfer",
        "pid[0]": "1",
        "domain[0]": f"bench{n}.example.com",
        "billingcycle[0]": "monthly",
        "noemail": "1",
        "noinvoiceemail": "1",
    }


FIRST_ERRORS: dict[str, str] = {}


def _timed(session: requests.Session, server: dict, data: dict) -> tuple[float, bool]:
    started = time.perf_counter()
    body = session.post(server["url"], data=data, timeout=60).json()
    ok = body.get("result") == "success"
    if not ok:
        FIRST_ERRORS.setdefault(data["action"], body.get("message", ""))
    server["last"] = body
    return (time.perf_counter() - started) * 1000, ok


def ratio(servers) -> None:
    (small_size, small), (large_size, large) = servers
    session = requests.Session()
    times = {small_size: [], large_size: []}
    for size, server in servers:  # warm every worker's verified-secret cache and statement cache
        for _ in range(12):
            _timed(session, server, get_orders(server, 0))
        # totalresults is exact: the number of orders in the database, not an estimate
        assert server["last"]["totalresults"] == size, (server["last"]["totalresults"], size)
    for _ in range(RATIO_CALLS):
        for size, server in ((small_size, small), (large_size, large)):
            ms, ok = _timed(session, server, get_orders(server, 0))
            assert ok
            times[size].append(ms)
    a, b = statistics.median(times[small_size]), statistics.median(times[large_size])
    print(
        f"\nGetOrders (limitnum 25), median of {RATIO_CALLS} alternating calls: {small_size:,} orders "
        f"{a:.1f} ms, {large_size:,} orders {b:.1f} ms, ratio large/small {b / a:.2f}"
    )


def load(name: str, server: dict, make, seconds: float) -> None:
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def client():
        session = requests.Session()
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            ms, ok = _timed(session, server, make(server, n))
            with lock:
                latencies.append(ms)
                errors[0] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"| {name} | {len(latencies) / elapsed:.0f} | {p50:.1f} | {p99:.1f} | {errors[0]} |", flush=True)


if __name__ == "__main__":
    main()
