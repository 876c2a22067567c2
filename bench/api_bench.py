"""The WHMCS-compatible API under gunicorn (4 workers) against PostgreSQL, at two sizes in one run.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/api_bench.py
    ... bench/api_bench.py --orders-small 10000 --orders-large 1000000 --seconds 20

For each size: a fresh database built exactly as the CLI leaves it (`flask db upgrade`,
`flask seed-demo --orders N`, `flask create-api-credential`), then gunicorn with 4 sync workers.
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
    args = parser.parse_args()
    with ExitStack() as stack:
        servers = []
        for size in (args.orders_small, args.orders_large):
            url = stack.enter_context(fresh_postgres_database())
            env = prepared(url, size)
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


def prepared(url: str, orders: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "api-bench",
        "REDIS_URL": "",
        "ORDERDESK_INSTANCE": str(ROOT / "instance" / "api-bench"),
        "API_AUTH_FAILURE_LIMIT": "1000 per minute",
    }
    started = time.perf_counter()
    subprocess.run([*FLASK, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*FLASK, "seed-demo", "--orders", str(orders)], env=env, check=True, capture_output=True)
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
    return env


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
    return (time.perf_counter() - started) * 1000, ok


def ratio(servers) -> None:
    (small_size, small), (large_size, large) = servers
    session = requests.Session()
    times = {small_size: [], large_size: []}
    for server in (small, large):  # warm every worker's verified-secret cache and statement cache
        for _ in range(12):
            _timed(session, server, get_orders(server, 0))
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
