"""Edits of an order's records through their generic forms (Services, Domains, Invoices).

    record_edit(session, record, actor) -> dict      {field: {"from": ..., "to": ...}}

The face lets the form fill the object, then calls this before the commit. It reads what changed
from the session (attribute history, so nothing is flushed first), writes one record_edited event
on the order's timeline with the admin and each field's before and after (secrets only as
"changed"), and takes the order's lock with a version bump, so an edit and an order action never
interleave and an open order page goes stale. A record of no order (a renewal invoice) gets no
event. Statuses and the relationships that define an order are not on these forms; actions/
changes them. Flushes, never commits.
"""

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order_for_edit
from models import Domain, Invoice, Order, Service, ServiceAddon
from models.base import EncryptedText

HIDDEN = "(changed)"


def changed_fields(record) -> dict:
    state = inspect(record)
    changes = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        if isinstance(attr.columns[0].type, EncryptedText):
            old = new = HIDDEN
        changes[attr.key] = {"from": old, "to": new}
    return changes


def _order_id(session: Session, record) -> int | None:
    if isinstance(record, Service | Domain | ServiceAddon):
        return record.order_id
    if isinstance(record, Invoice):
        return session.scalar(select(Order.id).where(Order.invoice_id == record.id))
    raise TypeError(f"No timeline for {type(record).__name__}")


_RECORD_TYPES = {Service: "service", Domain: "domain", Invoice: "invoice", ServiceAddon: "addon"}


def record_edit(session: Session, record, actor: Actor) -> dict:
    changes = changed_fields(record)  # before any query: a query would autoflush the history away
    if not changes:
        return changes
    with session.no_autoflush:
        order_id = _order_id(session, record)
    if order_id is not None:
        lock_order_for_edit(session, order_id)
        events.record_edited(session, order_id, actor, _RECORD_TYPES[type(record)], record.id, changes)
    session.flush()
    return changes
