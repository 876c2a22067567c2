"""Manual registrar: staff register or transfer the domain by hand."""

from __future__ import annotations

from modules.base import DomainParams, ModuleResult
from modules.registrars.base import RegistrarModule


class ManualRegistrar(RegistrarModule):
    name = "manual"
    display_name = "Manual (no automation)"

    def register(self, params: DomainParams) -> ModuleResult:
        return ModuleResult.ok("Manual registrar: nothing to run")

    def transfer(self, params: DomainParams) -> ModuleResult:
        return ModuleResult.ok("Manual registrar: nothing to run")
