"""Bulk Send Message from the orders grid: compose, preview for one client, send one message per
client through the outbox (the email log, a real SMTP server), behind Mass Mail; a filter that
cannot be applied, a broken template or too many clients send nothing."""

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    EmailLog,
    EmailStatus,
    EmailTemplate,
    OrderEvent,
    OrderStatus,
    Role,
    SideEffect,
    SideEffectStatus,
)
from tests import factories

GRID = "/admin/orders/action/"
WRITTEN = {"subject": "News for {{ client_first_name }}",
           "body": "Dear {{ client_name }},\nyour order {{ order_number }} ({{ order_total }}) is noted."}


@pytest.fixture
def book(session):
    """Two orders of one client, one each of two others, one of a Closed client."""
    ada = factories.make_client(first_name="Ada")
    orders = [factories.make_order(client=ada), factories.make_order(client=ada, status=OrderStatus.ACTIVE),
              factories.make_order(client=factories.make_client(first_name="Bob")),
              factories.make_order(client=factories.make_client(first_name="Cy"), status=OrderStatus.ACTIVE),
              factories.make_order(client=factories.make_client(first_name="Dee", status="Closed"))]
    session.commit()
    return orders


def post(client, ids=(), query="", **form):
    data = {"action": "mass_mail", "rowid": [str(i) for i in ids], **form}
    return client.post(GRID + query, data=data)


def logs() -> list[EmailLog]:
    return list(db.session.scalars(select(EmailLog).where(EmailLog.template != "Order Confirmation")
                                   .order_by(EmailLog.client_id)))


def test_compose_preview_then_send_one_message_per_client(admin_client, full_admin, book):
    ids = [o.id for o in book]
    page = post(admin_client, ids).get_data(as_text=True)
    assert 'id="mass-mail-form"' in page and "5 selected order(s)" in page
    assert 'id="mass-mail-send"' not in page  # sending comes after a preview

    page = post(admin_client, ids, step="preview", **WRITTEN).get_data(as_text=True)
    ada_newest = book[1]
    assert 'id="mass-mail-recipients">3<' in page  # Ada once, Bob, Cy; Dee's account is Closed
    assert "News for Ada" in page and f"your order {ada_newest.order_number} (15.00" in page
    assert 'id="mass-mail-send"' in page and logs() == []  # a preview sends nothing

    response = post(admin_client, ids, step="send", url="/admin/orders/", **WRITTEN)
    assert response.status_code == 302
    sent = logs()
    assert [log.to for log in sent] == [book[0].client.email, book[2].client.email, book[3].client.email]
    assert [log.order_id for log in sent] == [ada_newest.id, book[2].id, book[3].id]
    for log, order in zip(sent, [ada_newest, book[2], book[3]], strict=True):
        assert log.template == "Mass Mail" and log.status == EmailStatus.STORED  # no MAIL_SERVER: kept
        assert log.subject == f"News for {order.client.first_name}"
        assert log.body.startswith(f"Dear {order.client.full_name},\nyour order {order.order_number} ")
    effects = db.session.scalars(select(SideEffect).where(SideEffect.target_id.in_([log.id for log in sent])))
    assert {e.status for e in effects} == {SideEffectStatus.SUCCEEDED}
    [event] = db.session.scalars(select(OrderEvent).where(OrderEvent.verb == "mass_mail_sent"))
    assert event.actor_id == full_admin.id and event.order_id is None
    assert event.details["recipients"] == 3 and event.details["selection"] == "5 selected order(s)"


def test_sent_over_smtp_with_a_stored_template(admin_client, book, smtp):
    template = db.session.scalar(select(EmailTemplate).where(EmailTemplate.name == "Order Confirmation"))
    page = post(admin_client, [book[2].id], step="preview", template=template.name).get_data(as_text=True)
    assert f"Order Number: {book[2].order_number}" in page
    post(admin_client, [book[2].id, book[3].id], step="send", template=template.name)
    messages = smtp.messages()
    assert sorted(m["To"] for m in messages) == sorted([book[2].client.email, book[3].client.email])
    assert all(m["Subject"] == template.subject for m in messages)
    assert len({m["Message-ID"] for m in messages}) == 2
    sent = db.session.scalars(select(EmailLog).where(EmailLog.order_id.in_([book[2].id, book[3].id]),
                                                     EmailLog.status == EmailStatus.SENT)).all()
    assert len(sent) == 2


def test_every_order_matching_the_filter(admin_client, book):
    response = post(admin_client, query="?flt0_status_equals=Active", all_matching="1", step="send",
                    **WRITTEN)
    assert response.status_code == 302
    assert sorted(log.order_id for log in logs()) == sorted([book[1].id, book[3].id])


@pytest.mark.parametrize("query", ["?flt0_status_group_equals=nonsense", "?flt0_no_such_filter=1",
                                   "?flt0_status_equals=Active&flt0_status_equals=Pending"])
def test_a_filter_that_cannot_be_applied_sends_nothing(admin_client, book, query):
    response = post(admin_client, query=query, all_matching="1", step="send", **WRITTEN)
    assert response.status_code == 302
    assert logs() == []
    assert "a filter could not be applied" in admin_client.get("/admin/orders/").get_data(as_text=True)


def test_bad_messages_are_refused_with_a_reason_and_nothing_is_queued(admin_client, book):
    ids = [book[2].id]
    cases = [
        ({"subject": "Hi", "body": "{{ ''.__class__.__mro__ }}"}, "does not render"),
        ({"subject": "Hi", "body": "{% for %}"}, "does not render"),
        ({"subject": "", "body": "text"}, "both a subject and a message"),
        ({"subject": "Hi\nBcc: x@evil.example", "body": "text"}, "not allowed"),
        ({"subject": "Hi", "body": "x" * 10_001}, "at most 10,000"),
        ({"template": "Automatic Setup Failed"}, "no enabled client email template"),  # an admin template
        ({"template": "No Such Template"}, "no enabled client email template"),
    ]
    for form, reason in cases:
        for step in ("preview", "send"):
            response = post(admin_client, ids, step=step, **form)
            assert response.status_code == 200, form
            assert reason in response.get_data(as_text=True), form
    assert logs() == [] and db.session.scalar(select(func.count()).select_from(SideEffect)) == 0


def test_more_clients_than_allowed_is_refused(admin_client, book, app_ctx):
    app_ctx.config["MASS_MAIL_MAX_RECIPIENTS"] = 2
    try:
        page = post(admin_client, [o.id for o in book], step="send", **WRITTEN).get_data(as_text=True)
    finally:
        app_ctx.config["MASS_MAIL_MAX_RECIPIENTS"] = 5000
    assert "More than 2 clients would get this message; nothing was sent" in page and logs() == []
    page = post(admin_client, [book[4].id], step="preview", **WRITTEN).get_data(as_text=True)
    assert "No client to write to" in page  # only a Closed client


def test_refused_without_mass_mail(client_as, session, book):
    sales = client_as(factories.make_admin("Sales Operator"))
    assert "Mass Mail" not in session.scalar(select(Role.permissions).where(Role.name == "Sales Operator"))
    assert post(sales, [book[2].id], step="send", **WRITTEN).status_code == 403
    assert post(sales, query="?flt0_status_equals=Active", all_matching="1").status_code == 403
    assert 'value="mass_mail"' not in sales.get("/admin/orders/").get_data(as_text=True)
    assert logs() == []
