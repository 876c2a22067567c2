"""Proration of upgrades and downgrades (actions.upgrade_quote, docs/upgrades.md), to the cent.

Every expected value is worked out by hand in its row: days in the cycle are counted from the next
due date back one cycle, days remaining from today to the next due date, and the result rounded
half up to cents."""

from datetime import date
from decimal import Decimal

import pytest

from actions.actor import Actor
from actions.errors import TransitionError
from actions.upgrade_quote import prorate, quote_upgrade
from actions.upgrade_service import order_upgrade
from extensions import db
from models import (
    BillingCycle,
    ConfigOptionType,
    InvoiceItemType,
    ServiceConfigOption,
    ServiceStatus,
    ServiceUpgrade,
)
from tests import factories

D = Decimal
M, Q, S = BillingCycle.MONTHLY, BillingCycle.QUARTERLY, BillingCycle.SEMI_ANNUALLY
A, B, T = BillingCycle.ANNUALLY, BillingCycle.BIENNIALLY, BillingCycle.TRIENNIALLY

# (old price, new price, old cycle, new cycle, next due, today,
#  days remaining, days in cycle, amount (signed), new next due date, how the amount is derived)
SAME_CYCLE = [
    ("10.00", "25.00", M, M, date(2026, 4, 15), date(2026, 4, 5), 10, 31, "4.84", date(2026, 4, 15),
     "15.00 x 10/31 = 4.8387.. -> 4.84 (15 Mar to 15 Apr: 31 days)"),
    ("25.00", "10.00", M, M, date(2026, 4, 15), date(2026, 4, 5), 10, 31, "-4.84", date(2026, 4, 15),
     "downgrade: -15.00 x 10/31 = -4.8387.. -> -4.84"),
    ("10.00", "11.05", M, M, date(2026, 5, 1), date(2026, 4, 16), 15, 30, "0.53", date(2026, 5, 1),
     "1.05 x 15/30 = 0.525 exactly -> 0.53 half up (half even would give 0.52)"),
    ("11.05", "10.00", M, M, date(2026, 5, 1), date(2026, 4, 16), 15, 30, "-0.53", date(2026, 5, 1),
     "-1.05 x 15/30 = -0.525 -> -0.53 (half up rounds away from zero)"),
    ("10.00", "25.00", M, M, date(2026, 4, 15), date(2026, 4, 15), 0, 31, "0.00", date(2026, 4, 15),
     "on the due date: 0 days remaining, nothing to prorate; the renewal bills the new price"),
    ("10.00", "25.00", M, M, date(2026, 4, 15), date(2026, 3, 15), 31, 31, "15.00", date(2026, 4, 15),
     "on the first day of the period: the whole difference, 15.00 x 31/31"),
    ("10.00", "41.00", M, M, date(2026, 3, 31), date(2026, 3, 30), 1, 31, "1.00", date(2026, 3, 31),
     "month end: 31 Mar back one month is 28 Feb (31 days); 31.00 x 1/31 = 1.00"),
    ("30.00", "60.00", Q, Q, date(2026, 7, 1), date(2026, 5, 1), 61, 91, "20.11", date(2026, 7, 1),
     "30.00 x 61/91 = 20.1098.. -> 20.11 (Apr 30 + May 31 + Jun 30 = 91; May 31 + Jun 30 = 61)"),
    ("60.00", "30.00", Q, Q, date(2026, 7, 1), date(2026, 5, 1), 61, 91, "-20.11", date(2026, 7, 1),
     "downgrade: -30.00 x 61/91 -> -20.11"),
    ("50.00", "62.00", S, S, date(2027, 1, 1), date(2026, 10, 1), 92, 184, "6.00", date(2027, 1, 1),
     "12.00 x 92/184 = 6.00 (Jul-Dec: 184 days; Oct-Dec: 92)"),
    ("100.00", "200.00", A, A, date(2027, 3, 1), date(2026, 9, 1), 181, 365, "49.59", date(2027, 3, 1),
     "100.00 x 181/365 = 49.5890.. -> 49.59 (Sep 30 + Oct 31 + Nov 30 + Dec 31 + Jan 31 + Feb 28)"),
    ("200.00", "100.00", A, A, date(2027, 3, 1), date(2026, 9, 1), 181, 365, "-49.59", date(2027, 3, 1),
     "downgrade: -100.00 x 181/365 -> -49.59"),
    ("180.00", "190.00", B, B, date(2028, 1, 1), date(2027, 1, 1), 365, 730, "5.00", date(2028, 1, 1),
     "10.00 x 365/730 = 5.00 (2026 and 2027: 730 days)"),
    ("250.00", "1346.00", T, T, date(2029, 1, 1), date(2028, 1, 1), 366, 1096, "366.00", date(2029, 1, 1),
     "1096.00 x 366/1096 = 366.00 (2026 + 2027 + leap 2028 = 1096 days; 2028 alone 366)"),
]
CYCLE_CHANGE = [
    ("10.00", "100.00", M, A, date(2026, 4, 15), date(2026, 4, 5), 10, 31, "96.77", date(2027, 4, 5),
     "unused 10.00 x 10/31 = 3.2258.. -> 3.23; 100.00 - 3.23 = 96.77; due a year from today"),
    ("120.00", "10.00", A, M, date(2027, 3, 1), date(2026, 9, 1), 181, 365, "-49.51", date(2026, 10, 1),
     "unused 120.00 x 181/365 = 59.5068.. -> 59.51; 10.00 - 59.51 = -49.51 credit; due a month on"),
    ("10.00", "27.00", M, Q, date(2026, 4, 15), date(2026, 4, 15), 0, 31, "27.00", date(2026, 7, 15),
     "on the due date nothing is unused: the new quarter's 27.00 in full, due three months on"),
    ("27.00", "50.00", Q, S, date(2026, 7, 1), date(2026, 5, 1), 61, 91, "31.90", date(2026, 11, 1),
     "unused 27.00 x 61/91 = 18.0989.. -> 18.10; 50.00 - 18.10 = 31.90"),
]


@pytest.mark.parametrize("row", SAME_CYCLE + CYCLE_CHANGE, ids=lambda row: row[-1][:40])
def test_proration_table(row):
    old, new, old_cycle, new_cycle, due, today, remaining, days, amount, new_due, _why = row
    proration = prorate(D(old), D(new), old_cycle, new_cycle, due, today)
    assert (proration.days_remaining, proration.days_in_cycle) == (remaining, days)
    assert proration.amount == D(amount) and str(proration.amount) == amount  # exact, two places
    assert proration.new_next_due_date == new_due
    assert proration.charge == max(D(amount), D("0.00"))
    assert proration.credit == max(-D(amount), D("0.00"))


# --- with configurable options, priced by actions.pricing from the catalog ---------------------------

OPTIONS = [
    ("RAM", ConfigOptionType.DROPDOWN, {"1 GB": {M: ("0.00", "0.00")}, "4 GB": {M: ("6.00", "3.00")}}, 0, 0),
    ("IPs", ConfigOptionType.QUANTITY, {"IP": {M: ("2.00", "1.00")}}, 0, 8),
]


def active_service(product, *, next_due=date(2026, 4, 15), recurring="10.00", cycle=M):
    order = factories.make_order(services=(ServiceStatus.ACTIVE,), product=product)
    service = order.services[0]
    service.next_due_date = service.next_invoice_date = next_due
    service.recurring_amount, service.billing_cycle = D(recurring), cycle
    db.session.flush()
    return service


def option_ids(group):
    by_name = {o.name: o for o in group.options}
    ram, ips = by_name["RAM"], by_name["IPs"]
    return ram, ips


def test_options_upgrade_and_downgrade_mid_cycle(session):
    product = factories.make_product(prices={M: ("10.00", "0.00")})
    ram, ips = option_ids(factories.make_option_group([product], OPTIONS))
    service = active_service(product)
    four_gb = ram.choices[1].id
    # 10.00 + 6.00 (4 GB) + 2 x 2.00 (IPs) = 20.00 a month; (20.00 - 10.00) x 10/31 = 3.2258.. -> 3.23
    quote = quote_upgrade(session, service, product.id, M, {ram.id: four_gb, ips.id: 2}, date(2026, 4, 5))
    assert quote.new_price == D("20.00") and quote.proration.amount == D("3.23")
    assert {(o.option.name, o.quantity) for o in quote.options} == {("RAM", 1), ("IPs", 2)}
    # Down from 20.00 to 12.00 (1 GB, 1 IP): -8.00 x 10/31 = -2.5806.. -> -2.58
    service.recurring_amount = D("20.00")
    quote = quote_upgrade(session, service, product.id, M, {ram.id: ram.choices[0].id, ips.id: 1},
                          date(2026, 4, 5))
    assert quote.new_price == D("12.00") and quote.proration.amount == D("-2.58")
    assert quote.is_downgrade and quote.proration.credit == D("2.58")


def test_new_product_in_the_group_with_a_new_cycle_and_the_stored_amounts(session):
    small = factories.make_product(prices={M: ("10.00", "5.00"), A: ("100.00", "0.00")})
    large = factories.make_product(prices={M: ("25.00", "5.00"), A: ("240.00", "0.00")})
    service = active_service(small)
    order = order_upgrade(session, service.id, large.id, A, {}, Actor.system(), today=date(2026, 4, 5))
    upgrade = session.query(ServiceUpgrade).filter_by(order_id=order.id).one()
    db.session.commit()
    db.session.expire_all()
    # unused 10.00 x 10/31 = 3.2258.. -> 3.23; the year's 240.00 - 3.23 = 236.77, due 5 Apr 2027
    assert (upgrade.charge, upgrade.credit) == (D("236.77"), D("0.00"))
    assert upgrade.new_next_due_date == date(2027, 4, 5) and upgrade.new_recurring_amount == D("240.00")
    assert order.kind == "upgrade" and order.amount == D("236.77") and order.invoice.total == D("236.77")
    assert [(i.type, i.related_id, i.amount) for i in order.invoice.items] == [
        (InvoiceItemType.UPGRADE, service.id, D("236.77"))]


def test_hostile_choices_are_refused_with_a_message(session):
    product = factories.make_product(prices={M: ("10.00", "0.00")})
    ram, ips = option_ids(factories.make_option_group([product], OPTIONS))
    other_group = factories.make_product(prices={M: ("30.00", "0.00")})
    other_group.group_name = "VPS"
    retired = factories.make_product(prices={M: ("30.00", "0.00")}, retired=True)
    service = active_service(product)
    # As placing it would have stored them: the defaults, 1 GB and no IP.
    db.session.add_all([ServiceConfigOption(service=service, option_id=ram.id, choice_id=ram.choices[0].id),
                        ServiceConfigOption(service=service, option_id=ips.id, choice_id=ips.choices[0].id,
                                            quantity=0)])
    db.session.flush()
    today = date(2026, 4, 5)
    cases = [
        ((other_group.id, M, {}), "is not in the Shared Hosting product group"),
        ((retired.id, M, {}), "is retired"),
        ((999_999, M, {}), "There is no product 999999"),
        ((product.id, A, {}), "is not offered with the Annually billing cycle"),
        ((product.id, BillingCycle.ONE_TIME, {}), "other than One Time"),
        ((product.id, "Weekly", {}), "other than One Time"),
        ((product.id, M, {ips.id: 9}), "IPs"),
        ((product.id, M, {ips.id: -1}), "IPs"),
        ((product.id, M, {ips.id: "9" * 40}), "IPs"),
        ((product.id, M, {ram.id: 10**12}), "is not a choice of RAM"),
        ((product.id, M, {"abc": 1}), "Unknown configurable option"),
        ((product.id, M, {}), "Nothing would change"),
    ]
    for (product_id, cycle, values), message in cases:
        with pytest.raises(TransitionError) as refused:
            quote_upgrade(session, service, product_id, cycle, values, today)
            pytest.fail(f"not refused: {message}")
        assert message in refused.value.message, (product_id, cycle, values)
