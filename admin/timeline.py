"""The order timeline for people: each event as a sentence and its changes as "before → after"
lines; the event's JSON stays one click away (folded on the page). Reads only the event row."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from admin.presentation import format_money, gateway_name
from models import OrderEvent

ARROW = "→"


@dataclass
class TimelineEntry:
    sentence: str
    changes: list[str] = field(default_factory=list)


def _kind(details: dict) -> str:
    return str(details.get("kind") or "side effect").replace("_", " ").capitalize()


def _target(details: dict) -> str:
    kind, number = details.get("target_type"), details.get("target_id")
    return f" for {kind} #{number}" if kind and number else ""


def _placed(d: dict) -> str:
    items = []
    for count, noun in ((d.get("services") or 0, "service"), (d.get("domains") or 0, "domain")):
        if count:
            items.append(f"{count} {noun}{'s' if count != 1 else ''}")
    what = " and ".join(items) or "no items"
    amount = d.get("amount")
    total = f", total {format_money(amount, d.get('currency_id'))}" if amount is not None else ""
    source = f" ({d['source']})" if d.get("source") else ""
    promo = f", promotion {d['promo_code']}" if d.get("promo_code") else ""
    upgrade = d.get("upgrade")
    if d.get("kind") == "upgrade" and isinstance(upgrade, dict):
        return f"Upgrade order placed{source} for service #{upgrade.get('service_id')}{total}."
    return f"Order placed{source} with {what}{total}{promo}."


def _succeeded(d: dict) -> str:
    message = f": {d['message']}" if d.get("message") else ""
    return f"{_kind(d)}{_target(d)} succeeded{message}."


def _failed(d: dict) -> str:
    then = " No more tries." if d.get("final") else " It will be tried again."
    return f"{_kind(d)}{_target(d)} failed (attempt {d.get('attempts', '?')}): {d.get('error', '')}.{then}"


def _with_reason(text: str, d: dict) -> str:
    return f"{text}: {d['reason']}." if d.get("reason") else f"{text}."


def _bulk(d: dict) -> str:
    action = str(d.get("action") or "").replace("_", " ")
    return f"Status changed from the orders grid (bulk {action})." if action else \
        "Status changed from the orders grid."


def _exported(d: dict) -> str:
    return (f"Exported the {d.get('list', '')} list as {str(d.get('format', '')).upper()} "
            f"({d.get('rows', 0):,} rows).")


_SENTENCES = {
    "order_placed": _placed,
    "order_accepted": lambda d: "Order accepted.",
    "order_cancelled": lambda d: "Order cancelled.",
    "order_refund_requested": lambda d: f"Refunds requested for {len(d.get('refunds') or [])} payment(s).",
    "order_set_fraud": lambda d: "Order set as fraud.",
    "order_set_pending": lambda d: "Order set back to pending.",
    "order_deleted": lambda d: "Order deleted, with its items and invoice.",
    "order_amended": lambda d: (f"Order amended: {len(d.get('removed') or [])} invoice line(s) removed, "
                                f"{len(d.get('added') or [])} added."),
    "order_status_changed": lambda d: "Order status changed.",
    "bulk_status_changed": _bulk,
    "affiliate_assigned": lambda d: "Affiliate removed." if d.get("to") is None else "Affiliate assigned.",
    "admin_notes_updated": lambda d: "Admin notes updated.",
    "payment_method_changed": lambda d: "Payment method changed.",
    "service_upgraded": lambda d: f"Upgrade applied to service #{d.get('service_id')}.",
    "config_options_edited": lambda d: f"Configurable options of service #{d.get('service_id')} changed.",
    "record_edited": lambda d: f"{str(d.get('record', 'Record')).capitalize()} #{d.get('record_id')} edited.",
    "list_exported": _exported,
    "side_effect_succeeded": _succeeded,
    "side_effect_failed": _failed,
    "side_effect_retried": lambda d: f"{_kind(d)}{_target(d)} queued again.",
    "side_effect_cancelled": lambda d: _with_reason(f"{_kind(d)}{_target(d)} cancelled", d),
    "terminate_requested": lambda d: _with_reason(f"Module terminate{_target(d)} requested", d),
}


def _shown(value) -> str:
    return "(none)" if value in (None, "") else str(value)


def _item_changes(noun: str, rows) -> list[str]:
    lines = []
    # Other events use the same keys for counts ("services": 3); only lists of rows are changes.
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("from") != row.get("to"):
            before, after = _shown(row.get("from")), _shown(row.get("to"))
            lines.append(f"{noun} #{row.get('id')}: {before} {ARROW} {after}")
    return lines


def _money(value, d: dict) -> str:
    """A stored amount ("10.00") in the order's currency; anything else as stored."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        return _shown(value)
    return format_money(amount, d.get("currency_id"))


def _amended(d: dict) -> list[str]:
    """The amendment's total and promotion before -> after, then each invoice line it took out or put in."""
    before, after = (d.get(k) if isinstance(d.get(k), dict) else {} for k in ("before", "after"))
    lines = [f"Total: {_money(before.get('total'), d)} {ARROW} {_money(after.get('total'), d)}"]
    if before.get("promo_code") != after.get("promo_code"):
        promo = (_shown(before.get("promo_code")), _shown(after.get("promo_code")))
        lines.append(f"Promotion: {promo[0]} {ARROW} {promo[1]}")
    for word, key in (("Removed", "removed"), ("Added", "added")):
        for line in d.get(key) if isinstance(d.get(key), list) else []:
            if isinstance(line, dict):
                text = str(line.get("description", "")).replace("\n", ", ")
                lines.append(f"{word}: {text} {_money(line.get('amount'), d)}")
    return lines


def _changes(event: OrderEvent, d: dict) -> list[str]:
    lines = []
    if event.from_status or event.to_status:
        lines.append(f"Order: {_shown(event.from_status)} {ARROW} {_shown(event.to_status)}")
    lines += _item_changes("Service", d.get("services"))
    lines += _item_changes("Domain", d.get("domains"))
    invoice = d.get("invoice")
    if isinstance(invoice, dict):
        lines.append(f"Invoice #{invoice.get('id')}: {_shown(invoice.get('from'))} {ARROW} "
                     f"{_shown(invoice.get('to'))}")
    if d.get("terminate"):
        lines.append(f"Module terminate queued for {len(d['terminate'])} account(s)")
    if d.get("cancelled_side_effects"):
        lines.append(f"{len(d['cancelled_side_effects'])} queued side effect(s) cancelled")
    verb = event.verb
    if verb == "affiliate_assigned":
        before, after = (f"#{d[key]}" if d.get(key) else None for key in ("from", "to"))
        lines.append(f"Affiliate: {_shown(before)} {ARROW} {_shown(after)}")
    elif verb == "payment_method_changed":
        lines.append(f"Payment method: {_shown(gateway_name(d.get('from')))} {ARROW} "
                     f"{_shown(gateway_name(d.get('to')))}")
    elif verb == "admin_notes_updated":
        lines.append(f"Notes: {_shown(d.get('from'))} {ARROW} {_shown(d.get('to'))}")
    elif verb == "config_options_edited" and isinstance(d.get("options"), dict):
        for name, change in d["options"].items():
            if isinstance(change, dict):
                lines.append(f"{name}: {_shown(change.get('from'))} {ARROW} {_shown(change.get('to'))}")
        amount = d.get("recurring_amount")
        if isinstance(amount, dict):
            lines.append(f"Recurring amount: {_shown(amount.get('from'))} {ARROW} {_shown(amount.get('to'))}")
    elif verb == "order_amended":
        lines += _amended(d)
    elif verb in ("record_edited", "service_upgraded") and isinstance(d.get("changes"), dict):
        for name, change in d["changes"].items():
            if isinstance(change, dict):
                money = verb == "service_upgraded" and name == "recurring_amount"
                shown = (lambda value: _money(value, d)) if money else _shown
                was, now = shown(change.get("from")), shown(change.get("to"))
                lines.append(f"{name.replace('_', ' ').capitalize()}: {was} {ARROW} {now}")
    return lines


def describe(event: OrderEvent, currency_id: int | None = None) -> TimelineEntry:
    """The event as a sentence; amounts in the order's currency (`currency_id`)."""
    details = event.details if isinstance(event.details, dict) else {}
    details = {"currency_id": currency_id, **details}
    sentence = _SENTENCES.get(event.verb)
    text = sentence(details) if sentence else f"{str(event.verb).replace('_', ' ').capitalize()}."
    return TimelineEntry(text, _changes(event, details))
