"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USERNAME, PASSWORD = "mailer", "mail-pass"


def free_port() -> int:
    # aiosmtpd's Controller cannot report an OS-assigned port, so pick one first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: stores envelopes; some addresses are refused on purpose."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("greylist@"):
            return "451 4.7.1 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: let aiosmtpd send the standard 535 reply on failure.
    return AuthResult(success=ok, handled=False)


def start_smtp(tls_context=None, implicit_tls=None) -> tuple[Controller, Mailbox]:
    """tls_context offers STARTTLS; implicit_tls wraps the whole connection (port 465 style)."""
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="smtp.test",  # avoid a slow getfqdn() lookup
        tls_context=tls_context,
        ssl_context=implicit_tls,
        authenticator=authenticator,
        auth_require_tls=True,
        ready_timeout=5,
    )
    controller.start()
    return controller, mailbox
