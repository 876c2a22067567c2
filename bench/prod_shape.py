"""The production shape of docs/deploy.md on this machine, load-tested with locust.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
      .venv/bin/python bench/prod_shape.py          # 10,000 orders; 1, 2, 4 processes, 120 s each
    ... bench/prod_shape.py --orders 100000 --seconds 300 --rounds 3 --users 16 --processes 2,4
    ... bench/prod_shape.py --worker-class gthread --threads 4

What it starts, exactly as docs/deploy.md describes a deployment:
- PostgreSQL: a fresh database on the local server, built by the CLI (`flask db upgrade`,
  `flask seed-demo --orders N`, `flask create-admin`, `flask create-api-credential`), dropped after.
- Redis: the local server, database --redis-db (flushed before and after: choose one nothing else uses).
- gunicorn with --processes workers of --worker-class (`app:create_app()`), 2 RQ workers
  (`flask worker`, each with its sweeper), ORDERDESK_ENV=production with SECRET_KEY and ENCRYPTION_KEY set.
- The outside world the side effects reach: the operator's provisioning webhook (the demo's server
  and products are pointed at a local signed-webhook receiver: the one setup step that is not a CLI
  command) and an SMTP server (aiosmtpd) for the emails.

Then locust (bench/locustfile.py, headless) against 127.0.0.1 with --users simulated admins: list
views, filters, search, order pages, Accept and Cancel, and AddOrder through the API. Each process
count gets --seconds of load in all, in --rounds rounds interleaved with the other counts (1, 2, 4,
then 4, 2, 1, ...), so the comparison comes from one run on a machine whose load drifts. Printed
per process count: requests/s (median of its rounds), the CPU the machine, gunicorn and locust
used (what bounds the throughput), and per request kind the count, errors, p50/p95/p99 over all
its rounds' requests and, for list views, p99/p50 (bench/prod_shape_report.py); then one
summary table. After each round, when the outbox has drained, it counts the side effects the
round created against what the receivers got: each succeeded side effect must have arrived
exactly once (by its idempotency key: webhook header, email X-Orderdesk-Side-Effect), none failed,
none still queued, nothing arrived that no side effect sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.prod_shape_report import (  # noqa: E402
    CpuMeter,
    Round,
    Timings,
    add_accounting,
    print_process_count,
    print_summary,
)
from bench.seed_bench import fresh_postgres_database  # noqa: E402
from tests.modules_support.http_stub import StubServer  # noqa: E402
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState  # noqa: E402

BIN = ROOT / ".venv" / "bin"
FLASK = [str(BIN / "flask"), "--app", "app"]
ADMIN_EMAIL = "load-admin@example.com"
ADMIN_PASSWORD = "load-test-Pw-7s9x!q"
WEBHOOK_SECRET = "prod-shape-webhook-secret"
DRAIN_SECONDS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=120, help="load time per process count")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds per process count, interleaved (1,2,4 then 4,2,1 ...)")
    parser.add_argument("--users", type=int, default=12, help="simulated admins")
    parser.add_argument("--processes", default="1,2,4", help="gunicorn process counts, compared in one run")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn process (gthread)")
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=3)
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]
    seconds = max(10, args.seconds // args.rounds)
    order = [n for r in range(args.rounds) for n in (counts if r % 2 == 0 else counts[::-1])]

    with ExitStack() as stack:
        url = stack.enter_context(fresh_postgres_database())
        redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
        flush_redis(redis_url)
        stack.callback(flush_redis, redis_url)
        receiver = ReceiverState(WEBHOOK_SECRET)
        webhook = stack.enter_context(StubServer(ReceiverHandler, receiver))
        mailbox = stack.enter_context(smtp_server())
        env = prepared(url, redis_url, mailbox.port, args.orders)
        point_servers_at(env, webhook.url)
        stack.enter_context(rq_workers(env, args.rq_workers))
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="orderdesk-locust-"))
        rounds: dict[int, list[Round]] = {n: [] for n in counts}
        timings = {n: Timings() for n in counts}
        accounting: dict[int, dict] = {n: {} for n in counts}
        drained: dict[int, list[float]] = {n: [] for n in counts}
        for number, processes in enumerate(order):
            first_effect, before = max_side_effect_id(env), arrivals(receiver, mailbox)
            timings_file = f"{folder}/round{number}.tsv"
            with gunicorn(env, processes, args.worker_class, args.threads) as (base, pid):
                load_before, meter = os.getloadavg()[0], CpuMeter(pid)
                elapsed = run_locust({**env, "BENCH_TIMINGS": timings_file}, base, args.users, seconds)
                cpu, load_after = meter.stop(), os.getloadavg()[0]
            drained[processes].append(drain(env, first_effect))
            accounting[processes] = add_accounting(
                accounting[processes], account(env, first_effect, receiver, mailbox, before))
            timings[processes].read(timings_file)
            requests_done = sum(1 for _ in open(timings_file))
            rounds[processes].append(Round(processes, elapsed, requests_done, cpu, load_before, load_after))
            print(f"round {number + 1}/{len(order)}: {processes} process(es), "
                  f"{requests_done / elapsed:.1f} requests/s", flush=True)
        describe = (f"{args.worker_class} workers{f' x {args.threads} threads' if args.threads > 1 else ''}, "
                    f"{args.rq_workers} RQ workers, {args.users} users, {args.rounds} rounds of {seconds} s")
        for processes in counts:
            print_process_count(processes, rounds[processes], timings[processes], accounting[processes],
                                drained[processes], describe)
        print_summary([(n, rounds[n], timings[n], accounting[n]) for n in counts])


def flush_redis(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def prepared(url: str, redis_url: str, smtp_port: int, orders: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "ORDERDESK_ENV": "production",
        "SECRET_KEY": Fernet.generate_key().decode(),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ORDERDESK_INSTANCE": tempfile.mkdtemp(prefix="orderdesk-prod-shape-"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "API_AUTH_FAILURE_LIMIT": "1000 per minute",
        "BENCH_ORDERS": str(orders),
    }
    started = time.perf_counter()
    cli(env, "db", "upgrade")
    cli(env, "seed-demo", "--orders", str(orders))
    cli(env, "create-admin", ADMIN_EMAIL, "--password", ADMIN_PASSWORD, "--role", "Full Administrator")
    out = cli(env, "create-api-credential", "--role", "Full Administrator", "--allow-ip", "127.0.0.1")
    env["BENCH_API_IDENTIFIER"] = re.search(r"^identifier: (\S+)", out, re.M).group(1)
    env["BENCH_API_SECRET"] = re.search(r"^secret: (\S+)", out, re.M).group(1)
    env["BENCH_ADMIN_EMAIL"], env["BENCH_ADMIN_PASSWORD"] = ADMIN_EMAIL, ADMIN_PASSWORD
    facts = in_app(env, """
from sqlalchemy import func, select
from models import Client, Product
print(db.session.scalar(select(func.max(Client.id))))
print(db.session.scalar(select(Product.id).where(Product.name == "Starter")))
""").split()
    env["BENCH_CLIENTS"], env["BENCH_PRODUCT"] = facts
    print(f"{orders:,} orders: database ready in {time.perf_counter() - started:.0f} s", flush=True)
    return env


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([*FLASK, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return done.stdout


def in_app(env: dict, code: str) -> str:
    prologue = ("from app import create_app\nfrom extensions import db\n"
                "app = create_app()\napp.app_context().push()\n")
    return subprocess.run([str(BIN / "python"), "-c", prologue + code], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def point_servers_at(env: dict, url: str) -> None:
    """The demo provisions by hand ("manual"); here every server and product uses the signed webhook."""
    in_app(env, f"""
from sqlalchemy import select, update
from models import Product, Server
for server in db.session.scalars(select(Server)):
    server.module, server.url, server.secret = "webhook", {url!r}, {WEBHOOK_SECRET!r}
db.session.execute(update(Product).where(Product.module == "manual").values(module="webhook"))
db.session.commit()
""")


class Mailbox:
    """aiosmtpd handler: counts messages by the side effect that sent them."""

    def __init__(self) -> None:
        self.per_key: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.per_key[message.get("X-Orderdesk-Side-Effect", "")] += 1
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server():
    mailbox = Mailbox()
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, server_hostname="smtp.load")
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
        asyncio.set_event_loop(None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def rq_workers(env: dict, count: int):
    workers = [subprocess.Popen([*FLASK, "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(count)]
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)


@contextmanager
def gunicorn(env: dict, processes: int, worker_class: str, threads: int):
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(processes), "-k", worker_class, "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/admin/login/", timeout=10)
                break
            except requests.RequestException:  # still booting
                time.sleep(0.5)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=60)


def run_locust(env: dict, base: str, users: int, seconds: int) -> float:
    """Seconds of load: locust's timer starts once its users are spawned (all at once)."""
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
         "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", base,
         "--stop-timeout", "10", "--exit-code-on-error", "0"],
        env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return float(seconds)


def max_side_effect_id(env: dict) -> int:
    return int(in_app(env, """
from sqlalchemy import func, select
from models import SideEffect
print(db.session.scalar(select(func.coalesce(func.max(SideEffect.id), 0))))
"""))


def drain(env: dict, first_effect: int) -> float:
    """Seconds until no side effect of the run is queued or running (bounded)."""
    started = time.perf_counter()
    while time.perf_counter() - started < DRAIN_SECONDS:
        left = int(in_app(env, f"""
from sqlalchemy import func, select
from models import SideEffect, SideEffectStatus
print(db.session.scalar(select(func.count()).where(SideEffect.id > {first_effect},
      SideEffect.status.in_([SideEffectStatus.QUEUED, SideEffectStatus.RUNNING]))))
"""))
        if not left:
            break
        time.sleep(2)
    return time.perf_counter() - started


# The side effects whose arrival the receivers here can see; the demo's registrar and gateways
# ("manual", bank transfer) do their work without calling out.
REACHES_OUTSIDE = {"module_create", "module_terminate", "addon_create", "addon_terminate", "email"}


def arrivals(receiver: ReceiverState, mailbox: Mailbox) -> Counter:
    with receiver.lock, mailbox.lock:
        return Counter(receiver.requests_per_key) + Counter(mailbox.per_key)


def account(env: dict, first_effect: int, receiver: ReceiverState, mailbox: Mailbox, before: Counter) -> dict:
    """The run's side effects (ids above first_effect) against what reached the receivers in the run."""
    rows = in_app(env, f"""
from sqlalchemy import select
from models import SideEffect
for kind, status, key in db.session.execute(select(SideEffect.kind, SideEffect.status,
        SideEffect.idempotency_key).where(SideEffect.id > {first_effect})):
    print(kind, status, key)
""").splitlines()
    effects = [line.split(" ") for line in rows if line]
    arrived = arrivals(receiver, mailbox) - before
    outside = [(kind, key) for kind, status, key in effects
               if status == "succeeded" and kind in REACHES_OUTSIDE]
    keys = {key for _, _, key in effects}
    return {
        "created": len(effects),
        "succeeded": sum(1 for _, status, _ in effects if status == "succeeded"),
        "checked": len(outside),
        "by_kind": dict(Counter(kind for kind, _, _ in effects)),
        "lost": sum(1 for _, key in outside if arrived[key] == 0),
        "doubled": sum(1 for _, key in outside if arrived[key] > 1),
        "stray": sum(1 for key in arrived if key not in keys),
        "failed": sum(1 for _, status, _ in effects if status == "failed"),
        "cancelled": sum(1 for _, status, _ in effects if status == "cancelled"),
        "unfinished": sum(1 for _, status, _ in effects if status in ("queued", "running")),
    }


if __name__ == "__main__":
    main()
