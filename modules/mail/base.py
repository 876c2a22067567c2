"""The interface every mail transport implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from modules.base import EmailMessage, ModuleResult, SmtpSettings


class MailTransport(ABC):
    name: str = ""
    display_name: str = ""

    @abstractmethod
    def send(self, message: EmailMessage, smtp_settings: SmtpSettings | None) -> ModuleResult: ...
