"""The order page: what it shows, which buttons it offers, and its POST endpoints."""

import re
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from actions.transitions import STALE_MESSAGE
from extensions import db
from models import (
    Affiliate,
    AutoSetup,
    ConfigOptionType,
    DomainStatus,
    EmailLog,
    EmailStatus,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
    OrderStatusDefinition,
    Role,
    Server,
    Service,
    ServiceConfigOption,
    ServiceStatus,
    SideEffect,
    SideEffectKind,
    SideEffectStatus,
)
from tests import factories
from tests.sql_support import recorded_statements

PAGE = "/admin/orders/details/?id={}"
FULL = "Full Administrator"


def page(client, order_id) -> str:
    response = client.get(PAGE.format(order_id))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def buttons(html: str) -> set[str]:
    return set(re.findall(r'data-verb="([a-z_]+)"', html))


def post(client, path, order, follow=True, **data):
    form = {"id": order.id, "expected_version": order.version, "url": PAGE.format(order.id), **data}
    return client.post(f"/admin/orders{path}", data=form, follow_redirects=follow)


def state(order_id):
    """Everything an action could change, to compare before and after a refusal."""
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    if order is None:
        return None
    return (order.status, order.version, order.admin_notes, order.affiliate_id,
            [s.status for s in order.services], [d.status for d in order.domains],
            order.invoice.status if order.invoice else None,
            db.session.scalar(select(db.func.count()).select_from(SideEffect)),
            db.session.scalar(select(db.func.count()).select_from(OrderEvent)))


def test_page_shows_everything_the_seed_lists(admin_client, session):
    affiliate = Affiliate(client=factories.make_client(first_name="Ref"))
    session.add(affiliate)
    server = Server(name="web-01", module="manual")
    session.add(server)
    order = factories.make_order(
        services=[ServiceStatus.PENDING], domains=[DomainStatus.PENDING], promo_code="SPRING10",
        promo_type="Percentage", promo_value=Decimal("10.00"), notes="Please set up quickly",
        fraud_module="maxmind", fraud_score=Decimal("12.50"),
        fraud_output={"reasons": ["Email domain is new"], "risk_score": 12.5}, affiliate=affiliate,
    )
    session.commit()
    html = page(admin_client, order.id)
    for text in (str(order.order_number), str(order.client), "SPRING10", "banktransfer",
                 "203.0.113.7", "Unpaid", "Fraud Check Results", "Email domain is new", "Raw output",
                 "Please set up quickly", "Admin notes", "Order Items", "Timeline", "Side effects",
                 "Run Module Create", "Send Welcome Email", "Send to Registrar", "web-01", str(affiliate)):
        assert text in html, text
    assert f"/admin/invoices/details/?id={order.invoice_id}" in html
    assert f"/admin/clients/details/?id={order.client_id}" in html


def test_run_module_create_default_follows_the_products_auto_setup(admin_client, session):
    never = factories.make_order(product=factories.make_product(auto_setup=AutoSetup.NEVER))
    on_accept = factories.make_order(product=factories.make_product(auto_setup=AutoSetup.ON_ACCEPT))
    session.commit()
    checkbox = r'name="service-{}-run_create" value="1" checked'
    assert not re.search(checkbox.format(never.services[0].id), page(admin_client, never.id))
    assert re.search(checkbox.format(on_accept.services[0].id), page(admin_client, on_accept.id))


def test_run_module_create_is_unticked_for_a_service_whose_create_has_started(admin_client, session):
    """On payment: the create is queued at payment, so Accept does not offer to run it again; the
    default comes from the side effects the page lists (a failed or cancelled one does not count)."""
    product = factories.make_product(auto_setup=AutoSetup.ON_PAYMENT)
    orders = {status: factories.make_order(product=product)
              for status in (SideEffectStatus.QUEUED, SideEffectStatus.SUCCEEDED, SideEffectStatus.FAILED)}
    for n, (status, order) in enumerate(orders.items()):
        session.add(SideEffect(order_id=order.id, kind=SideEffectKind.MODULE_CREATE, target_type="service",
                               target_id=order.services[0].id, status=status, idempotency_key=f"started-{n}"))
    untouched = factories.make_order(product=product)
    session.commit()
    checkbox = r'name="service-{}-run_create" value="1" checked'
    ticked = {status: bool(re.search(checkbox.format(order.services[0].id), page(admin_client, order.id)))
              for status, order in orders.items()}
    assert ticked == {SideEffectStatus.QUEUED: False, SideEffectStatus.SUCCEEDED: False,
                      SideEffectStatus.FAILED: True}
    assert re.search(checkbox.format(untouched.services[0].id), page(admin_client, untouched.id))


def test_page_loads_with_a_fixed_number_of_queries(admin_client, session):
    small = factories.make_order(services=[ServiceStatus.PENDING])
    big = factories.make_order(services=[ServiceStatus.PENDING] * 4 + [ServiceStatus.ACTIVE],
                               domains=[DomainStatus.PENDING] * 3)
    small.services[0].server = Server(name="srv-small")
    for i in range(3):  # items of different products and servers, as real orders have
        session.add(Service(order=big, client=big.client, product=factories.make_product(),
                            server=Server(name=f"srv-{i}"), billing_cycle="Monthly",
                            status=ServiceStatus.PENDING))
    addon = factories.make_addon()
    factories.add_ordered_addon(small, small.services[0], addon)
    for service in big.services[:3]:
        factories.add_ordered_addon(big, service, factories.make_addon())
    # Configurable options: a group on each order's first product, and a value on each service.
    for order in (small, big):
        service = order.services[0]
        group = factories.make_option_group([service.product], [
            ("Memory", ConfigOptionType.DROPDOWN, {"2 GB": {}, "4 GB": {}}, 0, 0),
            ("IPs", ConfigOptionType.QUANTITY, {"IP": {}}, 0, 4)])
        session.add_all([ServiceConfigOption(service=service, option_id=o.id, choice_id=o.choices[0].id,
                                             quantity=1) for o in group.options])
    for order in (small, big):
        for i in range(3):
            session.add(OrderEvent(order_id=order.id, actor_type="system", verb=f"note{i}"))
    session.commit()

    def count(order_id):
        session.expunge_all()  # nothing cached: everything the page shows comes from its queries
        with recorded_statements(db.engine) as statements:
            page(admin_client, order_id)
        return len(statements)

    small_id, big_id = small.id, big.id
    page(admin_client, small_id)  # warm up: the first request of a client loads its login once
    # Login, the order page's loads (the services' addons and their catalog rows, the Emails
    # section, the active gateways for the payment method select, the client-notes setting, the next
    # pending order: the group's titles and one index lookup), and the menu badges: pending orders
    # (the group's titles, then a capped COUNT) and failed jobs (a capped COUNT), and the fraud
    # panel's active module (its results only for a checked order). Badge counts are cached per
    # request, so every measured request pays for them. Money and gateway names
    # (admin/presentation.py): the currency settings and the gateways' display names, once per
    # request each. Configurable options: the services' values with their options and choices,
    # the products' option groups with their options and choices. The items' custom fields and
    # their answers: one query. The order's started module creates (the Accept form's defaults): one
    # range of its own side effects.
    assert count(small_id) == count(big_id) <= 37


def test_accept_with_run_module_create_runs_the_manual_module(admin_client, session):
    server = Server(name="web-01", module="manual")
    session.add(server)
    order = factories.make_order(product=factories.make_product(auto_setup=AutoSetup.ON_ACCEPT))
    session.commit()
    service_id = order.services[0].id
    prefix = f"service-{service_id}-"
    response = post(admin_client, "/order/accept/", order, with_options="1", **{
        prefix + "server_id": server.id, prefix + "username": "ada1", prefix + "password": "S3cret-pass",
        prefix + "run_create": "1", prefix + "send_welcome": "1",
    })
    html = response.get_data(as_text=True)
    assert f"Order #{order.order_number} accepted." in html
    db.session.expire_all()
    service = db.session.get(Service, service_id)
    assert (service.status, service.username, service.server_id) == (ServiceStatus.ACTIVE, "ada1", server.id)
    assert db.session.get(Order, order.id).status == OrderStatus.ACTIVE
    effect = db.session.scalar(select(SideEffect).where(SideEffect.kind == SideEffectKind.MODULE_CREATE))
    assert effect.status == SideEffectStatus.SUCCEEDED
    # The page after the redirect shows the outcome: service Active, the events in the timeline.
    assert re.search(rf'id="service-{service_id}".*?item-status">Active<', html, re.S)
    timeline = html[html.index('id="timeline"'):]
    assert "Order accepted" in timeline
    assert f"Module create for service #{service_id} succeeded" in timeline


def test_accept_without_options_uses_the_defaults(admin_client, session):
    order = factories.make_order(product=factories.make_product(auto_setup=AutoSetup.NEVER))
    session.commit()
    post(admin_client, "/order/accept/", order)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ACTIVE
    assert db.session.get(Service, order.services[0].id).status == ServiceStatus.ACTIVE
    creates = select(SideEffect.id).where(SideEffect.kind == SideEffectKind.MODULE_CREATE)
    assert db.session.scalar(creates) is None


def test_a_stale_page_is_refused_with_the_message(admin_client, session):
    order = factories.make_order()
    session.commit()
    seen_version = order.version
    post(admin_client, "/order/notes/", order, admin_notes="first")  # someone else changes the order
    db.session.expire_all()
    before = state(order.id)
    response = admin_client.post("/admin/orders/order/cancel/", follow_redirects=True, data={
        "id": order.id, "expected_version": seen_version, "url": PAGE.format(order.id)})
    assert STALE_MESSAGE in response.get_data(as_text=True)
    assert state(order.id) == before


def test_a_refused_action_is_flashed_and_changes_nothing(admin_client, session):
    order = factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    before = state(order.id)
    html = post(admin_client, "/order/delete/", order).get_data(as_text=True)
    assert "Only Cancelled or Fraud orders can be deleted" in html
    assert state(order.id) == before


def test_cancel_then_delete(admin_client, session):
    order = factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    html = post(admin_client, "/order/cancel/", order).get_data(as_text=True)
    assert f"Order #{order.order_number} cancelled." in html
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.invoice.status) == (OrderStatus.CANCELLED, InvoiceStatus.CANCELLED)
    response = post(admin_client, "/order/delete/", order, follow=False, url="/admin/orders/")
    assert response.headers["Location"].endswith("/admin/orders/")
    db.session.expire_all()
    assert db.session.get(Order, order.id) is None


def test_status_notes_and_affiliate(admin_client, session):
    session.add(OrderStatusDefinition(title="On Hold", color="#ff9900", include_in_pending=True))
    affiliate = Affiliate(client=factories.make_client())
    session.add(affiliate)
    order = factories.make_order()
    session.commit()
    post(admin_client, "/order/change_status/", order, status="On Hold")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "On Hold"
    post(admin_client, "/order/notes/", order, admin_notes="Called the client")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    post(admin_client, "/order/affiliate/", order, affiliate_id=affiliate.id)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.admin_notes, order.affiliate_id) == ("Called the client", affiliate.id)
    verbs = session.scalars(select(OrderEvent.verb).where(OrderEvent.order_id == order.id)).all()
    assert len(verbs) == 3


def test_retry_a_failed_side_effect(admin_client, session):
    order = factories.make_order(status=OrderStatus.ACTIVE)
    effect = SideEffect(order_id=order.id, kind=SideEffectKind.MODULE_CREATE, target_type="service",
                        target_id=order.services[0].id, status=SideEffectStatus.FAILED, attempts=5,
                        last_error="Server said no", idempotency_key="k-2")
    session.add(effect)
    session.commit()
    assert "/side-effect/retry/" in page(admin_client, order.id)
    html = post(admin_client, "/side-effect/retry/", order, side_effect_id=effect.id).get_data(as_text=True)
    assert "side effect queued again" in html
    db.session.expire_all()
    # Embedded mode: the retried create ran in-process after the commit, on the manual module.
    assert db.session.get(SideEffect, effect.id).status == SideEffectStatus.SUCCEEDED
    assert db.session.get(Service, order.services[0].id).status == ServiceStatus.ACTIVE


def test_row_actions_are_post_forms_shown_by_guard(admin_client, session):
    pending = factories.make_order(status=OrderStatus.PENDING)
    cancelled = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    session.commit()
    html = admin_client.get("/admin/orders/").get_data(as_text=True)
    rows = {o.id: html[html.index(f'value="{o.id}"'):] for o in (pending, cancelled)}
    first_row = lambda text: text[:text.index("</tr>")]  # noqa: E731
    assert 'action="/admin/orders/order/accept/"' in first_row(rows[pending.id])
    assert 'action="/admin/orders/order/accept/"' not in first_row(rows[cancelled.id])
    assert 'action="/admin/orders/order/set_pending/"' in first_row(rows[cancelled.id])
    assert 'name="csrf_token"' in first_row(rows[pending.id])


def test_pending_badge_in_the_menu(admin_client, session):
    for _ in range(3):
        factories.make_order(status=OrderStatus.PENDING)
    factories.make_order(status=OrderStatus.ACTIVE)
    session.add(OrderStatusDefinition(title="Review", include_in_pending=True))
    session.flush()
    factories.make_order(status="Review")
    session.commit()
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert re.search(r'id="pending-orders-badge"[^>]*>4<', html)


def test_every_state_changing_button_asks_for_confirmation(admin_client, session):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    session.commit()
    html = page(admin_client, order.id)
    delete_button = re.search(r'<button[^>]*data-verb="delete"[^>]*>', html).group(0)
    assert f'data-confirm="Delete order #{order.order_number} for good' in delete_button
    pending_button = re.search(r'<button[^>]*data-verb="set_pending"[^>]*>', html).group(0)
    assert f'data-confirm="Set order #{order.order_number} back to pending?' in pending_button


def test_a_post_without_csrf_token_is_refused(app, admin_client, session, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    order = factories.make_order()
    session.commit()
    before = state(order.id)
    assert post(admin_client, "/order/cancel/", order, follow=False).status_code == 400
    assert state(order.id) == before


def test_emails_section_lists_the_orders_email_log(admin_client, client_as, session):
    order = factories.make_order()
    other = factories.make_order()
    sent_at = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    session.add_all([
        EmailLog(order_id=order.id, client_id=order.client_id, to="ada@example.com",
                 subject="Order Confirmation", body="...", status=EmailStatus.SENT, sent_at=sent_at),
        EmailLog(order_id=order.id, to="ops@example.com", subject="New Order Notification", body="...",
                 status=EmailStatus.QUEUED, error="451 try later"),
        EmailLog(order_id=other.id, to="someone@example.com", subject="Not this order", body="...")])
    role = Role(name="Order viewer", permissions=["View Orders", "View Order Details"])
    session.add(role)
    session.flush()
    viewer = factories.make_admin("Order viewer")
    session.commit()

    html = page(admin_client, order.id)
    section = html[html.index('id="order-emails"'):html.index("<h5>Timeline</h5>")]
    assert "ada@example.com" in section and "Order Confirmation" in section
    assert "2025-03-04 05:06:07" in section
    assert "ops@example.com" in section and "451 try later" in section and "Not this order" not in section
    assert section.index("New Order Notification") < section.index("Order Confirmation")  # newest first
    assert 'id="order-emails"' not in page(client_as(viewer), order.id)  # needs View Email Message Log
