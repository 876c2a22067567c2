"""Manual provisioning: staff set the service up by hand, nothing remote runs."""

from __future__ import annotations

from modules.base import ModuleResult, ServiceParams
from modules.servers.base import ServerModule


class ManualServer(ServerModule):
    name = "manual"
    display_name = "Manual (no automation)"

    def create(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok("Manual module: nothing to run")

    def suspend(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok("Manual module: nothing to run")

    def unsuspend(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok("Manual module: nothing to run")

    def terminate(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok("Manual module: nothing to run")

    def change_package(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok("Manual module: change the package by hand")
