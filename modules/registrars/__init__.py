"""Registrar modules: register and transfer domains."""

from modules.registrars.base import RegistrarModule

__all__ = ["RegistrarModule"]
