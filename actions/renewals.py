"""Renewal invoices: the daily run bills active services and domains before they fall due.
Renewals never create an order (the seed's rule): only an invoice, with the system as actor.

    due_clients(session, horizon, after_client_id, limit) -> list[int]
    invoice_renewals(session, client_ids, horizon, today, actor) -> RenewalBatch

An item is due when it is Active and its next invoice date (the start of the first period not yet
invoiced) is on or before `horizon` (today + "Invoice Generation Days"). Each due item gets one
line for that period and its next invoice date moves on one billing cycle in the same
transaction, so a second run finds nothing to do for it: each period is invoiced once. An item
behind by several periods gets one per call (jobs/daily.py calls again until none is due). The
client's items due on one day with one payment method share an invoice (WHMCS groups them too);
its due date is that day.

The price is the item's recurring amount (the price agreed at order, overrides included). For a
recurring promotion with a "Recur For" count, renewals 1 .. recur_for keep the discount, shown as
the full price and a promotion line; from the next one the item renews at the catalog price and its
recurring amount becomes that price (WHMCS resets it the same way). Items renewing at 0.00 move on
without a line.

Set-based: a batch is one query per table read and, per table written, multi-row INSERTs (1,000
rows each) or one executemany UPDATE, whatever its size. Flushes, never commits (jobs/daily.py
commits batch by batch).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, union, update
from sqlalchemy.orm import Session, selectinload

from actions import events
from actions.actor import Actor
from actions.pricing import tld_of
from models import (
    ZERO,
    BillingCycle,
    Client,
    Currency,
    Domain,
    DomainStatus,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    InvoiceStatus,
    Order,
    Product,
    ProductPrice,
    Promotion,
    Service,
    ServiceStatus,
    Tld,
    utcnow,
)
from models.billing_dates import add_months


@dataclass
class _Due:
    """One item's period to invoice."""

    kind: str  # "service" | "domain"
    id: int
    client_id: int
    order_id: int | None
    label: str
    months: int
    start: date
    amount: Decimal
    promotion: Promotion | None = None
    price_key: tuple | None = None  # services: (product id, cycle, currency id): its catalog price
    full_price: Decimal | None = None  # the catalog price, read only under a recurring promotion
    renewals_so_far: int = 0

    @property
    def end(self) -> date:
        return add_months(self.start, self.months)


@dataclass
class RenewalBatch:
    invoice_ids: list[int] = field(default_factory=list)
    services: int = 0
    domains: int = 0
    moved_without_line: int = 0  # items renewing at 0.00
    total: Decimal = ZERO


def due_clients(session: Session, horizon: date, after_client_id: int, limit: int) -> list[int]:
    """The next `limit` clients (by id, after `after_client_id`) with an item due by `horizon`."""
    services = select(Service.client_id).where(
        Service.status == ServiceStatus.ACTIVE, Service.next_invoice_date <= horizon,
        Service.client_id > after_client_id,
    )
    domains = select(Domain.client_id).where(
        Domain.status == DomainStatus.ACTIVE, Domain.next_invoice_date <= horizon,
        Domain.client_id > after_client_id,
    )
    both = union(services, domains).subquery()
    return list(session.scalars(select(both.c.client_id).order_by(both.c.client_id).limit(limit)))


def invoice_renewals(
    session: Session, client_ids: list[int], horizon: date, today: date, actor: Actor
) -> RenewalBatch:
    """Invoice every item of these clients due by `horizon` (one period each) and move it on."""
    batch = RenewalBatch()
    if not client_ids:
        return batch
    due = _due_services(session, client_ids, horizon) + _due_domains(session, client_ids, horizon)
    orders = _order_billing(session, {item.order_id for item in due if item.order_id})
    _count_promoted_renewals(session, due, {invoice for _, invoice in orders.values() if invoice})
    groups: dict[tuple, list[tuple[_Due, list[dict]]]] = defaultdict(list)
    moves = {"service": [], "domain": []}
    for item in due:
        lines, new_amount = _lines(item)
        move = {"id": item.id, "next_invoice_date": item.end}
        if new_amount is not None:
            move["recurring_amount"] = new_amount
        moves[item.kind].append(move)
        if lines:
            method = orders.get(item.order_id, ("", None))[0]
            groups[(item.client_id, item.start, method)].append((item, lines))
            setattr(batch, f"{item.kind}s", getattr(batch, f"{item.kind}s") + 1)
        else:
            batch.moved_without_line += 1
    _write_invoices(session, groups, orders, today, actor, batch)
    for kind, model in (("service", Service), ("domain", Domain)):
        if moves[kind]:
            # Rows without a new recurring amount keep theirs: two statements, one per shape.
            for shape in ({"id", "next_invoice_date"}, {"id", "next_invoice_date", "recurring_amount"}):
                rows = [m for m in moves[kind] if set(m) == shape]
                if rows:
                    session.execute(update(model), rows)
    session.flush()
    return batch


# --- reading a batch ---------------------------------------------------------------------------------


def _due_services(session: Session, client_ids: list[int], horizon: date) -> list[_Due]:
    rows = session.execute(
        select(Service.id, Service.client_id, Service.order_id, Service.product_id, Service.domain,
               Service.billing_cycle, Service.recurring_amount, Service.promotion_id,
               Service.next_invoice_date)
        .where(Service.client_id.in_(client_ids), Service.status == ServiceStatus.ACTIVE,
               Service.next_invoice_date <= horizon)
        .order_by(Service.id)
        .with_for_update(skip_locked=True)  # PostgreSQL: a concurrent run leaves these alone
    ).all()
    products = dict(session.execute(
        select(Product.id, Product.name).where(Product.id.in_({r.product_id for r in rows}))
    ).all())
    promotions = _promotions(session, {r.promotion_id for r in rows})
    due = []
    for r in rows:
        months = BillingCycle(r.billing_cycle).months
        if not months:
            continue  # One Time: nothing renews (its next invoice date should be empty anyway)
        label = products.get(r.product_id, "Service") + (f" - {r.domain}" if r.domain else "")
        due.append(_Due("service", r.id, r.client_id, r.order_id, f"{label} ({r.billing_cycle})", months,
                        r.next_invoice_date, r.recurring_amount, promotion=promotions.get(r.promotion_id),
                        price_key=(r.product_id, r.billing_cycle)))
    _service_full_prices(session, due, client_ids)
    return due


def _client_currencies(session: Session, client_ids) -> dict[int, int]:
    """Each client's currency: what their items are priced and invoiced in."""
    return dict(session.execute(select(Client.id, Client.currency_id).where(Client.id.in_(client_ids))).all())


def _service_full_prices(session: Session, due: list[_Due], client_ids: list[int]) -> None:
    wanted = [item for item in due if _recurs(item.promotion)]
    if not wanted:
        return
    currencies = _client_currencies(session, client_ids)
    prices = {(p.product_id, p.cycle, p.currency_id): p.price for p in session.scalars(
        select(ProductPrice).where(ProductPrice.product_id.in_({i.price_key[0] for i in wanted})))}
    for item in wanted:
        item.full_price = prices.get((*item.price_key, currencies[item.client_id]), item.amount)


def _due_domains(session: Session, client_ids: list[int], horizon: date) -> list[_Due]:
    domains = session.scalars(
        select(Domain)
        .where(Domain.client_id.in_(client_ids), Domain.status == DomainStatus.ACTIVE,
               Domain.next_invoice_date <= horizon)
        .order_by(Domain.id)
        .with_for_update(skip_locked=True)
    ).all()
    promotions = _promotions(session, {d.promotion_id for d in domains})
    currencies = _client_currencies(session, {d.client_id for d in domains})
    tlds = None
    due = []
    for d in domains:
        item = _Due("domain", d.id, d.client_id, d.order_id,
                    f"Domain Renewal - {d.name} - {d.period_years} Year(s)", 12 * d.period_years,
                    d.next_invoice_date, d.recurring_amount, promotion=promotions.get(d.promotion_id))
        if _recurs(item.promotion):
            if tlds is None:
                catalog = session.scalars(select(Tld).options(selectinload(Tld.prices)))
                tlds = {t.extension: t for t in catalog}
            item.full_price = _domain_price(d, tlds, currencies[d.client_id]) or item.amount
        due.append(item)
    return due


def _domain_price(domain: Domain, tlds: dict[str, Tld], currency_id: int) -> Decimal | None:
    """The catalog's renewal price for this domain's period in its client's currency, addons included."""
    tld = tld_of(domain.name, tlds)
    row = next((p for p in tld.prices if p.years == domain.period_years and p.currency_id == currency_id),
               None) if tld else None
    if row is None:
        return None
    price = row.renew_price if row.renew_price is not None else row.register_price
    if price is None:
        return None
    addons = sum((tld.dns_management_price if domain.dns_management else ZERO,
                  tld.email_forwarding_price if domain.email_forwarding else ZERO,
                  tld.id_protection_price if domain.id_protection else ZERO), ZERO)
    return price + domain.period_years * addons


def _promotions(session: Session, ids: set) -> dict[int, Promotion]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Promotion).where(Promotion.id.in_(ids)))}


def _recurs(promotion: Promotion | None) -> bool:
    return promotion is not None and promotion.recurring


def _count_promoted_renewals(session: Session, due: list[_Due], first_invoice_ids: set[int]) -> None:
    """How many renewals each item with a counted recurring promotion has had: its renewal lines,
    on invoices other than its order's first one (WHMCS counts line items too)."""
    counted = [item for item in due if _recurs(item.promotion) and item.promotion.recur_for]
    for kind, line_type in (("service", InvoiceItemType.HOSTING), ("domain", InvoiceItemType.DOMAIN_RENEW)):
        ids = [item.id for item in counted if item.kind == kind]
        if not ids:
            continue
        counts = dict(session.execute(
            select(InvoiceItem.related_id, func.count())
            .where(InvoiceItem.type == line_type, InvoiceItem.related_id.in_(ids),
                   InvoiceItem.invoice_id.notin_(first_invoice_ids))
            .group_by(InvoiceItem.related_id)
        ).all())
        for item in counted:
            if item.kind == kind:
                item.renewals_so_far = counts.get(item.id, 0)


def _order_billing(session: Session, order_ids: set[int]) -> dict[int, tuple[str, int | None]]:
    if not order_ids:
        return {}
    rows = session.execute(
        select(Order.id, Order.payment_method, Order.invoice_id).where(Order.id.in_(order_ids)))
    return {r.id: (r.payment_method, r.invoice_id) for r in rows}


# --- pricing one period ------------------------------------------------------------------------------


def _lines(item: _Due) -> tuple[list[dict], Decimal | None]:
    """The period's invoice lines, and the item's new recurring amount when it changes."""
    main = InvoiceItemType.HOSTING if item.kind == "service" else InvoiceItemType.DOMAIN_RENEW
    promo = InvoiceItemType.PROMO_HOSTING if item.kind == "service" else InvoiceItemType.PROMO_DOMAIN
    period = f"{item.start.isoformat()} - {(item.end - timedelta(days=1)).isoformat()}"
    description = f"{item.label} {period}"
    amount, new_amount, discount = item.amount, None, ZERO
    if _recurs(item.promotion):
        recur_for = item.promotion.recur_for
        if recur_for and item.renewals_so_far >= recur_for:  # "Recur For" used up: the full price
            amount = item.full_price
            new_amount = amount if amount != item.amount else None
        elif item.full_price > item.amount:
            amount, discount = item.full_price, item.full_price - item.amount
    if amount <= ZERO:
        return [], new_amount
    lines = [dict(type=main, related_id=item.id, description=description, amount=amount)]
    if discount:
        lines.append(dict(type=promo, related_id=item.id, amount=-discount,
                          description=f"Promotion Code: {item.promotion.code} - {item.label}"))
    return lines, new_amount


# --- writing -----------------------------------------------------------------------------------------


def _write_invoices(session, groups, orders, today: date, actor: Actor, batch: RenewalBatch) -> None:
    keys = list(groups)
    if not keys:
        return
    created = utcnow()
    # In each client's currency (their items' amounts are in it), at today's rate.
    currencies = {client_id: (currency_id, rate) for client_id, currency_id, rate in session.execute(
        select(Client.id, Currency.id, Currency.rate).join(Currency, Client.currency_id == Currency.id)
        .where(Client.id.in_({key[0] for key in keys})))}
    rows = []
    for key in keys:
        client_id, due_date, method = key
        total = sum((line["amount"] for _, lines in groups[key] for line in lines), ZERO)
        currency_id, rate = currencies[client_id]
        rows.append(dict(client_id=client_id, date=today, due_date=due_date, status=InvoiceStatus.UNPAID,
                         payment_method=method, subtotal=total, total=total, created_at=created,
                         currency_id=currency_id, currency_rate=rate))
    # Each invoice is found again by its key (unique in a batch), not by the order RETURNING gives
    # rows back in: asking for that order makes SQLite insert one row per statement.
    returned = session.execute(insert(Invoice).returning(
        Invoice.id, Invoice.client_id, Invoice.due_date, Invoice.payment_method), rows).all()
    id_of = {(r.client_id, r.due_date, r.payment_method): r.id for r in returned}
    ids = [id_of[key] for key in keys]
    item_rows, timeline = [], []
    for invoice_id, key, row in zip(ids, keys, rows, strict=True):
        by_order: dict[int, dict] = {}
        for item, lines in groups[key]:
            item_rows.extend({**line, "invoice_id": invoice_id} for line in lines)
            if item.order_id is not None:
                entry = by_order.setdefault(item.order_id, {"invoice_id": invoice_id, "due_date": key[1],
                                                            "services": [], "domains": []})
                entry[f"{item.kind}s"].append(item.id)
        timeline.extend((order_id, entry) for order_id, entry in by_order.items())
        batch.total += row["total"]
    session.execute(insert(InvoiceItem), item_rows)
    events.renewals_invoiced(session, actor, timeline)
    batch.invoice_ids.extend(ids)
