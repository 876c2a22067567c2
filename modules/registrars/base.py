"""The interface every registrar module implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from modules.base import DomainParams, ModuleResult


class RegistrarModule(ABC):
    name: str = ""
    display_name: str = ""

    @abstractmethod
    def register(self, params: DomainParams) -> ModuleResult: ...

    @abstractmethod
    def transfer(self, params: DomainParams) -> ModuleResult: ...
