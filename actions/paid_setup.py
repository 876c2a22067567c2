"""Paid in full -> automation (the seed's rule: items activate, the order stays Pending for review).

    after_invoice_paid(session, invoice, actor, confirmation_email=True)
                                                       called by actions.invoice_paid.mark_invoice_paid
    accept_if_set_up(session, order_id, actor) -> bool the optional auto-accept (also after each
                                                       create / registration, and in the daily run)
    paid_set_up_orders(session, after_id, limit)       the daily run's auto-accept selection
    start_billing_on_setup(service, day)               a paid-in-full create succeeded: bill from then

When an order's first invoice is paid in full and the order is pending:
- services whose product's auto-setup is on_payment get their module create side effect (unless a
  create has run or is under way), each with the welcome email, as Accept with Run Module Create
  records it; the service becomes Active when the create succeeds, and its next due date is then
  one billing cycle after that day (the client pays from the day the account exists);
- domains whose TLD names an auto-registration registrar are sent to it (register / transfer);
- with "Only auto-provision for existing clients" on, a client without another Active order gets
  none of that: the order waits for review, and the timeline says why;
- the order stays Pending, unless "Accept orders automatically once their invoice is paid and every
  item is set up" is on: then it is accepted (as the system) once every service and domain is
  Active - now, or when the last create / registration succeeds.
An upgrade order's invoice paid in full applies its change (actions.apply_upgrade), whatever the
order's status. Any invoice paid in full (a renewal's too) gets the Invoice Payment Confirmation
email (unless the API's AddInvoicePayment says noemail); a renewal invoice's items move their next
due date on one period. The caller holds the invoice's order lock
(actions.invoice_access.lock_invoice); flushes, never commits.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import addon_items, events
from actions.accept import AcceptOptions, accept_order, default_run_module_create, send_to_registrar
from actions.actor import Actor
from actions.apply_upgrade import request_apply
from actions.automation_settings import auto_accept_paid_orders, provision_existing_clients_only
from actions.locking import lock_order
from actions.pricing import find_tld
from actions.side_effects import record_email, record_module_create
from models import (
    AutoSetup,
    BillingCycle,
    Domain,
    DomainStatus,
    Invoice,
    InvoiceItemType,
    Order,
    OrderKind,
    OrderStatus,
    Service,
    ServiceStatus,
)
from models.billing_dates import add_months
from models.email_defaults import INVOICE_PAYMENT_CONFIRMATION
from models.guards import is_pending_like, is_set_up_and_paid, set_up_and_paid_where
from modules.registry import REGISTRARS

AUTO_ACCEPT_ACTOR = Actor.system("Auto-accept")
NEW_CLIENT = "Only auto-provision for existing clients is on and this client has no other active order"


def after_invoice_paid(
    session: Session, invoice: Invoice, actor: Actor, confirmation_email: bool = True
) -> None:
    order = session.scalars(
        select(Order).where(Order.invoice_id == invoice.id).order_by(Order.id).limit(1)
        .execution_options(populate_existing=True)
    ).first()
    if confirmation_email:  # off for the API's AddInvoicePayment noemail
        record_email(session, template=INVOICE_PAYMENT_CONFIRMATION, to=invoice.client.email,
                     client_id=invoice.client_id, order_id=order.id if order else None,
                     context={"invoice_id": invoice.id})
    if order is None:
        _renewal_paid(session, invoice)
        return
    if order.kind == OrderKind.UPGRADE:  # paid: its change goes to the server module
        request_apply(session, order, actor)
        return
    if not is_pending_like(order):
        return
    _set_up(session, order, invoice, actor)
    accept_if_set_up(session, order.id, AUTO_ACCEPT_ACTOR)


def _set_up(session: Session, order: Order, invoice: Invoice, actor: Actor) -> None:
    services = [s for s in order.services if s.status == ServiceStatus.PENDING
                and s.product.auto_setup == AutoSetup.ON_PAYMENT and default_run_module_create(session, s)]
    domains = [(d, _auto_registrar(session, d)) for d in order.domains if d.status == DomainStatus.PENDING]
    domains = [(d, registrar) for d, registrar in domains if registrar]
    addons = [a for a in order.addons if a.status == ServiceStatus.PENDING
              and a.addon.auto_setup == AutoSetup.ON_PAYMENT
              and addon_items.default_run_module_create(session, a)]
    if not services and not domains and not addons:
        return
    if provision_existing_clients_only(session) and not _existing_client(session, order):
        events.paid_setup(session, order.id, actor, {"invoice_id": invoice.id, "left_for_review": NEW_CLIENT})
        return
    created = []
    for service in services:
        effect = record_module_create(session, service, server_id=service.server_id
                                      or service.product.default_server_id, send_welcome_email=True)
        effect.payload = {**effect.payload, "on_payment": True}  # start_billing_on_setup when it succeeds
        created.append({"id": service.id, "side_effect_id": effect.id})
    sent = [send_to_registrar(session, order, domain, registrar) for domain, registrar in domains]
    details = {"invoice_id": invoice.id, "services": created, "domains": sent}
    if addons:  # the key only for orders with addons, as elsewhere on the timeline
        details["addons"] = [{"id": a.id, "side_effect_id": addon_items.record_addon_create(
            session, a, send_welcome_email=True).id} for a in addons]
    events.paid_setup(session, order.id, actor, details)


def _auto_registrar(session: Session, domain: Domain) -> str:
    tld = find_tld(session, domain.name)
    return tld.auto_registrar if tld is not None and tld.auto_registrar in REGISTRARS else ""


def _existing_client(session: Session, order: Order) -> bool:
    other = select(Order.id).where(Order.client_id == order.client_id, Order.id != order.id,
                                   Order.status == OrderStatus.ACTIVE).limit(1)
    return session.scalar(other) is not None


def accept_if_set_up(session: Session, order_id: int | None, actor: Actor = AUTO_ACCEPT_ACTOR) -> bool:
    """Accept the order when the auto-accept setting is on and it is paid and set up; False (nothing
    changed) otherwise."""
    if order_id is None or not auto_accept_paid_orders(session):
        return False
    order = lock_order(session, order_id)
    if not is_set_up_and_paid(order):
        return False
    accept_order(session, order, AcceptOptions(), actor)
    return True


def paid_set_up_orders(session: Session, after_id: int, limit: int) -> list[int]:
    """The daily run's auto-accept selection: Pending orders paid and set up, by id after `after_id`."""
    return list(session.scalars(
        select(Order.id).join(Invoice, Invoice.id == Order.invoice_id)
        .where(set_up_and_paid_where(), Order.id > after_id).order_by(Order.id).limit(limit)
    ))


def start_billing_on_setup(service: Service, day: date) -> None:
    """The first period runs from the day the account was created, when no renewal has been
    invoiced yet (the next invoice date is still the next due date)."""
    months = BillingCycle(service.billing_cycle).months
    if not months or service.next_due_date is None or service.next_invoice_date != service.next_due_date:
        return
    starts = add_months(day, months)
    if starts > service.next_due_date:
        service.next_due_date = service.next_invoice_date = starts


def _renewal_paid(session: Session, invoice: Invoice) -> None:
    """A renewal invoice paid: each item it renews is paid up to one period further."""
    lines = {(line.type, line.related_id) for line in invoice.items
             if line.type in (InvoiceItemType.HOSTING, InvoiceItemType.DOMAIN_RENEW)}
    for model, line_type in ((Service, InvoiceItemType.HOSTING), (Domain, InvoiceItemType.DOMAIN_RENEW)):
        ids = [related for kind, related in lines if kind == line_type and related]
        for item in session.scalars(select(model).where(model.id.in_(ids))) if ids else ():
            months = (BillingCycle(item.billing_cycle).months if model is Service else 12 * item.period_years)
            due, invoiced = item.next_due_date, item.next_invoice_date
            if months and due is not None and invoiced is not None and due < invoiced:
                item.next_due_date = add_months(due, months)

