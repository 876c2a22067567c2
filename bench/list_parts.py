"""What each part of the orders list costs, by switching it off inside one process.

    .venv/bin/python bench/list_parts.py --db sqlite:////tmp/sb/s1m.sqlite --requests 150

A profiler slows small calls more than big ones (bench/list_profile.py gives shares, not ms); here
each part is replaced by a stand-in for every other request of one process (the Flask test client,
a Full Administrator), the requests alternating with and without it, and the difference of the
medians is what the part costs. The page is wrong while a part is off: these are timings only.
Parts: the rows' query and ORM load (get_list answered from its first result), the whole template
(render returns ""), the 50 rows' HTML (empty), the rows' HTML without its one statement (each row
""), the menu badges (counts 0), the saved views (none), the live filter options (none).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parts() -> dict:
    import flask_admin.base as flask_admin_base
    from flask_admin.model.base import BaseModelView
    from markupsafe import Markup

    import admin.keyset as keyset
    import admin.lean_grid as lean_grid
    import admin.list_views as list_views
    import admin.orders as orders
    import admin.side_effects as side_effects

    first_list = {}

    def cached_get_list(view, *args, **kwargs):
        if "rows" not in first_list:
            first_list["rows"] = keyset.KeysetPagingMixin.get_list(view, *args, **kwargs)
        return first_list["rows"]

    return {
        "the rows' query and ORM load": [(orders.OrderView, "get_list", cached_get_list)],
        "the whole template": [(flask_admin_base.BaseView, "render", lambda view, template, **kw: "")],
        "the 50 rows' HTML": [(lean_grid.GridPage, "rows", lambda page, data: Markup(""))],
        "the rows' HTML but its statement": [(lean_grid.GridPage, "_row", lambda page, order, values: "")],
        "the menu badges": [(orders, "pending_orders_count", lambda: 0),
                            (side_effects, "failed_side_effects_count", lambda: 0)],
        "the saved views menu": [(list_views.ListViewsMixin, "saved_views", lambda view: [])],
        "the live filter options": [(orders.OrderView, "_get_filter_groups",
                                     lambda view: BaseModelView._get_filter_groups(view))],
    }


@contextlib.contextmanager
def switched_off(stand_ins):
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in stand_ins]
    for owner, name, stand_in in stand_ins:
        setattr(owner, name, stand_in)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a database URL (a copy: an admin row is added)")
    parser.add_argument("--path", default="/admin/orders/")
    parser.add_argument("--requests", type=int, default=150, help="requests each way, per part")
    args = parser.parse_args()
    from bench.baseline_bench import prepare
    from tests.conftest import make_test_app

    app = make_test_app(args.db, SECRET_KEY=None)
    client = app.test_client(user=prepare(app)["admin"])

    def timed() -> float:
        started = time.perf_counter()
        assert client.get(args.path).status_code == 200
        return (time.perf_counter() - started) * 1000

    for _ in range(10):
        timed()
    print(f"| Part switched off ({args.path}) | page ms with it | without | it costs | share |")
    print("|---|---:|---:|---:|---:|")
    for name, stand_ins in parts().items():
        on, off = [], []
        for _ in range(args.requests):
            on.append(timed())
            with switched_off(stand_ins):
                off.append(timed())
        with_it, without = statistics.median(on), statistics.median(off)
        print(f"| {name} | {with_it:.2f} | {without:.2f} | {with_it - without:.2f} | "
              f"{(with_it - without) / with_it * 100:.0f} % |", flush=True)


if __name__ == "__main__":
    main()
