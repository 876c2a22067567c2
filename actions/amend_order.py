"""Amend a pending order: add or remove items, change cycles, quantities, options, price overrides
or the promotion, re-priced by placement's code, the invoice following (docs/amend.md).

    amend_order(session, order, amendment, actor, expected_version=None) -> dict   (the event's diff)

Under the order's lock with the version the admin saw (actions.locking). Refused with nothing
changed (TransitionError) unless models.guards.amend_refusal passes: pending, invoice Unpaid with
no payment, every item Pending, no set-up command run. The amended cart is checked exactly as a
placement (actions.cart_check; PlacementError with a message per form field), then:
- removed services, domains and every addon row go (addons are written again from the quote); the
  queued, never tried set-up commands of services, addons and removed domains are cancelled; kept
  items are rewritten by placement's builders (actions.place), new ones created by them; the
  set-up commands of "on order" items are recorded as at placement (again, for a kept service
  whose queued one was cancelled);
- stock goes back for removed services and is taken for new ones; a changed promotion code gives
  back the old code's use and takes one of the new;
- the invoice's order lines are replaced by placement's lines (lines added by hand stay), its
  totals derived from them, and the order's amount is the invoice's total;
- order_amended on the timeline with the before -> after state.
An amendment that changes nothing is refused ("nothing to amend"). Flushes, never commits.
"""

from collections import Counter

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from actions import events
from actions.actor import Actor
from actions.addon_items import add_ordered_addons, addon_invoice_lines, record_addon_placement_effects
from actions.amend_cart import Amendment, amendment_cart
from actions.amend_diff import order_state, same_state, state_diff
from actions.cart import PlacementError, domain_field, product_field
from actions.cart_check import check_cart, claim_promotion_and_stock, give_back_stock
from actions.config_options import config_option_rows
from actions.custom_fields import add_service_answers
from actions.errors import ErrorCode, TransitionError
from actions.invoice_access import refuse, touch
from actions.locking import lock_order, order_action
from actions.place import created_on_placement, domain_fields, invoice_lines, service_fields
from actions.pricing import Quote
from actions.promotions import find_promotion, release_promotion_use
from actions.side_effects import cancel_if_queued, record_module_create
from actions.transitions import unfinished_side_effects
from models import ZERO, Domain, InvoiceItem, InvoiceItemType, Order, Service
from models.bounds import MAX_MONEY
from models.guards import PROVISIONING_KINDS, amend_refusal, set_up_commands

AMENDED = "The order was amended (a removed item, or recorded again for the amended one)"


def _kept(order: Order, amendment: Amendment) -> tuple[dict[int, Service], dict[int, Domain]]:
    """The items the amendment keeps, by id; PlacementError when a line names an item that is not
    this order's (another order's, another client's, made up), names one twice, or changes the
    product of a kept service (remove it and add a new line instead)."""
    if len(amendment.service_ids) != len(amendment.products) or \
            len(amendment.domain_ids) != len(amendment.domains):
        raise ValueError("An amendment names one item id (or None) per line")
    services, domains = {s.id: s for s in order.services}, {d.id: d for d in order.domains}
    errors: dict[str, list[str]] = {}
    kept_services: dict[int, Service] = {}
    for i, (line, service_id) in enumerate(zip(amendment.products, amendment.service_ids, strict=True)):
        if service_id is None:
            continue
        service = services.get(service_id)
        if service is None or service_id in kept_services:
            errors.setdefault(product_field(i, "service_id"), []).append(
                f"Service {service_id} is not an item of order #{order.order_number}."
                if service is None else f"Service #{service_id} is listed twice.")
        elif line.product_id != service.product_id:
            errors.setdefault(product_field(i, "product_id"), []).append(
                f"Service #{service_id} stays {service.product}: remove it and add a new line instead.")
        else:
            kept_services[service_id] = service
    kept_domains: dict[int, Domain] = {}
    for i, domain_id in enumerate(amendment.domain_ids):
        if domain_id is None:
            continue
        if domain_id not in domains or domain_id in kept_domains:
            errors.setdefault(domain_field(i, "name"), []).append(
                f"Domain {domain_id} is not an item of order #{order.order_number}."
                if domain_id not in domains else f"Domain #{domain_id} is listed twice.")
        else:
            kept_domains[domain_id] = domains[domain_id]
    if errors:
        raise PlacementError(errors)
    return kept_services, kept_domains


def _cancel_set_up(session: Session, order: Order, targets: set[tuple[str, int]], actor: Actor) -> set:
    """Cancel the queued set-up commands of `targets`; the (type, id) of those cancelled. One a
    worker has claimed meanwhile refuses the amendment (the worker may be setting it up now)."""
    cancelled = set()
    for effect in unfinished_side_effects(session, order.id):
        target = (effect.target_type, effect.target_id)
        if effect.kind in PROVISIONING_KINDS and target in targets:
            if not cancel_if_queued(session, effect, actor, AMENDED):
                raise TransitionError(ErrorCode.SIDE_EFFECTS_PENDING, "A set-up command of this order has "
                                      "just started: the order can no longer be amended")
            cancelled.add(target)
    return cancelled


def _take_promotion_and_stock(session, order, promotion, new_quotes, removed: list[Service]) -> None:
    give_back_stock(session, Counter(s.product_id for s in removed))
    changed = (promotion.code if promotion else "").lower() != (order.promo_code or "").lower()
    old = find_promotion(session, order.promo_code) if changed and order.promo_code else None
    if old is not None:
        release_promotion_use(session, old.id)
    claim_promotion_and_stock(session, Quote(services=new_quotes), promotion if changed else None)


def _forget_removed(session: Session, order: Order, services) -> None:
    """Reload the order's item lists (and the services' own) on next use: rows deleted or added
    since they were loaded must not linger in them."""
    session.expire(order, ["services", "domains", "addons"])
    for service in services:
        session.expire(service, ["config_options", "addons"])


@order_action
def amend_order(
    session: Session, order: Order | int, amendment: Amendment, actor: Actor,
    expected_version: int | None = None,
) -> dict:
    order = lock_order(session, order, expected_version)
    refuse(amend_refusal(order, set_up_commands(session, order.id)))
    kept_services, kept_domains = _kept(order, amendment)
    cart = amendment_cart(order, amendment, kept_services, kept_domains)
    quote, _client, promotion = check_cart(session, cart, order.status, amending=order)
    if quote.errors:
        raise PlacementError(quote.errors)
    before = order_state(order)
    today = order.date.date()  # items keep the dates placement gave them

    # Which quote rewrites which kept service: the first service of a kept line; the rest are new.
    reuse: dict[int, Service] = {}
    for index, item in enumerate(quote.services):
        service = kept_services.get(amendment.service_ids[item.line])
        if service is not None and service not in reuse.values():
            reuse[index] = service
    removed_services = [s for s in order.services if s not in reuse.values()]
    removed_domains = [d for d in order.domains if d.id not in kept_domains]
    new_quotes = [q for i, q in enumerate(quote.services) if i not in reuse]
    _take_promotion_and_stock(session, order, promotion, new_quotes, removed_services)
    # Every service's and addon's queued create (written again below for what is kept), a removed
    # domain's registration.
    cancelled = _cancel_set_up(session, order, {("service", s.id) for s in order.services}
                               | {("domain", d.id) for d in removed_domains}
                               | {("addon", a.id) for a in order.addons}, actor)

    for row in [*order.addons, *removed_services, *removed_domains]:
        session.delete(row)
    for service in reuse.values():
        service.config_options.clear()  # written again below, from the quote
    session.flush()
    _forget_removed(session, order, reuse.values())

    services, created = [], []
    for index, item in enumerate(quote.services):
        fields = service_fields(item, promotion, today)
        service = reuse.get(index)
        if service is None:
            service = Service(order_id=order.id, client_id=order.client_id, **fields)
            session.add(service)
            created.append((service, item))
        else:
            for name, value in fields.items():
                setattr(service, name, value)
        services.append(service)
    domains = []
    for item in quote.domains:
        fields = domain_fields(item, cart, promotion, today)
        domain = kept_domains.get(amendment.domain_ids[item.line])
        if domain is None:
            domain = Domain(order_id=order.id, client_id=order.client_id, **fields)
            session.add(domain)
        else:
            for name, value in fields.items():
                setattr(domain, name, value)
        domains.append(domain)
    session.flush()
    session.add_all([row for s, q in zip(services, quote.services, strict=True)
                     for row in config_option_rows(s, q.options)])
    addons = add_ordered_addons(session, order, services, quote.services, promotion, today)
    add_service_answers(session, [s for s, _ in created], [q for _, q in created], cart)

    invoice = order.invoice
    lines = invoice_lines(quote, cart, promotion, [s.id for s in services], [d.id for d in domains])
    lines += addon_invoice_lines([(row.id, item, label) for row, item, label in addons], promotion)
    for line in [i for i in invoice.items if i.type != InvoiceItemType.ITEM]:  # lines added by hand stay
        invoice.items.remove(line)
    invoice.items.extend(InvoiceItem(**line) for line in lines)
    invoice.derive_totals()
    if not ZERO <= invoice.total <= MAX_MONEY or invoice.subtotal > MAX_MONEY:
        raise TransitionError(ErrorCode.INVALID_OPTION, f"The invoice would total {invoice.total}: below "
                              f"zero or beyond {MAX_MONEY:,}")
    touch(invoice)
    order.amount = invoice.total
    order.promo_code = promotion.code if promotion else ""
    order.promo_type = promotion.type if promotion else ""
    order.promo_value = promotion.value if promotion else None
    flag_modified(order, "amount")  # a new version even when the total stays: open pages go stale
    session.flush()

    for service, item in zip(services, quote.services, strict=True):
        is_new = any(service is new for new, _ in created)
        if created_on_placement(item) and (is_new or ("service", service.id) in cancelled):
            record_module_create(session, service, server_id=service.server_id, send_welcome_email=True)
    record_addon_placement_effects(session, [row for row, _, _ in addons])
    _forget_removed(session, order, services)
    after = order_state(order)
    if same_state(before, after):
        raise TransitionError(ErrorCode.INVALID_OPTION, "Nothing to amend: the order's items and prices "
                              "are as they were")
    diff = state_diff(invoice.id, before, after)
    events.order_amended(session, order.id, actor, diff)
    session.flush()
    return diff
