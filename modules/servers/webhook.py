"""Provisioning through the operator's own automation via a signed webhook."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from modules.base import AddonInfo, ModuleResult, ServiceParams
from modules.servers.base import ServerModule
from modules.webhook import post_signed


class WebhookServer(ServerModule):
    name = "webhook"
    display_name = "Signed webhook"

    def create(self, params: ServiceParams) -> ModuleResult:
        return self._call("create", params)

    def suspend(self, params: ServiceParams) -> ModuleResult:
        return self._call("suspend", params)

    def unsuspend(self, params: ServiceParams) -> ModuleResult:
        return self._call("unsuspend", params)

    def terminate(self, params: ServiceParams) -> ModuleResult:
        return self._call("terminate", params)

    def change_package(self, params: ServiceParams) -> ModuleResult:
        return self._call("change_package", params)

    def addon_create(self, params: ServiceParams) -> ModuleResult:
        return self._call("addon_create", params)

    def addon_terminate(self, params: ServiceParams) -> ModuleResult:
        return self._call("addon_terminate", params)

    def _call(self, action: str, params: ServiceParams) -> ModuleResult:
        server = params.server
        if server is None:
            return ModuleResult.fail("No server is assigned to this service")
        return post_signed(
            server.url,
            server.secret,
            action,
            params.idempotency_key,
            {"service": service_section(params), "client": asdict(params.client)}
            | ({"addon": addon_section(params.addon)} if params.addon else {}),
            timeout=server.timeout,
        )


def addon_section(addon: AddonInfo) -> dict[str, Any]:
    return {
        "id": addon.id,
        "addon_id": addon.addon_id,
        "name": addon.name,
        "billing_cycle": addon.billing_cycle,
        "recurring_amount": str(addon.recurring_amount),
    }


def service_section(params: ServiceParams) -> dict[str, Any]:
    server = params.server
    return {
        "id": params.service_id,
        "order_id": params.order_id,
        "product_name": params.product_name,
        "product_type": params.product_type,
        "domain": params.domain,
        "username": params.username,
        # The automation needs the password to set the account up; use HTTPS.
        "password": params.password,
        "billing_cycle": params.billing_cycle,
        "configoptions": params.configoptions,
        "customfields": params.customfields,
        # Identify the server, never echo its secret.
        "server": {"id": server.id, "name": server.name, "hostname": server.hostname} if server else None,
    }
