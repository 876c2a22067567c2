"""Placing an order sends its three emails through a real SMTP server (aiosmtpd on 127.0.0.1),
rendered with the right merge-field values, and marks their email_log rows sent."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from actions.actor import Actor
from actions.cart import Cart, CartDomain, CartProduct, PlaceOptions
from actions.place import place_order
from models import BillingCycle, EmailLog, EmailStatus, Setting
from tests import factories


def text(message) -> str:
    return message.get_content().replace("\r\n", "\n")  # SMTP carries CRLF line ends


def by_subject(mailbox) -> dict:
    messages = {}
    for message in mailbox.messages():
        messages.setdefault(message["Subject"], []).append(message)
    return messages


def test_placing_an_order_sends_confirmation_invoice_and_admin_notification(session, smtp, full_admin):
    session.get(Setting, "order_days_grace").value = "7"
    client = factories.make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    product = factories.make_product(name="Starter", prices={BillingCycle.MONTHLY: ("10.00", "5.00")})
    factories.make_tld(".com", register="12.00")
    cart = Cart(client_id=client.id, payment_method="banktransfer", ip_address="198.51.100.4",
                products=[CartProduct(product.id, BillingCycle.MONTHLY, domain="ada.example")],
                domains=[CartDomain("Register", "lovelace.com", 1)])
    options = PlaceOptions(placed_by_admin_id=full_admin.id)
    order = place_order(session, cart, Actor.admin(full_admin), options)
    order_id, number, invoice = order.id, order.order_number, order.invoice
    invoice_id, due = invoice.id, invoice.due_date
    session.commit()  # embedded mode: the email side effects run right after the commit

    assert order.amount == invoice.total == Decimal("27.00")  # 10 + 5 setup + 12 domain
    assert due == order.date.date() + timedelta(days=7)
    mail = by_subject(smtp)
    assert sorted(mail) == ["Customer Invoice", "Order Confirmation", "Orderdesk New Order Notification"]

    (confirmation,) = mail["Order Confirmation"]
    body = text(confirmation)
    assert confirmation["To"] == "ada@example.com"
    assert "Dear Ada Lovelace," in body and f"Order Number: {number}" in body
    assert "Starter - ada.example (Monthly): 15.00 USD" in body
    assert "Domain Register: lovelace.com (1 year(s)): 12.00 USD" in body
    assert "Total: 27.00 USD" in body and "Payment Method: banktransfer" in body

    (invoice_mail,) = mail["Customer Invoice"]
    body = text(invoice_mail)
    assert invoice_mail["To"] == "ada@example.com"
    assert f"Invoice #{invoice_id}\n" in body and "Amount Due: 27.00 USD" in body
    assert f"Due Date: {due.isoformat()}" in body and "lovelace.com" in body

    (notification,) = mail["Orderdesk New Order Notification"]
    body = text(notification)
    assert notification["To"] == full_admin.email
    assert f"Order ID: {order_id}\n" in body and f"Order Number: {number}" in body
    assert f"Invoice Number: {invoice_id}" in body and "Name: Ada Lovelace" in body
    assert "IP Address: 198.51.100.4" in body and f"/admin/orders/details/?id={order_id}" in body

    session.expire_all()
    logs = session.scalars(select(EmailLog).where(EmailLog.order_id == order_id)).all()
    assert sorted(log.template for log in logs) == ["Invoice Created", "New Order Notification",
                                                    "Order Confirmation"]
    assert all(log.status == EmailStatus.SENT and log.sent_at is not None for log in logs)


def test_switched_off_emails_are_not_sent(session, smtp, full_admin):
    client = factories.make_client()
    product = factories.make_product()
    cart = Cart(client_id=client.id, payment_method="banktransfer", products=[CartProduct(product.id)])
    options = PlaceOptions(order_confirmation=False, send_invoice_email=False)
    order = place_order(session, cart, Actor.admin(full_admin), options)
    session.commit()
    assert list(by_subject(smtp)) == ["Orderdesk New Order Notification"]
    assert f"Order Number: {order.order_number}" in text(smtp.messages()[0])
