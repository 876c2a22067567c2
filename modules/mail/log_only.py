"""No mail server configured: the message stays in the email log, shown in the admin."""

from __future__ import annotations

from modules.base import EmailMessage, ModuleResult, SmtpSettings
from modules.mail.base import MailTransport


class LogOnlyTransport(MailTransport):
    name = "log_only"
    display_name = "Email log only (no sending)"

    def send(self, message: EmailMessage, smtp_settings: SmtpSettings | None = None) -> ModuleResult:
        return ModuleResult.ok("Not sent: no mail server configured; kept in the email log", delivered=False)
