"""The back office's own activity, beside the order timelines (the activity log shows both).

    list_exported(session, actor, list_name, fmt, filters, rows) -> OrderEvent

One event per export: who, which list, the query string it applied (its filters, search, sort) and
how many rows left the building. No order: order_id is NULL. Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from models import OrderEvent
from models.bounds import clean_text


def list_exported(
    session: Session, actor: Actor, list_name: str, fmt: str, filters: dict, rows: int
) -> OrderEvent:
    applied = {clean_text(k, max_length=100): str(v)[:500] for k, v in list(filters.items())[:50]}
    event = events.list_exported(session, actor, list_name, fmt, applied, rows)
    session.flush()
    return event
