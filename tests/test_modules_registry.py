"""The registry, the result object and the import boundary of modules/."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from modules import registry
from modules.base import ModuleResult, PaymentParams
from modules.fraud.base import FraudModule
from modules.gateways.base import GatewayModule
from modules.mail.base import MailTransport
from modules.registrars.base import RegistrarModule
from modules.servers.base import ServerModule

MODULES_DIR = Path(__file__).resolve().parent.parent / "modules"
FORBIDDEN = {"models", "actions", "admin", "api", "jobs", "flask", "flask_sqlalchemy", "extensions", "app"}

KINDS = [
    (registry.get_server_module, registry.available_server_modules, ServerModule, {"manual", "webhook"}),
    (
        registry.get_registrar_module,
        registry.available_registrar_modules,
        RegistrarModule,
        {"manual", "webhook"},
    ),
    (
        registry.get_gateway_module,
        registry.available_gateway_modules,
        GatewayModule,
        {"banktransfer", "stripe", "testgateway"},
    ),
    (registry.get_fraud_module, registry.available_fraud_modules, FraudModule, {"none", "maxmind"}),
    (registry.get_mail_transport, registry.available_mail_transports, MailTransport, {"log_only", "smtp"}),
]


@pytest.mark.parametrize(("get", "available", "interface", "names"), KINDS)
def test_every_listed_module_loads_and_implements_its_interface(get, available, interface, names):
    choices = available()
    assert {value for value, _ in choices} == names
    for value, label in choices:
        module = get(value)
        assert isinstance(module, interface)
        assert module.name == value and label == module.display_name and label


@pytest.mark.parametrize(("get", "available", "interface", "names"), KINDS)
def test_unknown_name_is_a_clear_error(get, available, interface, names):
    with pytest.raises(registry.UnknownModule) as caught:
        get("cpanel")
    assert "'cpanel'" in str(caught.value)
    assert all(name in str(caught.value) for name in names)
    assert isinstance(caught.value, LookupError)


def test_result_helpers():
    ok = ModuleResult.ok("Done", username="ada")
    assert ok == ModuleResult(True, "Done", {"username": "ada"}, retryable=False)
    failed = ModuleResult.fail("Timed out", retryable=True, http_status=504)
    assert not failed.success and failed.retryable and failed.data == {"http_status": 504}
    assert ModuleResult(False).data == {} and ModuleResult(False).data is not ModuleResult(False).data


def test_secrets_stay_out_of_reprs():
    params = PaymentParams(
        invoice_id=1, amount=Decimal("1.00"), currency="USD", gateway_settings={"secret_key": "sk_live_x"}
    )
    assert "sk_live_x" not in repr(params)


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_modules_never_import_the_app_layers():
    files = sorted(MODULES_DIR.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(MODULES_DIR)): _imported_roots(f) & FORBIDDEN for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}
