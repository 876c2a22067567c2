"""Guards: may this action run on this order, and if not, why. Read-only.

The "Allowed from" column of DESIGN.md §4 lives here (models/ cannot import actions/, and both the
actions and the admin page need it), with the read-only predicates a transition row adds to it.
actions/transitions.py holds the table itself: each row names its AllowedFrom and its extra checks,
and `Transition.refusal(session, order)` answers for actions and faces alike:

    ALLOWED_FROM[action].refusal(status, include_in_pending) -> Refusal | None
    payments_to_refund(session, order) / no_unrefunded_payments(session, order) -> Refusal | None
    amend_refusal(order, side_effects) -> Refusal | None     Amend a pending order (set_up_commands)
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import ColumnElement, select, true

from models.billing import Invoice, Transaction
from models.orders import Domain, Order, OrderStatusDefinition, Service
from models.outbox import SideEffect
from models.vocab import (
    DomainStatus,
    InvoiceStatus,
    OrderKind,
    OrderStatus,
    ServiceStatus,
    SideEffectKind,
    SideEffectStatus,
)


class OrderAction(StrEnum):
    ACCEPT = "accept"
    CANCEL = "cancel"
    CANCEL_AND_REFUND = "cancel_and_refund"
    SET_FRAUD = "set_fraud"
    SET_PENDING = "set_pending"
    DELETE = "delete"
    CHANGE_STATUS = "change_status"


class RefusalCode(StrEnum):
    NOT_ALLOWED = "not_allowed"  # the order's status does not allow the action
    SAME_STATUS = "same_status"
    NO_PAYMENTS = "no_payments"
    UNREFUNDED_PAYMENTS = "unrefunded_payments"


class Refusal(NamedTuple):
    code: str
    message: str


@dataclass(frozen=True)
class AllowedFrom:
    """Which order statuses an action may start from."""

    all_but: str | None = None  # any status except this one
    only: frozenset[str] | None = None  # exactly these statuses
    pending_like: bool = False  # Pending, or a custom status with include_in_pending
    refused: str = ""  # why not, when the status does not allow it ("{status}": the order's status)

    def allows(self, status: str, include_in_pending: bool) -> bool:
        if self.pending_like:
            return status == OrderStatus.PENDING or include_in_pending
        if self.only is not None:
            return status in self.only
        return status != self.all_but

    def sql(self) -> ColumnElement[bool]:
        """The same rule as a WHERE clause on orders.status (for set-based bulk changes)."""
        if self.pending_like:
            titles = select(OrderStatusDefinition.title).where(OrderStatusDefinition.include_in_pending)
            return Order.status.in_(titles)
        if self.only is not None:
            return Order.status.in_(sorted(self.only))
        if self.all_but is not None:
            return Order.status != self.all_but
        return true()

    def refusal(self, status: str, include_in_pending: bool = False) -> Refusal | None:
        if self.allows(status, include_in_pending):
            return None
        message = self.refused or "Not allowed from {status}"
        return Refusal(RefusalCode.NOT_ALLOWED, message.format(status=status))


ALLOWED_FROM: dict[OrderAction, AllowedFrom] = {
    OrderAction.ACCEPT: AllowedFrom(
        pending_like=True, refused="Only pending orders can be accepted; this order is {status}"),
    OrderAction.CANCEL: AllowedFrom(all_but=OrderStatus.CANCELLED, refused="The order is already Cancelled"),
    OrderAction.CANCEL_AND_REFUND: AllowedFrom(
        all_but=OrderStatus.CANCELLED, refused="The order is already Cancelled"),
    OrderAction.SET_FRAUD: AllowedFrom(
        all_but=OrderStatus.FRAUD, refused="The order is already set as Fraud"),
    OrderAction.SET_PENDING: AllowedFrom(all_but=OrderStatus.PENDING, refused="The order is already Pending"),
    OrderAction.DELETE: AllowedFrom(
        only=frozenset({OrderStatus.CANCELLED, OrderStatus.FRAUD}),
        refused="Only Cancelled or Fraud orders can be deleted; this order is {status}"),
    OrderAction.CHANGE_STATUS: AllowedFrom(),
}


def refundable_payments(invoice: Invoice | None) -> list[tuple[Transaction, Decimal]]:
    """Each payment on the invoice with the amount not yet refunded (refunds link by refund_of_id)."""
    if invoice is None:
        return []
    refunded: dict[int, Decimal] = {}
    for t in invoice.transactions:
        if t.refund_of_id is not None:
            refunded[t.refund_of_id] = refunded.get(t.refund_of_id, Decimal("0.00")) + t.amount_out
    payments = []
    for t in invoice.transactions:
        if t.refund_of_id is None and t.amount_in > 0:
            left = t.amount_in - refunded.get(t.id, Decimal("0.00"))
            if left > 0:
                payments.append((t, left))
    return payments


def is_pending_like(order: Order) -> bool:
    definition = order.status_definition
    return order.status == OrderStatus.PENDING or bool(definition and definition.include_in_pending)


def payments_to_refund(session, order: Order) -> Refusal | None:
    """Cancel & Refund needs a payment that is not refunded yet."""
    if refundable_payments(order.invoice):
        return None
    return Refusal(RefusalCode.NO_PAYMENTS, "The invoice has no payments to refund; use Cancel Order")


def no_unrefunded_payments(session, order: Order) -> Refusal | None:
    """Delete keeps no money history of its own: every payment must be refunded first."""
    if not refundable_payments(order.invoice):
        return None
    return Refusal(
        RefusalCode.UNREFUNDED_PAYMENTS,
        "The invoice has payments that are not refunded; refund them before deleting the order",
    )


# Module and registrar commands that set an item up: once one has run, the item exists outside.
PROVISIONING_KINDS = (SideEffectKind.MODULE_CREATE, SideEffectKind.ADDON_CREATE,
                      SideEffectKind.DOMAIN_REGISTER, SideEffectKind.DOMAIN_TRANSFER)


_PENDING = frozenset({ServiceStatus.PENDING, DomainStatus.PENDING})


def set_up_commands(session, order_id: int) -> list[SideEffect]:
    """The order's set-up commands, whatever their state (for amend_refusal)."""
    return list(session.scalars(select(SideEffect).where(
        SideEffect.order_id == order_id, SideEffect.kind.in_(PROVISIONING_KINDS))))


def has_run(effect: SideEffect) -> bool:
    """Tried at least once, running or done. One queued and never tried has not: amending cancels it."""
    return effect.attempts > 0 or effect.status in (SideEffectStatus.RUNNING, SideEffectStatus.SUCCEEDED)


def amend_refusal(order: Order, side_effects) -> Refusal | None:
    """Amend is for an order nothing has happened to yet: pending, its invoice Unpaid with no
    payment, refund or credit on it, every item Pending and no set-up command run (`side_effects`:
    the order's, e.g. set_up_commands; other kinds are ignored). Reads the services' addons (the
    order page has them loaded)."""
    if order.kind == OrderKind.UPGRADE:  # its invoice bills a proration, not catalog lines to re-price
        return Refusal(RefusalCode.NOT_ALLOWED, "An upgrade order cannot be amended: cancel it and order "
                       "the upgrade again")
    if not is_pending_like(order):
        return Refusal(RefusalCode.NOT_ALLOWED,
                       f"Only pending orders can be amended; this order is {order.status}")
    invoice = order.invoice
    if invoice is None:
        return Refusal(RefusalCode.NOT_ALLOWED, "The order has no invoice to follow an amendment")
    if invoice.status != InvoiceStatus.UNPAID:
        return Refusal(RefusalCode.NOT_ALLOWED,
                       f"Invoice #{invoice.id} is {invoice.status}: only an unpaid order can be amended")
    if invoice.transactions or invoice.credit:
        return Refusal(RefusalCode.NOT_ALLOWED, f"Invoice #{invoice.id} has a payment recorded on it: "
                       "the order can no longer be amended")
    items = [("Service", i) for i in order.services] \
        + [("Addon", a) for s in order.services for a in s.addons] + [("Domain", i) for i in order.domains]
    started = next(((noun, i) for noun, i in items if i.status not in _PENDING), None)
    if started is not None:
        noun, item = started
        return Refusal(RefusalCode.NOT_ALLOWED, f"{noun} #{item.id} is {item.status}: an order with an "
                       "item set up can no longer be amended")
    if any(e.kind in PROVISIONING_KINDS and has_run(e) for e in side_effects):
        return Refusal(RefusalCode.NOT_ALLOWED, "A set-up command has already run for this order: "
                       "it can no longer be amended")
    return None


# --- the daily run's sweeps ---------------------------------------------------------------------


def stale_unpaid_where(cutoff) -> ColumnElement[bool]:
    """SQL on orders: is_stale_unpaid, for the selection (Order joined to its first invoice)."""
    paid_anything = select(Transaction.id).where(
        Transaction.invoice_id == Invoice.id, Transaction.amount_in > 0).exists()
    return (
        (Order.status == OrderStatus.PENDING) & (Order.date <= cutoff)
        & (Invoice.status == InvoiceStatus.UNPAID) & ~paid_anything
    )


def is_stale_unpaid(order: Order, cutoff) -> bool:
    """"Cancel unpaid pending orders after N days": Pending (the core status: a custom one was set by
    someone on purpose), placed on or before `cutoff`, its invoice Unpaid with nothing paid on it
    (a part-paid order is a conversation, not a stale one). No invoice: not "unpaid"."""
    invoice = order.invoice
    return (
        order.status == OrderStatus.PENDING and order.date <= cutoff and invoice is not None
        and invoice.status == InvoiceStatus.UNPAID and invoice.amount_paid == 0
    )


def is_set_up_and_paid(order: Order) -> bool:
    """"Accept orders automatically once their invoice is paid and every item is set up": pending
    (or a custom pending-like status), its invoice Paid, and every service and domain Active."""
    items = [*order.services, *order.domains]
    return (
        is_pending_like(order) and order.invoice is not None and order.invoice.status == InvoiceStatus.PAID
        and bool(items) and all(s.status == ServiceStatus.ACTIVE for s in order.services)
        and all(d.status == DomainStatus.ACTIVE for d in order.domains)
    )


def set_up_and_paid_where() -> ColumnElement[bool]:
    """SQL on orders joined to their first invoice: is_set_up_and_paid, for the daily run's selection
    (the core Pending status; a custom pending-like one is found when its last item is set up)."""
    not_active_service = select(Service.id).where(Service.order_id == Order.id,
                                                  Service.status != ServiceStatus.ACTIVE).exists()
    not_active_domain = select(Domain.id).where(Domain.order_id == Order.id,
                                                Domain.status != DomainStatus.ACTIVE).exists()
    return (Order.status == OrderStatus.PENDING) & (Invoice.status == InvoiceStatus.PAID) \
        & ~not_active_service & ~not_active_domain
