"""Export of the whole orders grid: streamed, with the web process's peak memory.

    .venv/bin/python bench/export_bench.py --database-url sqlite:////tmp/orders.db            # 1,000,000
    .venv/bin/python bench/export_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/export_bench.py --database-url sqlite:////tmp/small.db --orders 10000 --format xlsx

The database is topped up to --orders with seed_demo if it holds fewer; the dashboard's daily figures
are rebuilt then, or when they do not add up to the orders (an interrupted `flask seed-demo`). The
app is then served by a child process of its own (werkzeug, one thread); this process signs in
over HTTP, renders the orders list once, resets the child's peak resident memory (VmHWM, through
/proc/<pid>/clear_refs), downloads /admin/orders/export/<format>/ while counting rows, and reads
VmHWM again. It prints rows, seconds, rows/s, the serving process's RSS before the export, its
peak during the export and its peak since it started (signing in, argon2id at 64 MiB, is the
highest moment before the export); it exits 1 if the rows are not every order or either peak is
over --limit-mb.
"""

import argparse
import csv
import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_ADMIN = "export-bench@example.com"
PASSWORD = "bench-password-1"


def make_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None,
                       "WTF_CSRF_ENABLED": False, "MAIL_SERVER": None})


def prepare(url: str, orders: int) -> int:
    """Seed up to `orders` if fewer, make sure the bench admin exists; returns the orders count."""
    from sqlalchemy import func, select

    from actions.daily_stats import rebuild_daily_stats
    from demo import seed_demo
    from extensions import db
    from models import AdminUser, DailyOrderCount, Order, Role

    app = make_app(url)
    with app.app_context():
        db.create_all()
        have = db.session.scalar(select(func.count()).select_from(Order))
        if have < orders:
            seed_demo(db.session, orders=orders)
        kept = db.session.scalar(select(func.coalesce(func.sum(DailyOrderCount.orders), 0)))
        if have < orders or kept != have:  # seeded set-based, past the listener (as seed-demo does)
            rebuild_daily_stats(db.session)
            db.session.commit()
        if db.session.scalar(select(AdminUser).where(AdminUser.email == BENCH_ADMIN)) is None:
            role = db.session.scalar(select(Role).where(Role.name == "Full Administrator"))
            admin = AdminUser(email=BENCH_ADMIN, name="Export bench", role=role)
            admin.set_password(PASSWORD)
            db.session.add(admin)
            db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(Order))
        db.engine.dispose()
        return count


def serve(url: str, port: int) -> None:
    """The child: the app on 127.0.0.1:port, one request at a time."""
    from werkzeug.serving import make_server

    make_server("127.0.0.1", port, make_app(url), threaded=False).serve_forever()


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def reset_peak_rss(pid: int) -> None:
    """VmHWM back to the current RSS (Linux 4.0+), so the next peak read is the export's own:
    signing in peaks ~65 MB higher for a moment (argon2id hashes with 64 MiB)."""
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def count_rows(response, fmt: str) -> tuple[int, int]:
    """(rows, bytes) of the download, read as it streams (CSV) or once complete (XLSX)."""
    if fmt == "csv":
        response.raw.decode_content = True
        text = io.TextIOWrapper(response.raw, encoding="utf-8-sig", newline="")  # quoted newlines stay
        reader = csv.reader(text)
        next(reader)  # the header
        rows = sum(1 for _ in reader)
        return rows, response.raw.tell()
    body = io.BytesIO()
    for chunk in response.iter_content(64 * 1024):
        body.write(chunk)
    with zipfile.ZipFile(body) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    return sheet.count(b"<row ") - 1, body.tell()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--limit-mb", type=float, default=200)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the child's port
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.serve)
        return 0

    import requests

    orders = prepare(args.database_url, args.orders)
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--database-url", args.database_url, "--serve", str(port)],
        cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"), stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        web = requests.Session()
        for _ in range(600):  # the child imports the app first
            try:
                web.get(f"{base}/admin/login/", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        login = web.post(f"{base}/admin/login/", data={"email": BENCH_ADMIN, "password": PASSWORD},
                         allow_redirects=False, timeout=30)
        assert login.status_code == 302, f"sign-in failed: {login.status_code}"
        web.get(f"{base}/admin/orders/", timeout=120)  # warm: the grid's page, as an admin would first
        lifetime = peak_rss_mb(child.pid)
        before = peak_rss_mb(child.pid, "VmRSS")
        reset_peak_rss(child.pid)
        started = time.perf_counter()
        with web.get(f"{base}/admin/orders/export/{args.format}/", stream=True, timeout=3600) as response:
            assert response.status_code == 200, response.status_code
            rows, size = count_rows(response, args.format)
        seconds = time.perf_counter() - started
        peak = peak_rss_mb(child.pid)
    finally:
        child.terminate()
        child.wait(timeout=30)
    print(f"{args.format.upper()} export of {orders:,} orders: {rows:,} rows, {size / 1e6:,.0f} MB in "
          f"{seconds:,.1f} s ({rows / seconds:,.0f} rows/s); serving process RSS {before:,.0f} MB before "
          f"the export, peak during the export {peak:,.0f} MB, peak since it started (sign-in "
          f"included) {max(lifetime, peak):,.0f} MB (limit {args.limit_mb:,.0f} MB)")
    ok = rows == orders and max(lifetime, peak) < args.limit_mb
    if not ok:
        print("FAILED: " + ("rows != orders; " if rows != orders else "") +
              ("peak RSS over the limit" if peak >= args.limit_mb else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
