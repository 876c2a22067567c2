"""Recording side effects (the outbox) and recording their outcomes.

Contract shared by actions/ and jobs/ (DESIGN.md §5):
- An action calls `record_side_effect(...)` inside its transaction; the row is committed with the
  state change. The dispatcher in jobs/ (after commit) enqueues or runs every row it recorded.
- A job calls `start_side_effect(...)` to claim a row, runs the module, then
  `complete_side_effect(...)` or `fail_side_effect(...)`; these apply the outcome to the items
  (service Active, domain Pending Registration -> Active, invoice Refunded, ...) and write events.
"""

import uuid

from sqlalchemy.orm import Session

from models import SideEffect, SideEffectStatus

# Session.info key where the dispatcher finds the rows recorded in this transaction.
PENDING_KEY = "orderdesk_side_effects"


def record_side_effect(
    session: Session,
    *,
    kind: str,
    order_id: int | None,
    target_type: str,
    target_id: int | None,
    payload: dict | None = None,
    max_attempts: int = 5,
) -> SideEffect:
    effect = SideEffect(
        kind=kind,
        order_id=order_id,
        target_type=target_type,
        target_id=target_id,
        payload=payload or {},
        status=SideEffectStatus.QUEUED,
        max_attempts=max_attempts,
        idempotency_key=f"{kind}-{uuid.uuid4().hex}",
    )
    session.add(effect)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(effect.id)
    return effect
