"""Mail transports against a real in-process SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket

import pytest

from modules import mail
from modules.base import EmailMessage, SmtpSettings
from modules.mail.smtp import build_mime
from modules.registry import get_mail_transport
from tests.modules_support.smtp_server import PASSWORD, USERNAME, free_port, start_smtp
from tests.modules_support.tls import make_certificate, server_context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp(certificate):
    controller, mailbox = start_smtp(tls_context=server_context(*certificate))
    try:
        yield controller, mailbox
    finally:
        controller.stop()


def welcome(**overrides) -> EmailMessage:
    fields = dict(
        to="ada@example.com",
        subject="Welcome to Starter Hosting",
        body_text="Your account is ready.",
        body_html="<p>Your account is <b>ready</b>.</p>",
        from_addr="billing@orderdesk.test",
        reply_to="support@orderdesk.test",
        headers={"X-Orderdesk-Order": "1001"},
    )
    fields.update(overrides)
    return EmailMessage(**fields)


def plain(port: int, **overrides) -> SmtpSettings:
    return SmtpSettings(**{"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5, **overrides})


def test_message_is_delivered_with_subject_and_recipient(smtp):
    controller, mailbox = smtp
    result = get_mail_transport("smtp").send(welcome(bcc=["audit@orderdesk.test"]), plain(controller.port))
    assert result.success, result.message
    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "billing@orderdesk.test"
    assert envelope.rcpt_tos == ["ada@example.com", "audit@orderdesk.test"]
    [received] = mailbox.messages()
    assert received["Subject"] == "Welcome to Starter Hosting"
    assert received["To"] == "ada@example.com"
    assert received["Reply-To"] == "support@orderdesk.test"
    assert received["X-Orderdesk-Order"] == "1001"
    assert received["Bcc"] is None  # blind copies stay blind
    assert received["Message-ID"] == result.data["message_id"]
    assert received.get_body(("plain",)).get_content().strip() == "Your account is ready."
    assert "<b>ready</b>" in received.get_body(("html",)).get_content()


def test_starttls_and_login(smtp, certificate):
    controller, mailbox = smtp
    settings = plain(
        controller.port,
        security="starttls",
        ca_file=str(certificate[0]),
        username=USERNAME,
        password=PASSWORD,
    )
    result = mail.send(welcome(), settings)
    assert result.success, result.message
    assert len(mailbox.envelopes) == 1


def test_implicit_tls(certificate):
    controller, mailbox = start_smtp(implicit_tls=server_context(*certificate))
    try:
        settings = plain(controller.port, security="ssl", ca_file=str(certificate[0]))
        result = mail.send(welcome(), settings)
    finally:
        controller.stop()
    assert result.success, result.message
    assert mailbox.messages()[0]["Subject"] == "Welcome to Starter Hosting"


def test_wrong_password_is_not_retryable(smtp, certificate):
    controller, mailbox = smtp
    settings = plain(
        controller.port, security="starttls", ca_file=str(certificate[0]), username=USERNAME, password="no"
    )
    result = mail.send(welcome(), settings)
    assert not result.success and not result.retryable
    assert mailbox.envelopes == []


def test_untrusted_certificate_is_not_retryable(smtp):
    controller, mailbox = smtp
    result = mail.send(welcome(), plain(controller.port, security="starttls"))
    assert not result.success and not result.retryable
    assert "TLS" in result.message


def test_refused_recipient_final_or_temporary(smtp):
    controller, mailbox = smtp
    final = mail.send(welcome(to="nobody@example.com"), plain(controller.port))
    assert not final.success and not final.retryable
    temporary = mail.send(welcome(to="greylist@example.com"), plain(controller.port))
    assert not temporary.success and temporary.retryable
    partial = mail.send(welcome(to=["ada@example.com", "nobody@example.com"]), plain(controller.port))
    assert partial.success and partial.data["refused"] == ["nobody@example.com"]
    assert len(mailbox.envelopes) == 1


def test_server_down_is_retryable():
    result = mail.send(welcome(), plain(free_port(), timeout=2))
    assert not result.success and result.retryable
    assert "Could not reach SMTP server" in result.message


def test_server_that_never_greets_times_out_retryable():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the handshake; nobody ever answers
        result = mail.send(welcome(), plain(silent.getsockname()[1], timeout=0.3))
    assert not result.success and result.retryable


def test_without_mail_server_message_stays_in_log():
    for settings in (None, SmtpSettings(host="")):
        result = mail.send(welcome(), settings)
        assert result.success and result.data == {"delivered": False}
    assert get_mail_transport("log_only").send(welcome(), None).success


def test_header_injection_and_missing_addresses_are_refused():
    assert not mail.send(welcome(subject="x"), None).data.get("delivered")
    transport = get_mail_transport("smtp")
    settings = plain(free_port())
    injected = transport.send(welcome(headers={"X-Note": "a\r\nBcc: victim@example.com"}), settings)
    assert not injected.success and not injected.retryable
    assert not transport.send(welcome(to=[]), settings).success
    assert not transport.send(welcome(from_addr=""), settings).success
    assert "Unknown SMTP security" in transport.send(welcome(), plain(1, security="tls")).message


def test_build_mime_lists_every_recipient():
    mime, recipients = build_mime(welcome(to=["a@x.test", "b@x.test"], cc=["c@x.test"], bcc=["d@x.test"]))
    assert recipients == ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]
    assert mime["To"] == "a@x.test, b@x.test" and mime["Cc"] == "c@x.test"
