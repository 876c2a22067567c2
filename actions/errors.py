"""TransitionError: how every refused order action is reported (a stable code + a human message).

Import it from actions.transitions (the table it belongs to); it lives here so that
actions.side_effects can raise it without an import cycle.
"""

from enum import StrEnum

from models.guards import Refusal, RefusalCode

STALE_MESSAGE = "This order was changed by someone else — reload and try again"


class ErrorCode(StrEnum):
    NOT_ALLOWED = RefusalCode.NOT_ALLOWED.value  # the order's status does not allow it
    SAME_STATUS = RefusalCode.SAME_STATUS.value
    NO_PAYMENTS = RefusalCode.NO_PAYMENTS.value
    UNREFUNDED_PAYMENTS = RefusalCode.UNREFUNDED_PAYMENTS.value
    STALE = "stale"  # someone else changed the order first
    NOT_FOUND = "not_found"
    GATEWAY_CANNOT_REFUND = "gateway_cannot_refund"
    INVALID_OPTION = "invalid_option"  # an accept option names a server/registrar that is not there
    UNKNOWN_STATUS = "unknown_status"
    SIDE_EFFECTS_PENDING = "side_effects_pending"  # delete while module commands are still to run
    NOT_BULK = "not_bulk"  # the action is not offered as a bulk change
    # Invoice actions (actions/invoice_access.py and the verb modules beside it).
    OVERPAYMENT = "overpayment"  # a payment larger than the balance
    OVER_REFUND = "over_refund"  # a refund larger than what is left of the payment
    DUPLICATE_PAYMENT = "duplicate_payment"  # the gateway's transaction id is recorded already
    GATEWAY_CANNOT_CAPTURE = "gateway_cannot_capture"
    CAPTURE_UNDER_WAY = "capture_under_way"


class TransitionError(Exception):
    """An action was refused; the caller rolls back and shows `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message

    @classmethod
    def from_refusal(cls, refusal: Refusal) -> "TransitionError":
        return cls(refusal.code, refusal.message)

    @classmethod
    def stale(cls) -> "TransitionError":
        return cls(ErrorCode.STALE, STALE_MESSAGE)
