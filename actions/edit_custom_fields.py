"""An admin changes the custom field answers of a service (on its order's page) or of a client.

    edit_service_custom_fields(session, order, service_id, answers, actor, expected_version) -> changes
    edit_client_custom_fields(session, client, answers, actor, expected_answers) -> changes

`answers` maps field id -> the posted text; a field not posted keeps its answer, and so does a
password left empty (the page never shows it; a tick box posts "" when unticked). The answers
are checked like at placement, but an admin-only required field must be filled too. A refusal
(InvalidInput) writes nothing. A change writes one record_edited event,
{"Custom field: <name>": {from, to}}, a password's sides as "(changed)".

A service's edit takes its order's lock, checks the version the admin saw and bumps it (like the
other record edits). A client has no version: the page posts the fingerprint of the answers it
showed (`answers_fingerprint`), and a different one is stale. Flushes, never commits.
"""

import hashlib
from collections.abc import Mapping

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.custom_fields import check_answers, client_fields, product_fields, set_answers
from actions.locking import lock_order, lock_order_for_edit, order_action
from models import Client, CustomField, Order, Service
from models.bounds import InvalidInput

STALE_ANSWERS = "These answers were changed by someone else — reload and try again"


def answers_fingerprint(owner: Service | Client) -> str:
    """A digest of the owner's answers. A password counts only as set or not: a digest of it in
    the page would be a way to guess it, so two admins changing one password are not told apart."""
    parts = sorted(f"{v.field_id}=" + (("set" if v.secret else "") if v.field.is_secret else v.value)
                   for v in owner.custom_field_values)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _checked(owner, fields: list[CustomField], answers: Mapping[int, str]) -> dict[int, str]:
    current = {v.field_id: v.answer for v in owner.custom_field_values}
    posted = current | dict(answers)  # a field not posted keeps its answer
    for field in fields:  # an empty password box keeps the password
        if field.is_secret and not answers.get(field.id) and current.get(field.id):
            posted[field.id] = current[field.id]
    clean, errors = check_answers(fields, posted, lambda name: name, placing=False)
    if errors:
        raise InvalidInput(" ".join(m for messages in errors.values() for m in messages))
    return clean


def _labelled(changes: dict) -> dict:
    return {f"Custom field: {name}": change for name, change in changes.items()}


@order_action
def edit_service_custom_fields(
    session: Session, order: Order | int, service_id: int, answers: Mapping[int, str], actor: Actor,
    expected_version: int | None = None,
) -> dict:
    order = lock_order(session, order, expected_version)
    service = next((s for s in order.services if s.id == service_id), None)
    if service is None:
        raise InvalidInput(f"Service {service_id} is not an item of this order.")
    fields = product_fields(session, [service.product_id])[service.product_id]
    changes = _labelled(set_answers(service, fields, _checked(service, fields, answers)))
    if changes:
        lock_order_for_edit(session, order.id)  # open pages of this order go stale
        events.record_edited(session, order.id, actor, "service", service.id, changes)
    session.flush()
    return changes


def edit_client_custom_fields(
    session: Session, client: Client, answers: Mapping[int, str], actor: Actor, expected_answers: str
) -> dict:
    if expected_answers != answers_fingerprint(client):
        raise InvalidInput(STALE_ANSWERS)
    fields = client_fields(session)
    changes = _labelled(set_answers(client, fields, _checked(client, fields, answers)))
    if changes:
        # A client belongs to no order: the activity log's row (order id empty).
        events.record_edited(session, None, actor, "client", client.id, changes)
    session.flush()
    return changes
