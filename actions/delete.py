"""Delete Order (DESIGN.md §4).

    delete_order(session, order, actor, expected_version=None) -> dict   (the snapshot)
    order_snapshot(order) -> dict

Allowed for Cancelled or Fraud orders with no payment left unrefunded, and (our addition) no
module command still queued or running for the order: deleting the services under a terminate
that has not run would leave accounts on servers that nobody can see any more.
Removes the services (with their addons), domains, the invoice with its lines, and the order.
Payments and refunds (transactions) are money history and are kept, detached from the deleted
invoice (invoice_id NULL, client kept). Side-effect rows, email log rows and the timeline are
kept (no foreign keys); the order_deleted event holds a JSON snapshot of the order, its items,
invoice, lines and transactions (secrets - service passwords, EPP codes - left out). Flushes,
never commits.
"""

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.locking import lock_order, order_action
from actions.transitions import TRANSITIONS, Action, ErrorCode, TransitionError, unfinished_side_effects
from models import Order

_SECRETS = {"password", "epp_code", "secret", "settings"}


def _columns(row) -> dict:
    mapper = inspect(row).mapper
    return events.jsonable({c.key: getattr(row, c.key) for c in mapper.column_attrs if c.key not in _SECRETS})


def order_snapshot(order: Order) -> dict:
    invoice = order.invoice
    return {
        "order": _columns(order),
        "services": [{**_columns(s), "config_options": [str(o) for o in s.config_options]}
                     for s in order.services],
        "domains": [_columns(d) for d in order.domains],
        "addons": [_columns(a) for a in order.addons],
        "invoice": None
        if invoice is None
        else {
            **_columns(invoice),
            "items": [_columns(i) for i in invoice.items],
            "transactions": [_columns(t) for t in invoice.transactions],
        },
    }


@order_action
def delete_order(
    session: Session, order: Order | int, actor: Actor, expected_version: int | None = None
) -> dict:
    order = lock_order(session, order, expected_version)
    found = TRANSITIONS[Action.DELETE].refusal(session, order)
    if found:
        raise TransitionError.from_refusal(found)
    if unfinished_side_effects(session, order.id):
        raise TransitionError(
            ErrorCode.SIDE_EFFECTS_PENDING,
            "Module commands for this order are still queued or running; wait for them "
            "(or cancel them) before deleting the order",
        )
    snapshot = order_snapshot(order)
    events.order_deleted(session, order.id, actor, order.status, snapshot)
    invoice = order.invoice
    for item in [*order.addons, *order.services, *order.domains]:
        session.delete(item)
    order.invoice = None
    session.delete(order)
    if invoice is not None:
        session.flush()  # the order no longer points at the invoice
        for transaction in invoice.transactions:
            transaction.invoice = None
        session.delete(invoice)  # its lines go with it (cascade)
    session.flush()
    return snapshot
