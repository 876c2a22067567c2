"""The interface every fraud module implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from modules.base import FraudParams, FraudResult


class FraudModule(ABC):
    name: str = ""
    display_name: str = ""

    @abstractmethod
    def check(self, params: FraudParams) -> FraudResult: ...
