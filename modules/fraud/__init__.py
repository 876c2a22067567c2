"""Fraud check modules: score a new order before it reaches the admins."""

from modules.fraud.base import FraudModule

__all__ = ["FraudModule"]
