"""The demo's product addons: their catalog rows, the draw per order, and the rows they leave.

The demo's addons have no server module (nothing to automate), so they leave no side effects:
accepting makes them Active, Cancel / Set as Fraud move them now, as actions.addon_transitions
does for addons without a module. Drawn with their own random stream per order, so adding them
left every other draw of the demo as it was.
"""

import random
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.addon_items import addon_fields, addon_invoice_lines
from actions.addon_pricing import addon_cycle
from models import Addon, AddonPrice, BillingCycle, Product, ServiceAddon, ServiceStatus

M, Q, S, A, B = (BillingCycle.MONTHLY, BillingCycle.QUARTERLY, BillingCycle.SEMI_ANNUALLY,
                 BillingCycle.ANNUALLY, BillingCycle.BIENNIALLY)

# name, description, product groups, {cycle: (price, setup fee)}, chance per service
ADDONS = [
    ("Daily Backups", "Off-site copies, kept 30 days", ("Shared Hosting", "VPS"),
     {M: ("2.00", "0.00"), Q: ("6.00", "0.00"), S: ("11.00", "0.00"), A: ("20.00", "0.00"),
      B: ("38.00", "0.00")}, 0.25),
    ("Dedicated IP", "A dedicated IPv4 address", ("Shared Hosting", "VPS"),
     {M: ("3.00", "5.00"), A: ("30.00", "5.00")}, 0.1),
    ("Site Migration", "We move your site from your old host", ("Shared Hosting",),
     {BillingCycle.ONE_TIME: ("25.00", "0.00")}, 0.1),
]


def ensure_addons(session: Session) -> None:
    for name, description, groups, prices, _ in ADDONS:
        addon = session.scalar(select(Addon).where(Addon.name == name))
        if addon is None:
            addon = Addon(name=name, description=description, module="")
            addon.products = list(session.scalars(select(Product).where(Product.group_name.in_(groups))
                                                  .order_by(Product.id)))
            session.add(addon)
        have = {p.cycle for p in addon.prices}
        for cycle, (price, setup) in prices.items():
            if cycle not in have:
                addon.prices.append(AddonPrice(cycle=cycle, price=Decimal(price), setup_fee=Decimal(setup)))
    session.flush()


def draw_addons(addons: list[Addon], k: int, product: Product, cycle: str, currency_id: int) -> list[int]:
    """The addons of order k's product line (every one offered on its product and cycle)."""
    rng = random.Random(f"demo-addons-{k}")
    chances = {name: chance for name, *_, chance in ADDONS}
    return [a.id for a in addons
            if product.id in {p.id for p in a.products} and addon_cycle(a, cycle, currency_id) is not None
            and rng.random() < chances[a.name]]


def place_addons(order, quote, promotion, today, at) -> tuple[list[dict], list[dict]]:
    """The service_addons rows and invoice lines place_order writes (actions.addon_items)."""
    rows, pairs = [], []
    for service, item in zip(order.services, quote.services, strict=True):
        for addon in item.addons:
            row = order._add(ServiceAddon.__table__, order_id=order.order["id"], service_id=service["id"],
                             client_id=service["client_id"], created_at=at,
                             **addon_fields(addon, promotion, today))
            rows.append(row)
            pairs.append((row["id"], addon, str(item.product)))
    return rows, addon_invoice_lines(pairs, promotion)


def accept_addons(rows: list[dict]) -> list[dict]:
    """actions.addon_transitions.accept_addons with the default options, for addons without a module."""
    changes = []
    for row in rows:
        if row["status"] != ServiceStatus.PENDING:
            continue
        changes.append({"id": row["id"], "from": row["status"], "run_module_create": False,
                        "send_welcome_email": True, "to": ServiceStatus.ACTIVE})
        row["status"] = ServiceStatus.ACTIVE
    return changes


def transition_addons(rows: list[dict], rule) -> list[dict]:
    """actions.addon_transitions.apply_addon_rule for addons without a module: they move now."""
    changes = []
    for row in rows:
        if row["status"] not in rule.keep and row["status"] != rule.to:
            changes.append({"id": row["id"], "from": row["status"], "to": rule.to})
            row["status"] = rule.to
    return changes
