"""Plain data that crosses the boundary between Orderdesk and its plug-in modules.

Modules receive these dataclasses (like WHMCS's ``$params``) and return a
``ModuleResult``; they never see ORM objects or the database, so a job can
build the parameters, call a module, and record the outcome itself.
Money is always ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class ModuleResult:
    """What a module reports back.

    ``retryable`` tells the job runner whether trying again later may help
    (network errors, timeouts, 5xx); a clear refusal (declined card, 4xx,
    "not supported") is final and goes straight to the admin.
    """

    success: bool
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    retryable: bool = False

    @classmethod
    def ok(cls, message: str = "", **data: Any) -> ModuleResult:
        return cls(success=True, message=message, data=data)

    @classmethod
    def fail(cls, message: str, *, retryable: bool = False, **data: Any) -> ModuleResult:
        return cls(success=False, message=message, data=data, retryable=retryable)


@dataclass
class ClientInfo:
    id: int
    name: str
    email: str
    company: str = ""
    country: str = ""


@dataclass
class ServerInfo:
    id: int
    name: str
    hostname: str = ""
    url: str = ""
    # Shared secret for signing webhook calls; never sent over the wire.
    secret: str = field(default="", repr=False)
    timeout: float = 10.0


@dataclass
class AddonInfo:
    """The ordered addon an addon_create / addon_terminate is for (its service is the rest)."""

    id: int
    addon_id: int
    name: str
    billing_cycle: str = ""
    recurring_amount: Decimal = Decimal("0.00")


@dataclass
class ServiceParams:
    service_id: int
    order_id: int
    client: ClientInfo
    product_name: str
    product_type: str = ""
    domain: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    billing_cycle: str = ""
    server: ServerInfo | None = None
    # Same key on every retry of one side effect, so the far side can dedupe.
    idempotency_key: str = ""
    addon: AddonInfo | None = None  # set for an addon's commands
    # The service's configurable options, option name -> choice name or count (WHMCS's configoptions).
    configoptions: dict[str, Any] = field(default_factory=dict)
    # WHMCS's `customfields`: field name -> answer, a password field's in clear (for this call only).
    customfields: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass
class DomainParams:
    domain_id: int
    order_id: int
    client: ClientInfo
    name: str
    period_years: int = 1
    epp_code: str = field(default="", repr=False)
    dns_management: bool = False
    email_forwarding: bool = False
    id_protection: bool = False
    # Registrar module configuration (for the webhook registrar: url, secret, timeout).
    registrar_settings: dict[str, Any] = field(default_factory=dict, repr=False)
    idempotency_key: str = ""


@dataclass
class PaymentParams:
    invoice_id: int
    amount: Decimal
    currency: str
    gateway_settings: dict[str, Any] = field(default_factory=dict, repr=False)
    # Gateway id of the payment being refunded (Stripe: pi_... or ch_...).
    transaction_id: str = ""
    client: ClientInfo | None = None
    idempotency_key: str = ""
    # For capture: the customer's saved card at the gateway.
    payment_method_id: str = ""
    customer_id: str = ""
    description: str = ""


@dataclass
class EmailMessage:
    # One address or a list of them.
    to: str | list[str]
    subject: str
    body_text: str
    body_html: str | None = None
    from_addr: str = ""
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)


@dataclass
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none".
    security: str = "starttls"
    timeout: float = 10.0
    # Optional CA file for servers with a private certificate authority.
    ca_file: str = ""


@dataclass
class FraudParams:
    order_id: int
    client: ClientInfo
    ip_address: str
    amount: Decimal
    currency: str
    # Scores strictly above the threshold count as fraud (MaxMind: 0.01-99).
    threshold: Decimal = Decimal(20)
    # MaxMind: account_id, license_key, host, service, timeout, and the reject rules
    # reject_free_email, reject_country_mismatch, reject_anonymous_proxy, high_risk_countries [ISO].
    settings: dict[str, Any] = field(default_factory=dict, repr=False)
    user_agent: str = ""
    accept_language: str = ""


@dataclass
class FraudResult:
    score: Decimal
    is_fraud: bool
    reasons: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    # The answer's readable fields, label -> value (IP country, ISP, proxy, email and address checks).
    details: dict[str, Any] = field(default_factory=dict)
    # Set when the check could not run (service down, bad licence); the caller
    # decides whether to let the order through. Empty means the check ran.
    error: str = ""

    @property
    def checked(self) -> bool:
        return not self.error
