"""The interface every server module implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from modules.base import ModuleResult, ServiceParams


class ServerModule(ABC):
    #: Registry key, stored on products/servers.
    name: str = ""
    #: Shown in admin dropdowns.
    display_name: str = ""

    @abstractmethod
    def create(self, params: ServiceParams) -> ModuleResult: ...

    @abstractmethod
    def suspend(self, params: ServiceParams) -> ModuleResult: ...

    @abstractmethod
    def unsuspend(self, params: ServiceParams) -> ModuleResult: ...

    @abstractmethod
    def terminate(self, params: ServiceParams) -> ModuleResult: ...

    # An upgrade / downgrade: params describe the new package (product, cycle, configoptions).
    # A module that cannot change one remotely accepts it as done by hand, like create on manual.
    def change_package(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok(f"{self.display_name or self.name}: no package change automation")

    # An ordered addon's commands (params.addon is set). A module without addon automation
    # accepts them as nothing to do, like WHMCS's addon hooks.
    def addon_create(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok(f"{self.display_name or self.name}: no addon automation")

    def addon_terminate(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok(f"{self.display_name or self.name}: no addon automation")
