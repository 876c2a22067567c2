"""The daily automation (jobs/daily.py): renewal invoices and the auto-cancel sweep, on SQLite and
PostgreSQL, through `run_daily` as the CLI and the worker's job call it."""

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from extensions import db
from jobs.daily import run_daily
from models import (
    BillingCycle,
    Domain,
    DomainStatus,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
    Service,
    ServiceStatus,
    Setting,
    Transaction,
    utcnow,
)
from models.billing_dates import add_months
from tests import factories

TODAY = date(2026, 12, 1)
GENERATION_DAYS = 14  # the default setting


def set_setting(key: str, value: str) -> None:
    db.session.merge(Setting(key=key, value=value))
    db.session.commit()


def renewal_lines(item_type=InvoiceItemType.HOSTING):
    """(related id, invoice id, amount) of every renewal line: lines on invoices no order points at."""
    first_invoices = select(Order.invoice_id).where(Order.invoice_id.is_not(None))
    return db.session.execute(
        select(InvoiceItem.related_id, InvoiceItem.invoice_id, InvoiceItem.amount)
        .where(InvoiceItem.type == item_type, InvoiceItem.invoice_id.notin_(first_invoices))
    ).all()


def test_daily_run_twice_over_1000_services_invoices_each_renewal_once_and_places_no_order(session):
    rng = random.Random(7)
    product = factories.make_product()
    orders = [factories.make_order(services=(), status=OrderStatus.ACTIVE, invoice_status=InvoiceStatus.PAID,
                                   paid=True, product=product, gateway=rng.choice(["banktransfer", "stripe"]))
              for _ in range(40)]
    rows = []
    for n in range(1000):
        order = orders[n % len(orders)]
        offset = rng.randint(-3, 30)  # due from a few days ago to beyond the 14-day horizon
        status = rng.choices([ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.CANCELLED],
                             weights=[8, 1, 1])[0]
        rows.append(dict(order_id=order.id, client_id=order.client_id, product_id=product.id,
                         billing_cycle=BillingCycle.MONTHLY,
                         recurring_amount=Decimal(f"{rng.randint(1, 99)}.50"),
                         status=status, next_due_date=TODAY + timedelta(days=offset),
                         next_invoice_date=TODAY + timedelta(days=offset), domain=f"s{n}.example"))
    session.execute(insert(Service), rows)
    session.commit()
    orders_before = session.scalar(select(func.count(Order.id)))
    services = session.execute(select(Service.id, Service.client_id, Service.order_id, Service.status,
                                      Service.next_invoice_date, Service.recurring_amount)).all()
    horizon = TODAY + timedelta(days=GENERATION_DAYS)
    due = [s for s in services if s.status == ServiceStatus.ACTIVE and s.next_invoice_date <= horizon]
    method = {o.id: o.payment_method for o in orders}
    expected_invoices = {(s.client_id, s.next_invoice_date, method[s.order_id]) for s in due}
    assert 0 < len(due) < len(services)

    first = run_daily(session, TODAY)
    second = run_daily(session, TODAY)

    lines = renewal_lines()
    assert Counter(line.related_id for line in lines) == Counter({s.id: 1 for s in due})
    assert {line.related_id: line.amount for line in lines} == {s.id: s.recurring_amount for s in due}
    assert first.renewal_invoices == len(expected_invoices) and first.renewed_services == len(due)
    assert second.renewal_invoices == 0 and second.renewed_services == 0
    assert session.scalar(select(func.count(Order.id))) == orders_before  # renewals never create orders
    invoice_ids = {line.invoice_id for line in lines}
    invoices = session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids))).all()
    assert {(i.client_id, i.due_date, i.payment_method) for i in invoices} == expected_invoices
    assert all(i.status == InvoiceStatus.UNPAID and i.date == TODAY for i in invoices)
    assert all(i.total == sum(item.amount for item in i.items) for i in invoices)
    moved = dict(session.execute(select(Service.id, Service.next_invoice_date)).all())
    for s in services:
        wanted = add_months(s.next_invoice_date, 1) if s in due else s.next_invoice_date
        assert moved[s.id] == wanted
    # Each (order, invoice) has its event, the system as actor; each run its summary.
    events = session.scalars(select(OrderEvent).where(OrderEvent.verb == "renewal_invoiced")).all()
    assert {(e.order_id, e.details["invoice_id"]) for e in events} == {
        (s.order_id, line.invoice_id) for s in due for line in lines if line.related_id == s.id}
    assert {(e.actor_type, e.actor_name) for e in events} == {("system", "Daily automation")}
    runs = session.scalars(
        select(OrderEvent).where(OrderEvent.verb == "daily_run").order_by(OrderEvent.id)).all()
    assert [r.details["renewal_invoices"] for r in runs] == [len(expected_invoices), 0]
    assert all(r.order_id is None for r in runs)


def test_renewals_group_a_clients_service_and_domain_due_the_same_day(session):
    factories.make_tld(".com", renew="15.00")
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), domains=(DomainStatus.ACTIVE,),
                                 status=OrderStatus.ACTIVE, invoice_status=InvoiceStatus.PAID, paid=True)
    due = TODAY + timedelta(days=5)
    for item in (*order.services, *order.domains):
        item.next_due_date = item.next_invoice_date = due
    order.domains[0].next_invoice_date = due
    session.commit()

    report = run_daily(session, TODAY)

    assert (report.renewal_invoices, report.renewed_services, report.renewed_domains) == (1, 1, 1)
    invoice = session.scalars(select(Invoice).where(Invoice.id != order.invoice_id)).one()
    assert invoice.due_date == due and invoice.payment_method == order.payment_method
    assert [(i.type, i.related_id, i.amount) for i in invoice.items] == [
        (InvoiceItemType.HOSTING, order.services[0].id, Decimal("10.00")),
        (InvoiceItemType.DOMAIN_RENEW, order.domains[0].id, Decimal("12.00")),  # the price agreed
    ]
    assert invoice.total == Decimal("22.00")
    assert session.get(Domain, order.domains[0].id).next_invoice_date == add_months(due, 12)


def test_a_recurring_promotion_is_honoured_for_its_recur_for_count_then_the_full_price(session):
    product = factories.make_product(prices={BillingCycle.MONTHLY: ("20.00", "0.00")})
    counted = factories.make_promotion(type="Percentage", value="25.00", recurring=True, recur_for=2)
    forever = factories.make_promotion(type="Percentage", value="25.00", recurring=True, recur_for=0)
    once = factories.make_promotion(type="Percentage", value="25.00", recurring=False)
    order = factories.make_order(services=(ServiceStatus.ACTIVE,) * 3, product=product,
                                 status=OrderStatus.ACTIVE, invoice_status=InvoiceStatus.PAID, paid=True)
    # As placement leaves them: a recurring promotion's discount is in the recurring amount.
    for service, promotion, amount in zip(order.services, (counted, forever, once),
                                          ("15.00", "15.00", "20.00"), strict=True):
        service.promotion_id, service.recurring_amount = promotion.id, Decimal(amount)
        service.next_due_date = service.next_invoice_date = TODAY
    session.commit()
    ids = [s.id for s in order.services]

    day = TODAY
    for _ in range(4):  # four monthly renewals, each run on the day the next one is invoiced
        run_daily(session, day)
        day = add_months(day, 1)

    def lines_of(service_id):
        by_invoice = {}
        for kind in (InvoiceItemType.HOSTING, InvoiceItemType.PROMO_HOSTING):
            for related, invoice_id, amount in renewal_lines(kind):
                if related == service_id:
                    by_invoice.setdefault(invoice_id, []).append(amount)
        return [sorted(amounts, reverse=True) for _, amounts in sorted(by_invoice.items())]

    discounted, full = [Decimal("20.00"), Decimal("-5.00")], [Decimal("20.00")]
    assert lines_of(ids[0]) == [discounted, discounted, full, full]  # "Recur For" 2, then full price
    assert lines_of(ids[1]) == [discounted] * 4  # 0: every renewal
    assert lines_of(ids[2]) == [full] * 4  # not recurring: renewals were never discounted
    assert session.get(Service, ids[0]).recurring_amount == Decimal("20.00")
    assert session.get(Service, ids[1]).recurring_amount == Decimal("15.00")


def test_the_auto_cancel_sweep_cancels_exactly_the_stale_unpaid_pending_orders(session):
    now = utcnow()
    old, recent = now - timedelta(days=8), now - timedelta(days=6)
    stale = [factories.make_order(date=old) for _ in range(3)]
    left_alone = [
        factories.make_order(date=recent),  # not old enough
        factories.make_order(date=old, invoice_status=InvoiceStatus.PAID, paid=True),  # paid
        factories.make_order(date=old, status=OrderStatus.ACTIVE),  # accepted, still unpaid
        factories.make_order(date=old, status=OrderStatus.FRAUD, invoice_status=InvoiceStatus.CANCELLED),
        factories.make_order(date=old, invoice_status=None),  # no invoice: nothing unpaid
    ]
    part_paid = factories.make_order(date=old)
    session.add(Transaction(client_id=part_paid.client_id, invoice=part_paid.invoice, gateway="banktransfer",
                            amount_in=Decimal("5.00"), date=now))
    left_alone.append(part_paid)
    session.commit()
    before = {o.id: (o.status, o.invoice.status if o.invoice else None) for o in left_alone}

    off = run_daily(session)  # off by default
    assert off.cancel_after_days == 0 and off.cancelled_orders == []
    assert {session.get(Order, o.id).status for o in stale} == {OrderStatus.PENDING}

    set_setting("cancel_unpaid_orders_after_days", "7")
    report = run_daily(session)
    again = run_daily(session)

    assert sorted(report.cancelled_orders) == sorted(o.id for o in stale) and again.cancelled_orders == []
    session.expire_all()
    for order in stale:
        fresh = session.get(Order, order.id)
        assert fresh.status == OrderStatus.CANCELLED
        assert fresh.invoice.status == InvoiceStatus.CANCELLED
        assert {s.status for s in fresh.services} == {ServiceStatus.CANCELLED}
        event = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.verb == "order_cancelled")).one()
        assert (event.actor_type, event.actor_name) == ("system", "Daily automation")
    assert {o.id: (session.get(Order, o.id).status, session.get(Order, o.id).invoice.status
                   if session.get(Order, o.id).invoice else None) for o in left_alone} == before


def test_an_unreadable_setting_counts_as_its_default(session):
    set_setting("invoice_generation_days", "fourteen")
    set_setting("cancel_unpaid_orders_after_days", "-3")
    report = run_daily(session)
    assert (report.invoice_generation_days, report.cancel_after_days) == (GENERATION_DAYS, 0)


def test_the_daily_command_runs_once_per_day_of_work(app_ctx, session):
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), status=OrderStatus.ACTIVE,
                                 invoice_status=InvoiceStatus.PAID, paid=True)
    order.services[0].next_invoice_date = TODAY + timedelta(days=3)
    session.commit()
    runner = app_ctx.test_cli_runner()
    first = runner.invoke(args=["daily", "--date", TODAY.isoformat()])
    second = runner.invoke(args=["daily", "--date", TODAY.isoformat()])
    assert first.exit_code == 0, first.output
    assert "1 renewal invoice(s) for 1 service(s)" in first.output
    assert "0 renewal invoice(s)" in second.output
    bad = runner.invoke(args=["daily", "--date", "yesterday"])
    assert bad.exit_code != 0 and "yesterday" in bad.output


def test_the_daily_automation_page_shows_the_runs_to_those_allowed(session, client_as, full_admin,
                                                                   support_admin):
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), status=OrderStatus.ACTIVE,
                                 invoice_status=InvoiceStatus.PAID, paid=True)
    order.services[0].next_invoice_date = utcnow().date()
    session.commit()
    admin = client_as(full_admin)
    empty = admin.get("/admin/daily-automation/")
    assert empty.status_code == 200 and b"no-daily-runs" in empty.data
    run_daily(session)
    page = admin.get("/admin/daily-automation/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'class="run-invoices">1<' in text and "unpaid pending orders are never cancelled" in text
    assert client_as(support_admin).get("/admin/daily-automation/").status_code == 403


def test_an_item_behind_by_several_periods_is_caught_up_in_one_run_each_period_once(session):
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), status=OrderStatus.ACTIVE,
                                 invoice_status=InvoiceStatus.PAID, paid=True)
    behind = add_months(TODAY, -3)  # the worker was down for three months
    order.services[0].next_invoice_date = behind
    session.commit()
    horizon = TODAY + timedelta(days=GENERATION_DAYS)
    periods = []
    start = behind
    while start <= horizon:
        periods.append(start)
        start = add_months(start, 1)

    first, second = run_daily(session, TODAY), run_daily(session, TODAY)

    assert (first.renewal_invoices, second.renewal_invoices) == (len(periods), 0)
    due_dates = session.scalars(select(Invoice.due_date).where(Invoice.id != order.invoice_id)
                                .order_by(Invoice.due_date)).all()
    assert due_dates == periods
    assert session.get(Service, order.services[0].id).next_invoice_date == start
