"""Vocabularies: the words the business uses, kept apart from the logic that uses them."""

from enum import StrEnum


class OrderStatus(StrEnum):
    """The four core order statuses; custom ones live only in the order_statuses table."""

    PENDING = "Pending"
    ACTIVE = "Active"
    CANCELLED = "Cancelled"
    FRAUD = "Fraud"


class OrderKind(StrEnum):
    """What an order is for: a new sale, or a change to a live service (WHMCS's upgrade orders)."""

    NEW = "new"
    UPGRADE = "upgrade"


class UpgradeStatus(StrEnum):
    PENDING = "Pending"  # ordered, not yet applied (waits for payment, or for accept at no charge)
    COMPLETED = "Completed"  # the service has its new product, options, cycle and amounts


class DowngradeCredit(StrEnum):
    """Where a downgrade's prorated credit goes (the downgrade_credit_method setting)."""

    CREDIT = "credit"  # the client's credit balance
    REFUND = "refund"  # back on the service's latest payments (the rest, if any, as credit)


class ServiceStatus(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    SUSPENDED = "Suspended"
    TERMINATED = "Terminated"
    CANCELLED = "Cancelled"
    FRAUD = "Fraud"
    COMPLETED = "Completed"


class DomainStatus(StrEnum):
    PENDING = "Pending"
    PENDING_REGISTRATION = "Pending Registration"
    PENDING_TRANSFER = "Pending Transfer"
    ACTIVE = "Active"
    GRACE = "Grace"
    REDEMPTION = "Redemption"
    EXPIRED = "Expired"
    CANCELLED = "Cancelled"
    FRAUD = "Fraud"
    TRANSFERRED_AWAY = "Transferred Away"


class DomainOrderType(StrEnum):
    REGISTER = "Register"
    TRANSFER = "Transfer"


class InvoiceStatus(StrEnum):
    DRAFT = "Draft"
    UNPAID = "Unpaid"
    PAID = "Paid"
    CANCELLED = "Cancelled"
    REFUNDED = "Refunded"
    COLLECTIONS = "Collections"
    PAYMENT_PENDING = "Payment Pending"


class PaymentStatus(StrEnum):
    """Derived from the order's first invoice (WHMCS's "Payment Status" column)."""

    PAID = "Paid"
    UNPAID = "Unpaid"
    NO_INVOICE = "No Invoice"


class ClientStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    CLOSED = "Closed"


class BillingCycle(StrEnum):
    ONE_TIME = "One Time"
    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"
    SEMI_ANNUALLY = "Semi-Annually"
    ANNUALLY = "Annually"
    BIENNIALLY = "Biennially"
    TRIENNIALLY = "Triennially"

    @property
    def months(self) -> int:
        return _CYCLE_MONTHS[self]


_CYCLE_MONTHS = {
    BillingCycle.ONE_TIME: 0,
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.SEMI_ANNUALLY: 6,
    BillingCycle.ANNUALLY: 12,
    BillingCycle.BIENNIALLY: 24,
    BillingCycle.TRIENNIALLY: 36,
}


class ProductType(StrEnum):
    SHARED_HOSTING = "Shared Hosting"
    RESELLER_HOSTING = "Reseller Hosting"
    SERVER = "Server/VPS"
    OTHER = "Other"


class AutoSetup(StrEnum):
    """When a product's server module create runs (WHMCS autosetup order|payment|on|'')."""

    ON_ORDER = "on_order"
    ON_PAYMENT = "on_payment"
    ON_ACCEPT = "on_accept"
    NEVER = "never"


class PromotionType(StrEnum):
    PERCENTAGE = "Percentage"
    FIXED_AMOUNT = "Fixed Amount"
    PRICE_OVERRIDE = "Price Override"
    FREE_SETUP = "Free Setup"


class OrderSource(StrEnum):
    ADMIN = "admin"
    API = "api"
    CHECKOUT = "checkout"


class InvoiceItemType(StrEnum):
    HOSTING = "Hosting"
    SETUP = "Setup"
    DOMAIN_REGISTER = "DomainRegister"
    DOMAIN_TRANSFER = "DomainTransfer"
    PROMO_HOSTING = "PromoHosting"
    PROMO_DOMAIN = "PromoDomain"
    DOMAIN_RENEW = "Domain"  # WHMCS's type for a domain renewal line
    ADDON = "Addon"
    PROMO_ADDON = "PromoAddon"
    ITEM = "Item"
    UPGRADE = "Upgrade"  # an upgrade order's prorated difference (related_id: the service)


class SideEffectKind(StrEnum):
    MODULE_CREATE = "module_create"
    MODULE_TERMINATE = "module_terminate"
    MODULE_CHANGE_PACKAGE = "module_change_package"  # an upgrade applied (actions.apply_upgrade)
    ADDON_CREATE = "addon_create"  # an ordered addon's server-module commands
    ADDON_TERMINATE = "addon_terminate"
    DOMAIN_REGISTER = "domain_register"
    DOMAIN_TRANSFER = "domain_transfer"
    REFUND = "refund"
    CAPTURE = "capture"
    EMAIL = "email"
    HOOK_DELIVERY = "hook_delivery"  # an event hook's signed POST (actions.hook_events)


class SideEffectStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ActorType(StrEnum):
    ADMIN = "admin"
    API = "api"
    SYSTEM = "system"


class EmailStatus(StrEnum):
    STORED = "stored"  # no MAIL_SERVER: kept in the log only
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
