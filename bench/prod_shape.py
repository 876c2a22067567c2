"""The production shape of docs/deploy.md on this machine, load-tested with locust.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
      .venv/bin/python bench/prod_shape.py                       # 10,000 orders; 1, 2, 4 processes
    ... bench/prod_shape.py --orders 100000 --seconds 120 --users 16 --processes 4

What it starts, exactly as docs/deploy.md describes a deployment:
- PostgreSQL: a fresh database on the local server, built by the CLI (`flask db upgrade`,
  `flask seed-demo --orders N`, `flask create-admin`, `flask create-api-credential`), dropped after.
- Redis: the local server, database --redis-db (flushed before and after: choose one nothing else uses).
- gunicorn with --processes sync workers (`app:create_app()`), 2 RQ workers (`flask worker`, each
  with its sweeper), ORDERDESK_ENV=production with SECRET_KEY and ENCRYPTION_KEY set.
- The outside world the side effects reach: the operator's provisioning webhook (the demo's server
  and products are pointed at a local signed-webhook receiver: the one setup step that is not a CLI
  command) and an SMTP server (aiosmtpd) for the emails.

Then locust (bench/locustfile.py, headless, bounded by --seconds) against 127.0.0.1 with --users
simulated admins: list views, filters, search, order pages, Accept and Cancel, and AddOrder through
the API. Printed per run: requests/s, and per request kind the count, p50/p95/p99 and errors.
Afterwards, when the outbox has drained, it counts the side effects the run created against what
the receivers got: each succeeded side effect must have arrived exactly once (by its idempotency
key: webhook header, email X-Orderdesk-Side-Effect), none failed, none still queued, nothing
arrived that no side effect sent.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
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

from bench.seed_bench import fresh_postgres_database  # noqa: E402
from tests.modules_support.http_stub import StubServer  # noqa: E402
from tests.modules_support.webhook_receiver import ReceiverHandler, ReceiverState  # noqa: E402

BIN = ROOT / ".venv" / "bin"
FLASK = [str(BIN / "flask"), "--app", "app"]
ADMIN_EMAIL = "load-admin@example.com"
ADMIN_PASSWORD = "load-test-Pw-7s9x!q"
WEBHOOK_SECRET = "prod-shape-webhook-secret"
DRAIN_SECONDS = 300
SHOWN_KINDS = ("p50", "p95", "p99")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=60, help="locust run time per process count")
    parser.add_argument("--users", type=int, default=12, help="simulated admins")
    parser.add_argument("--processes", default="1,2,4", help="gunicorn process counts, one run each")
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--redis-db", type=int, default=3)
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]

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
        summary = []
        for processes in counts:
            first_effect, before = max_side_effect_id(env), arrivals(receiver, mailbox)
            with gunicorn(env, processes) as base:
                stats = run_locust(env, base, args.users, args.seconds)
            drained = drain(env, first_effect)
            accounting = account(env, first_effect, receiver, mailbox, before)
            print_run(processes, args, stats, drained, accounting)
            total = stats["Aggregated"]
            summary.append((processes, total["rps"], total["failures"], accounting))
        print("\n| gunicorn processes | requests/s | errors | side effects | lost | doubled | failed |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for processes, rps, failures, acc in summary:
            print(f"| {processes} | {rps:.1f} | {failures} | {acc['succeeded']} | {acc['lost']} | "
                  f"{acc['doubled']} | {acc['failed'] + acc['unfinished']} |")
    print("(side effects: succeeded in the run; lost / doubled: of those that call out, by idempotency key "
          "at the receivers; failed: failed or never finished)")


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
def gunicorn(env: dict, processes: int):
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(processes), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "app:create_app()"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/admin/login/", timeout=10)
                break
            except requests.RequestException:  # still booting
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


def run_locust(env: dict, base: str, users: int, seconds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="orderdesk-locust-") as folder:
        prefix = f"{folder}/run"
        subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
             "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", base, "--csv", prefix,
             "--stop-timeout", "10", "--exit-code-on-error", "0"],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        with open(f"{prefix}_stats.csv", newline="") as handle:
            return {row["Name"]: {"count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                  "rps": float(row["Requests/s"]), "p50": row["50%"], "p95": row["95%"],
                                  "p99": row["99%"]} for row in csv.DictReader(handle)}


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


def print_run(processes: int, args, stats: dict, drained: float, acc: dict) -> None:
    total = stats["Aggregated"]
    print(f"\n## gunicorn {processes} process(es), {args.rq_workers} RQ workers, {args.users} users, "
          f"{args.seconds} s: {total['rps']:.1f} requests/s, {total['failures']} errors "
          f"(outbox drained {drained:.0f} s after the run; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    print("| Request kind | requests | errors | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in sorted(stats.items(), key=lambda item: (item[0] == "Aggregated", item[0])):
        shown = "**all**" if name == "Aggregated" else name
        print(f"| {shown} | {row['count']} | {row['failures']} | "
              + " | ".join(str(row[kind]) for kind in SHOWN_KINDS) + " |")
    print(f"Side effects of the run: {acc['created']} created ({acc['by_kind']}), "
          f"{acc['succeeded']} succeeded, "
          f"{acc['failed']} failed, {acc['cancelled']} cancelled (queued creates of orders cancelled "
          f"meanwhile), {acc['unfinished']} unfinished; of the {acc['checked']} that call out: "
          f"{acc['lost']} never arrived, {acc['doubled']} arrived twice or more; {acc['stray']} arrivals "
          "no side effect sent", flush=True)


if __name__ == "__main__":
    main()
