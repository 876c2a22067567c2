"""Decimal amounts to and from the integer minor units card gateways use."""

from __future__ import annotations

from decimal import Decimal

# Stripe's lists: https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}


def exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """12.34 USD -> 1234. Refuses amounts that would need rounding."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows")
    return int(scaled)


def from_minor_units(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-exponent(currency))
