"""Bank transfer: the client pays by hand; money goes back by hand too."""

from __future__ import annotations

from modules.gateways.base import GatewayModule


class BankTransfer(GatewayModule):
    name = "banktransfer"
    display_name = "Bank Transfer"
