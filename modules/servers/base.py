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

    # An ordered addon's commands (params.addon is set). A module without addon automation
    # accepts them as nothing to do, like WHMCS's addon hooks.
    def addon_create(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok(f"{self.display_name or self.name}: no addon automation")

    def addon_terminate(self, params: ServiceParams) -> ModuleResult:
        return ModuleResult.ok(f"{self.display_name or self.name}: no addon automation")
