"""What an order is made of before it exists: the cart, the placement options, and the error.

Plain data, filled by any face (the Add New Order page, the API, a checkout) and read by
actions.place / actions.pricing. Field names in errors follow the form's names
("products-0-billing_cycle"), so a face can show each message next to its field.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import idna

from models import DomainOrderType, OrderSource, OrderStatus


@dataclass
class CartProduct:
    product_id: int | None
    billing_cycle: str | None = None  # None: the shortest configured cycle
    quantity: int = 1
    price_override: Decimal | None = None
    domain: str = ""
    addon_ids: list[int] = field(default_factory=list)  # each of the `quantity` services gets them
    # Configurable option id -> choice id / count (actions.config_options); each service gets them.
    config_options: dict = field(default_factory=dict)
    custom_fields: dict[int, str] = field(default_factory=dict)  # field id -> answer, for each service


@dataclass
class CartDomain:
    type: str  # DomainOrderType
    name: str
    period_years: int = 1
    epp_code: str = ""
    dns_management: bool = False
    email_forwarding: bool = False
    id_protection: bool = False
    price_override: Decimal | None = None  # replaces the registration/transfer price of the period
    renewal_override: Decimal | None = None  # replaces the renewal price


@dataclass
class Cart:
    client_id: int | None
    payment_method: str = ""
    promo_code: str = ""
    products: list[CartProduct] = field(default_factory=list)
    domains: list[CartDomain] = field(default_factory=list)
    ip_address: str = ""
    notes: str = ""
    affiliate_id: int | None = None


@dataclass
class PlaceOptions:
    order_confirmation: bool = True  # "Order Confirmation" email to the client
    generate_invoice: bool = True
    send_invoice_email: bool = True  # "Invoice Created"; only with generate_invoice
    new_order_notification: bool = True  # "New Order Notification" to the admins
    status: str = OrderStatus.PENDING
    source: str = OrderSource.ADMIN
    placed_by_admin_id: int | None = None


class PlacementError(ValueError):
    """The order was refused; `errors` maps a field name to its messages. Nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))


def product_field(index: int, name: str) -> str:
    return f"products-{index}-{name}"


def domain_field(index: int, name: str) -> str:
    return f"domains-{index}-{name}"


DOMAIN_TYPES = tuple(DomainOrderType)


class DomainNameError(ValueError):
    pass


def normalize_domain_name(name: str) -> str:
    """The domain in lower-case Unicode, after an IDNA (UTS #46) and letter-digit-hyphen check."""
    name = name.strip().rstrip(".")
    if not name:
        raise DomainNameError("Enter a domain name.")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise DomainNameError(f"{name!r} is not a valid domain name ({exc}).") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253:
        raise DomainNameError(
            f"{name!r} is not a valid domain name: enter name and extension, e.g. example.com."
        )
    for label in labels:
        ldh = label.replace("-", "").isalnum() and label.isascii()
        if not (1 <= len(label) <= 63) or not ldh or label.startswith("-") or label.endswith("-"):
            raise DomainNameError(
                f"{name!r} is not a valid domain name: use letters, digits and hyphens between dots."
            )
    return idna.decode(ascii_name)
