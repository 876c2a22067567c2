"""Which module names exist, and how to get one.

Adding a module = one file + one entry in the table below. Entries are
"package.module:Class" strings imported on first use, so an SDK (stripe,
minfraud) only loads when a module that needs it is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from modules.fraud.base import FraudModule
from modules.gateways.base import GatewayModule
from modules.mail.base import MailTransport
from modules.registrars.base import RegistrarModule
from modules.servers.base import ServerModule

SERVERS = {
    "manual": "modules.servers.manual:ManualServer",
    "webhook": "modules.servers.webhook:WebhookServer",
}
REGISTRARS = {
    "manual": "modules.registrars.manual:ManualRegistrar",
    "webhook": "modules.registrars.webhook:WebhookRegistrar",
}
GATEWAYS = {
    "banktransfer": "modules.gateways.banktransfer:BankTransfer",
    "stripe": "modules.gateways.stripe_gateway:StripeGateway",
    "testgateway": "modules.gateways.test_gateway:TestGateway",
}
FRAUD = {
    "none": "modules.fraud.none:NoFraudCheck",
    "maxmind": "modules.fraud.maxmind:MaxMindFraud",
}
MAIL = {
    "log_only": "modules.mail.log_only:LogOnlyTransport",
    "smtp": "modules.mail.smtp:SmtpTransport",
}


class UnknownModule(LookupError):  # noqa: N818 - the name reads as the admin sees it
    """A stored module name that this installation does not have."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        super().__init__(f"Unknown {kind} module {name!r}; available: {', '.join(known)}")


def _load(kind: str, table: dict[str, str], name: str) -> Any:
    path = table.get(name)
    if path is None:
        raise UnknownModule(kind, name, sorted(table))
    module_path, _, class_name = path.partition(":")
    return getattr(import_module(module_path), class_name)()


def _choices(kind: str, table: dict[str, str]) -> list[tuple[str, str]]:
    # (value, label) pairs, ready for a WTForms SelectField.
    return [(name, _load(kind, table, name).display_name) for name in table]


def get_server_module(name: str) -> ServerModule:
    return _load("server", SERVERS, name)


def get_registrar_module(name: str) -> RegistrarModule:
    return _load("registrar", REGISTRARS, name)


def get_gateway_module(name: str) -> GatewayModule:
    return _load("gateway", GATEWAYS, name)


def get_fraud_module(name: str) -> FraudModule:
    return _load("fraud", FRAUD, name)


def get_mail_transport(name: str) -> MailTransport:
    return _load("mail", MAIL, name)


def available_server_modules() -> list[tuple[str, str]]:
    return _choices("server", SERVERS)


def available_registrar_modules() -> list[tuple[str, str]]:
    return _choices("registrar", REGISTRARS)


def available_gateway_modules() -> list[tuple[str, str]]:
    return _choices("gateway", GATEWAYS)


def available_fraud_modules() -> list[tuple[str, str]]:
    return _choices("fraud", FRAUD)


def available_mail_transports() -> list[tuple[str, str]]:
    return _choices("mail", MAIL)
