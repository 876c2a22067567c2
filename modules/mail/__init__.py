"""Outgoing email transports."""

from __future__ import annotations

from modules.base import EmailMessage, ModuleResult, SmtpSettings
from modules.mail.base import MailTransport
from modules.mail.log_only import LogOnlyTransport
from modules.mail.smtp import SmtpTransport


def send(message: EmailMessage, smtp_settings: SmtpSettings | None) -> ModuleResult:
    """Send over SMTP, or keep it in the email log only when no server is configured."""
    if smtp_settings is None or not smtp_settings.host:
        return LogOnlyTransport().send(message, smtp_settings)
    return SmtpTransport().send(message, smtp_settings)


__all__ = ["MailTransport", "send"]
