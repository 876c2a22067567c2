"""Domain registration through the operator's own automation via a signed webhook.

registrar_settings: ``url``, ``secret``, optional ``timeout`` (seconds).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from modules.base import DomainParams, ModuleResult
from modules.registrars.base import RegistrarModule
from modules.webhook import DEFAULT_TIMEOUT, post_signed


class WebhookRegistrar(RegistrarModule):
    name = "webhook"
    display_name = "Signed webhook"

    def register(self, params: DomainParams) -> ModuleResult:
        return self._call("register", params)

    def transfer(self, params: DomainParams) -> ModuleResult:
        return self._call("transfer", params)

    def _call(self, action: str, params: DomainParams) -> ModuleResult:
        settings = params.registrar_settings
        return post_signed(
            str(settings.get("url", "")),
            str(settings.get("secret", "")),
            action,
            params.idempotency_key,
            {"domain": domain_section(params), "client": asdict(params.client)},
            timeout=float(settings.get("timeout") or DEFAULT_TIMEOUT),
        )


def domain_section(params: DomainParams) -> dict[str, Any]:
    return {
        "id": params.domain_id,
        "order_id": params.order_id,
        "name": params.name,
        "period_years": params.period_years,
        # Only transfers carry an EPP code; use HTTPS.
        "epp_code": params.epp_code,
        "dns_management": params.dns_management,
        "email_forwarding": params.email_forwarding,
        "id_protection": params.id_protection,
    }
