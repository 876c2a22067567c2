"""The back office's day under load: what bench/prod_shape.py drives with locust (headless).

Each simulated admin logs in once (the real login form, its CSRF token), then mixes list views,
filters, searches and order pages with order actions (Accept and Cancel of pending orders, each a
POST with the page's CSRF token and version) and placements (AddOrder through the WHMCS API with
an API credential). Requests are named by kind, so locust reports p50/p95/p99 per kind.

Configured by prod_shape.py through the environment: BENCH_ADMIN_EMAIL, BENCH_ADMIN_PASSWORD,
BENCH_API_IDENTIFIER, BENCH_API_SECRET, BENCH_CLIENTS (client ids 1..N exist), BENCH_PRODUCT, and
BENCH_TIMINGS: a file that gets one line per request (kind, milliseconds, 1 if it failed, the error), from
which prod_shape.py computes exact percentiles over several rounds.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import threading

from locust import HttpUser, between, events, task

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="expected_version" value="(\d+)"')
ORDER_LINK = re.compile(r"details/\?id=(\d+)")

PENDING_LIST = "/admin/orders/?flt0_status_equals=Pending"
LIST_KINDS = {
    "list: default": "/admin/orders/",
    "list: Pending menu": "/admin/orders/?flt0_status_group_equals=pending",
    "list: status Active": "/admin/orders/?flt0_status_equals=Active",
    "list: payment Unpaid": "/admin/orders/?flt0_payment_status_equals=Unpaid",
    "list: page 5": "/admin/orders/?page=5",
}

_placed = itertools.count()
_timings = open(os.environ["BENCH_TIMINGS"], "a") if os.environ.get("BENCH_TIMINGS") else None


@events.request.add_listener
def _record_timing(name, response_time, exception, **_) -> None:
    if _timings is not None:
        error = "" if exception is None else " ".join(repr(exception).split())[:200]
        _timings.write(f"{name}\t{response_time:.1f}\t{0 if exception is None else 1}\t{error}\n")


@events.quitting.add_listener
def _close_timings(**_) -> None:
    if _timings is not None:
        _timings.close()


class PendingPool:
    """Pending order ids shared by the simulated admins, so two of them rarely take the same one."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            return self.ids.pop() if self.ids else None

    def give(self, ids) -> None:
        with self.lock:
            known = set(self.ids)
            self.ids.extend(i for i in ids if i not in known)


POOL = PendingPool()


class BackOfficeAdmin(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        page = self.client.get("/admin/login/", name="login form")
        response = self.client.post(
            "/admin/login/",
            data={"csrf_token": CSRF.search(page.text).group(1),
                  "email": os.environ["BENCH_ADMIN_EMAIL"], "password": os.environ["BENCH_ADMIN_PASSWORD"]},
            name="login", allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login refused: HTTP {response.status_code}")
        self.clients = int(os.environ["BENCH_CLIENTS"])

    @task(6)
    def list_views(self) -> None:
        name, url = random.choice(list(LIST_KINDS.items()))
        self.client.get(url, name=name)

    @task(2)
    def filter_by_client(self) -> None:
        self.client.get(f"/admin/orders/?flt0_client_is={random.randint(1, self.clients)}",
                        name="list: client")

    @task(2)
    def search(self) -> None:
        self.client.get(f"/admin/orders/?search={random.randint(1, 5000)}", name="list: search")

    @task(4)
    def order_page(self) -> None:
        self.client.get(f"/admin/orders/details/?id={random.randint(1, self.newest_guess())}",
                        name="order page")

    @task(2)
    def accept(self) -> None:
        self._order_action("accept")

    @task(1)
    def cancel(self) -> None:
        self._order_action("cancel")

    @task(2)
    def place(self) -> None:
        n = next(_placed)
        with self.client.post("/includes/api.php", name="API AddOrder", catch_response=True, data={
            "action": "AddOrder", "identifier": os.environ["BENCH_API_IDENTIFIER"],
            "secret": os.environ["BENCH_API_SECRET"], "clientid": str(random.randint(1, self.clients)),
            "paymentmethod": "banktransfer", "pid[0]": os.environ["BENCH_PRODUCT"],
            "domain[0]": f"load{os.getpid()}-{n}.example.com", "billingcycle[0]": "monthly",
        }) as response:
            body = response.json() if response.ok else {}
            if body.get("result") == "success":
                POOL.give([int(body["orderid"])])
            else:
                response.failure(f"AddOrder: HTTP {response.status_code} {body.get('message')}")

    def newest_guess(self) -> int:
        return int(os.environ["BENCH_ORDERS"])

    def _order_action(self, action: str) -> None:
        order_id = POOL.take()
        if order_id is None:
            listing = self.client.get(PENDING_LIST, name="list: Pending (refill)")
            POOL.give(int(i) for i in ORDER_LINK.findall(listing.text))
            order_id = POOL.take()
            if order_id is None:
                return
        page = self.client.get(f"/admin/orders/details/?id={order_id}", name="order page (pending)")
        version, token = VERSION.search(page.text), CSRF.search(page.text)
        if version is None or token is None:
            return  # gone or already moved on by another admin: nothing to act on
        self.client.post(
            f"/admin/orders/order/{action}/", name=f"action: {action}", allow_redirects=False,
            data={"csrf_token": token.group(1), "id": str(order_id), "expected_version": version.group(1),
                  "url": "/admin/orders/"},
        )
