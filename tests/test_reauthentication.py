"""Delete Order, Cancel & Refund, refunds, admin and role changes and API credential creation need
a login or a re-authentication (password or TOTP code) within the last five minutes."""

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from actions.actor import Actor
from actions.events import Verb
from actions.two_factor import confirm_enrolment, pending_secret
from models import AdminSession, ApiCredential, InvoiceStatus, Order, OrderEvent, OrderStatus, Role, utcnow
from tests import factories

CONFIRM = "/admin/account/confirm/"


def age_login(session, client, minutes=6):
    session.execute(update(AdminSession).where(AdminSession.id == client.session_id)
                    .values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
    session.commit()


@pytest.fixture
def stale_admin(app_ctx, full_admin, session):
    client = app_ctx.test_client(user=full_admin)
    client.session_id = session.scalar(select(AdminSession.id).where(AdminSession.admin_id == full_admin.id))
    age_login(session, client)
    return client


def test_delete_order_asks_to_confirm_then_runs(stale_admin, full_admin, session):
    order = factories.make_order(status=OrderStatus.CANCELLED, invoice_status=InvoiceStatus.CANCELLED)
    session.commit()
    session.refresh(order)
    form = {"id": order.id, "expected_version": order.version, "url": f"/admin/orders/details/?id={order.id}"}
    asked = stale_admin.post("/admin/orders/order/delete/", data=form)
    assert asked.status_code == 302 and asked.headers["Location"].startswith(CONFIRM)
    assert session.get(Order, order.id) is not None  # nothing changed

    page = stale_admin.get(asked.headers["Location"])
    assert page.status_code == 200 and "Confirm it is you" in page.get_data(as_text=True)
    wrong = stale_admin.post(asked.headers["Location"], data={"secret": "not my password"})
    assert wrong.status_code == 401
    ok = stale_admin.post(asked.headers["Location"], data={"secret": factories.PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"] == f"/admin/orders/details/?id={order.id}"
    done = stale_admin.post("/admin/orders/order/delete/", data=form)
    assert done.status_code == 302 and not done.headers["Location"].startswith(CONFIRM)
    session.expire_all()
    assert session.get(Order, order.id) is None
    confirmed = session.scalars(select(OrderEvent).where(OrderEvent.verb == Verb.ADMIN_REAUTHENTICATED)).one()
    assert confirmed.actor_id == full_admin.id and confirmed.details["method"] == "password"


def test_a_totp_code_confirms_too(stale_admin, full_admin, session):
    secret = pending_secret(session, full_admin)
    confirm_enrolment(session, full_admin, pyotp.TOTP(secret).now(), Actor.admin(full_admin))
    session.commit()
    code = pyotp.TOTP(secret).at(utcnow().timestamp() + 30)
    assert stale_admin.post(CONFIRM, data={"secret": code}).status_code == 302
    event = session.scalars(select(OrderEvent).where(OrderEvent.verb == Verb.ADMIN_REAUTHENTICATED)).one()
    assert event.details["method"] == "authenticator app"


def test_cancel_and_refund_is_among_the_guarded_rows(stale_admin, session):
    order = factories.make_order()
    session.commit()
    asked = stale_admin.post("/admin/orders/order/cancel_and_refund/",
                             data={"id": order.id, "expected_version": order.version})
    assert asked.status_code == 302 and asked.headers["Location"].startswith(CONFIRM)


@pytest.mark.parametrize("path", ["/admin/admin_users/new/", "/admin/roles/new/",
                                  "/admin/api_credentials/new/"])
def test_admin_role_and_api_credential_forms_ask_first(stale_admin, path):
    asked = stale_admin.get(path)
    assert asked.status_code == 302 and asked.headers["Location"].startswith(CONFIRM)
    assert stale_admin.post(CONFIRM, data={"secret": factories.PASSWORD}).status_code == 302
    assert stale_admin.get(path).status_code == 200


def test_a_stale_post_creating_an_api_credential_changes_nothing(stale_admin, session):
    role = session.scalar(select(Role).where(Role.name == "Full Administrator"))
    asked = stale_admin.post("/admin/api_credentials/new/", data={"description": "x", "role": role.id})
    assert asked.status_code == 302 and asked.headers["Location"].startswith(CONFIRM)
    assert session.scalars(select(ApiCredential)).all() == []


def test_pages_that_change_nothing_dangerous_need_no_confirmation(stale_admin, session):
    order = factories.make_order()
    session.commit()
    assert stale_admin.get("/admin/orders/").status_code == 200
    answer = stale_admin.post("/admin/orders/order/notes/", data={"id": order.id, "admin_notes": "hi",
                                                                 "expected_version": order.version})
    assert answer.status_code == 302 and not answer.headers["Location"].startswith(CONFIRM)


def test_an_invoice_refund_asks_to_confirm_first_and_changes_nothing(stale_admin, session):
    from tests.test_invoice_refunds import paid_invoice

    order, invoice = paid_invoice(session, "banktransfer", "15.00")
    [payment] = invoice.transactions
    data = {"id": invoice.id, "expected_version": invoice.version, "payment_id": payment.id,
            "amount": "4.00", "manual": "1"}
    asked = stale_admin.post("/admin/invoices/invoice/refund/", data=data)
    assert asked.status_code == 302 and asked.headers["Location"].startswith(CONFIRM)
    session.expire_all()
    assert session.get(type(invoice), invoice.id).amount_refunded == 0
    assert stale_admin.post(asked.headers["Location"], data={"secret": factories.PASSWORD}).status_code == 302
    done = stale_admin.post("/admin/invoices/invoice/refund/", data=data)
    assert done.status_code == 302 and not done.headers["Location"].startswith(CONFIRM)
    session.expire_all()
    assert str(session.get(type(invoice), invoice.id).amount_refunded) == "4.00"
