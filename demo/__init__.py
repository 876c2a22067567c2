"""Demo data for `flask seed-demo`: a catalog, clients, and orders in every state an order reaches.

Not an action: a face that loads, set-based, what placing orders through actions.place and then
paying, accepting, cancelling, refunding or flagging them would leave - deterministic (the k-th
order is the same on every run) and idempotent (a second run adds nothing).

    catalog.py   products, TLDs, promotions, gateways, statuses (ORM, looked up by name)
    people.py    clients and affiliates
    plans.py     per order a plan: a real Cart, drawn deterministically, and the steps after it
    history.py   the rows a plan leaves, from place.py's builders and the transition table
    bulk.py      ids, column defaults and executemany
    seed.py      seed_demo: the top-ups, batch by batch

Adding to the demo (a gateway, product addons, configurable options): put the catalog rows in
catalog.py, the draw in plans.py's cart (priced by price_cart like the rest), and the rows in
history.py through the builder place_order uses for them; tests/test_demo_replay.py then checks
them against the real code without change.
"""

from demo.seed import seed_demo

__all__ = ["seed_demo"]
