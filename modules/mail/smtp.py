"""Send mail over SMTP with the standard library."""

from __future__ import annotations

import smtplib
import ssl
from contextlib import closing
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, make_msgid
from functools import lru_cache

from modules.base import EmailMessage, ModuleResult, SmtpSettings
from modules.mail.base import MailTransport


class SmtpTransport(MailTransport):
    name = "smtp"
    display_name = "SMTP"

    def send(self, message: EmailMessage, smtp_settings: SmtpSettings | None) -> ModuleResult:
        if smtp_settings is None or not smtp_settings.host:
            return ModuleResult.fail("No SMTP server is configured")
        if smtp_settings.security not in ("starttls", "ssl", "none"):
            # Never guess: an unknown value must not silently fall back to plain text.
            return ModuleResult.fail(
                f"Unknown SMTP security {smtp_settings.security!r}; use starttls, ssl or none"
            )
        try:
            mime, recipients = build_mime(message)
        except ValueError as exc:
            return ModuleResult.fail(str(exc))
        try:
            # Not `with SMTP(...)`: its exit sends QUIT even after a timeout, and reads the late reply
            # to the timed-out command as QUIT's ("SMTP error 250"), turning a retryable timeout
            # into a final failure.
            with closing(_connect(smtp_settings)) as smtp:
                refused = smtp.send_message(mime, from_addr=message.from_addr, to_addrs=recipients)
                _quit_politely(smtp)
        except smtplib.SMTPAuthenticationError as exc:
            return ModuleResult.fail(f"SMTP login refused: {_text(exc)}")
        except smtplib.SMTPRecipientsRefused as exc:
            # Temporary refusals (4xx, e.g. greylisting) are worth another try.
            temporary = all(400 <= code < 500 for code, _ in exc.recipients.values())
            return ModuleResult.fail(
                f"All recipients refused: {', '.join(exc.recipients)}", retryable=temporary
            )
        except smtplib.SMTPResponseException as exc:
            # 4xx is "try again later" in SMTP; 5xx is final.
            return ModuleResult.fail(
                f"SMTP error {exc.smtp_code}: {_text(exc)}", retryable=400 <= exc.smtp_code < 500
            )
        except smtplib.SMTPNotSupportedError as exc:
            return ModuleResult.fail(f"SMTP server does not support this: {exc}")
        except ssl.SSLError as exc:
            # Certificate or protocol mismatch: a configuration problem, not a blip.
            return ModuleResult.fail(f"TLS error talking to the SMTP server: {exc}")
        except smtplib.SMTPServerDisconnected as exc:
            return ModuleResult.fail(f"SMTP server hung up: {exc}", retryable=True)
        except smtplib.SMTPException as exc:
            # Listed before OSError (its base class): e.g. AUTH not offered.
            return ModuleResult.fail(f"SMTP error: {exc}")
        except OSError as exc:
            # Refused, timed out, name not resolved: the server may be back later.
            where = f"{smtp_settings.host}:{smtp_settings.port}"
            return ModuleResult.fail(f"Could not reach SMTP server {where}: {exc}", retryable=True)
        data = {"message_id": mime["Message-ID"], "delivered": True}
        if refused:
            data["refused"] = sorted(refused)
        return ModuleResult(True, "Sent", data)


def _quit_politely(smtp: smtplib.SMTP) -> None:
    """QUIT after the server accepted the message; a failure now changes nothing about that."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass


def build_mime(message: EmailMessage) -> tuple[MimeMessage, list[str]]:
    to = [message.to] if isinstance(message.to, str) else list(message.to)
    if not to:
        raise ValueError("The message has no recipient")
    if not message.from_addr:
        raise ValueError("The message has no sender address")
    mime = MimeMessage()
    for name, value in message.headers.items():
        # Header injection guard: a newline would let a value add its own headers.
        if "\n" in name or "\r" in name or "\n" in value or "\r" in value:
            raise ValueError(f"Header {name!r} contains a line break")
        mime[name] = value
    _set(mime, "From", message.from_addr)
    _set(mime, "To", ", ".join(to))
    if message.cc:
        _set(mime, "Cc", ", ".join(message.cc))
    if message.reply_to:
        _set(mime, "Reply-To", message.reply_to)
    _set(mime, "Subject", message.subject)
    if "Date" not in mime:
        mime["Date"] = formatdate(localtime=False, usegmt=True)
    if "Message-ID" not in mime:
        mime["Message-ID"] = make_msgid(domain=message.from_addr.rpartition("@")[2] or None)
    mime.set_content(message.body_text)
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html")
    return mime, to + list(message.cc) + list(message.bcc)


def _set(mime: MimeMessage, name: str, value: str) -> None:
    del mime[name]
    mime[name] = value


@lru_cache(maxsize=4)
def tls_context(ca_file: str) -> ssl.SSLContext:
    """The verifying TLS context, built once per process (per CA file): loading the system's
    certificates costs tens of milliseconds, more than sending a message to a nearby server.
    The worker builds it before forking (jobs/worker.py), so each work horse starts with it; a
    changed CA file is read when the worker restarts."""
    return ssl.create_default_context(cafile=ca_file or None)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=tls_context(settings.ca_file)
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=tls_context(settings.ca_file))
        if settings.username:
            smtp.login(settings.username, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)
