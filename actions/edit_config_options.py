"""Change a service's configurable options after the order (the order page's options form).

    edit_config_options(session, order, service_id, values, actor, expected_version=None) -> dict
        values: {option id: choice id / 0-1 / count} for the options that change (others keep theirs)

Checked like placement (actions.config_options: unknown option, not the product's, not a choice
of it, quantity out of bounds -> TransitionError invalid_option, nothing changed). The recurring
amount is re-priced by the difference the options make on the service's cycle at today's catalog
prices, so a price override or promotion on the rest of the amount stays; the first payment and
the invoice already issued are history and stay. Writes config_options_edited (each option's
before -> after, the recurring amount's before -> after) on the order's timeline, under the
order's lock with a version bump (an open order page goes stale). Flushes, never commits.
"""

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.cart import Cart, CartProduct
from actions.config_options import (
    load_config_options,
    options_price,
    price_config_options,
    stored_price,
    stored_values,
)
from actions.locking import lock_order, lock_order_for_edit, order_action
from actions.transitions import ErrorCode, TransitionError
from models import BillingCycle, Order, ServiceConfigOption
from models.bounds import MAX_MONEY, parse_id


@order_action
def edit_config_options(
    session: Session, order: Order | int, service_id, values: dict, actor: Actor,
    expected_version: int | None = None,
) -> dict:
    order = lock_order(session, order, expected_version)
    service_id = parse_id(service_id, "The service id")
    service = next((s for s in order.services if s.id == service_id), None)
    if service is None:
        raise TransitionError(ErrorCode.NOT_FOUND,
                              f"Order #{order.order_number} has no service {service_id}")
    catalog = load_config_options(session, Cart(None, products=[CartProduct(service.product_id)]))
    before = {row.option_id: row for row in service.config_options}
    new, problems = price_config_options(0, {**stored_values(service), **values}, service.product,
                                         service.billing_cycle, catalog, order.currency_id)
    if problems:
        raise TransitionError(ErrorCode.INVALID_OPTION, " ".join(message for _, message in problems))
    changes = {}
    for quote in new:
        row = before.get(quote.option.id)
        was, now = (row.shown if row else None), quote.shown
        if was != now:
            changes[quote.option.name] = {"from": was, "to": now}
    if not changes:
        return {}
    recurring = service.recurring_amount
    if service.billing_cycle != BillingCycle.ONE_TIME:
        recurring += options_price(new)[0] - stored_price(service.config_options, service.billing_cycle,
                                                             order.currency_id)
    if not 0 <= recurring <= MAX_MONEY:  # checked before anything changes
        raise TransitionError(ErrorCode.INVALID_OPTION, f"The recurring amount would be {recurring}: "
                              f"below zero or beyond {MAX_MONEY:,}")
    for quote in new:
        row = before.get(quote.option.id)
        if row is None:
            session.add(ServiceConfigOption(service=service, option_id=quote.option.id,
                                            choice_id=quote.choice.id, quantity=quote.quantity))
        else:
            row.choice_id, row.quantity = quote.choice.id, quote.quantity
    amounts = {"from": service.recurring_amount, "to": recurring}
    service.recurring_amount = recurring
    lock_order_for_edit(session, order.id)
    events.config_options_edited(session, order.id, actor, service.id, changes, amounts)
    session.flush()
    return changes
