"""An order's items and invoice as the amend event records them, and what changed between two.

    order_state(order) -> dict     {promo_code, total, items: [...], lines: [...]}, plain values
    state_diff(before, after) -> dict   the order_amended event's details (actions.events)
    same_state(before, after) -> bool   nothing but ids differs: the amendment changes nothing

The timeline (admin/timeline.py) shows the lines removed and added and the total's before -> after;
the event keeps both states whole for whoever needs more.
"""

from collections import Counter

from actions.events import jsonable
from models import Order


def _service(service) -> dict:
    options = ", ".join(str(o) for o in service.config_options)
    text = f"{service.product}" + (f" - {service.domain}" if service.domain else "")
    text += f" ({service.billing_cycle})"
    return {"type": "service", "id": service.id, "description": text + (f" [{options}]" if options else ""),
            "first_payment": service.first_payment_amount, "recurring": service.recurring_amount}


def _domain(domain) -> dict:
    return {"type": "domain", "id": domain.id,
            "description": f"{domain.type} {domain.name} ({domain.period_years} year(s))",
            "first_payment": domain.first_payment_amount, "recurring": domain.recurring_amount}


def _addon(item) -> dict:
    return {"type": "addon", "id": item.id, "description": f"{item.addon.name} ({item.billing_cycle}) "
            f"on service #{item.service_id}", "first_payment": item.first_payment_amount,
            "recurring": item.recurring_amount}


def order_state(order: Order) -> dict:
    invoice = order.invoice
    return jsonable({
        "promo_code": order.promo_code or "",
        "total": invoice.total,
        "items": [*map(_service, order.services), *map(_domain, order.domains), *map(_addon, order.addons)],
        "lines": [{"type": i.type, "description": i.description, "amount": i.amount} for i in invoice.items],
    })


def _without_ids(state: dict) -> dict:
    items = sorted((i["type"], i["description"].split(" on service #")[0], i["first_payment"], i["recurring"])
                   for i in state["items"])
    return {**state, "items": items, "lines": sorted(tuple(line.values()) for line in state["lines"])}


def same_state(before: dict, after: dict) -> bool:
    return _without_ids(before) == _without_ids(after)


def _lines_missing(lines: list[dict], others: list[dict]) -> list[dict]:
    """`lines` that `others` has not (as a multiset: two equal lines count twice)."""
    left = Counter((o["description"], o["amount"]) for o in others)
    missing = []
    for line in lines:
        key = (line["description"], line["amount"])
        if left[key]:
            left[key] -= 1
        else:
            missing.append(line)
    return missing


def state_diff(invoice_id: int, before: dict, after: dict) -> dict:
    return {"invoice_id": invoice_id, "before": before, "after": after,
            "removed": _lines_missing(before["lines"], after["lines"]),
            "added": _lines_missing(after["lines"], before["lines"])}
