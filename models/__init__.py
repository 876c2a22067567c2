"""SQLAlchemy models and vocabularies. Import from here: `from models import Order, OrderStatus`."""

from models import substring_index  # noqa: F401 (registers its create_all DDL)
from models.addons import (
    ADDON_LINE_TYPES,
    Addon,
    AddonPrice,
    ServiceAddon,
    addon_payment_status,
    addon_products,
)
from models.admin_sessions import AdminSession
from models.admin_users import AdminUser, ApiCredential, Role, hash_secret, verify_secret
from models.api_log import ApiLogEntry
from models.base import ZERO, Base, utcnow
from models.billing import Invoice, InvoiceItem, Transaction
from models.catalog import (
    Gateway,
    Product,
    ProductPrice,
    Promotion,
    PromotionAmount,
    Server,
    Tld,
    TldPrice,
)
from models.clients import Affiliate, Client
from models.config_options import (
    ConfigOption,
    ConfigOptionChoice,
    ConfigOptionGroup,
    ConfigOptionPrice,
    ConfigOptionType,
    ServiceConfigOption,
    config_option_group_products,
)
from models.currency import Currency, CurrencyFormat, default_currency, to_default
from models.custom_fields import CustomField, CustomFieldOwner, CustomFieldType, CustomFieldValue
from models.events import OrderEvent
from models.fraud import FraudCheck, FraudModuleSettings, FraudService, FraudVerdict
from models.hooks import HookDelivery, HookEndpoint
from models.order_counts import OrderStatusCount
from models.orders import (
    CORE_ORDER_STATUSES,
    Domain,
    Order,
    OrderStatusDefinition,
    Service,
    item_payment_status,
    payment_status_is,
    payment_status_of,
)
from models.outbox import SideEffect
from models.permissions import BUILTIN_ROLES, Permission
from models.saved_views import SavedView
from models.settings import DEFAULT_SETTINGS, EmailLog, EmailTemplate, Setting
from models.stats import DailyOrderCount, DailyRevenue
from models.two_factor import RecoveryCode, TrustedBrowser
from models.upgrades import ServiceUpgrade
from models.vocab import (
    ActorType,
    AutoSetup,
    BillingCycle,
    ClientStatus,
    DomainOrderType,
    DomainStatus,
    DowngradeCredit,
    EmailStatus,
    InvoiceItemType,
    InvoiceStatus,
    OrderKind,
    OrderSource,
    OrderStatus,
    PaymentStatus,
    ProductType,
    PromotionType,
    ServiceStatus,
    SideEffectKind,
    SideEffectStatus,
    UpgradeStatus,
)

__all__ = [
    "ADDON_LINE_TYPES", "Addon", "AddonPrice", "ServiceAddon", "addon_payment_status", "addon_products",
    "ConfigOption", "ConfigOptionChoice", "ConfigOptionGroup", "ConfigOptionPrice", "ConfigOptionType",
    "ServiceConfigOption", "config_option_group_products",
    "CustomField", "CustomFieldOwner", "CustomFieldType", "CustomFieldValue",
    "Currency", "CurrencyFormat", "PromotionAmount", "default_currency", "to_default",
    "ZERO", "ActorType", "AdminSession", "AdminUser", "Affiliate", "ApiCredential", "ApiLogEntry",
    "AutoSetup", "BUILTIN_ROLES", "Base", "BillingCycle", "CORE_ORDER_STATUSES", "Client", "ClientStatus",
    "DEFAULT_SETTINGS", "DailyOrderCount", "DailyRevenue", "FraudCheck", "FraudModuleSettings",
    "FraudService", "FraudVerdict", "HookDelivery", "HookEndpoint",
    "Domain", "DomainOrderType", "DomainStatus", "EmailLog", "EmailStatus", "EmailTemplate",
    "Gateway", "Invoice", "InvoiceItem", "InvoiceItemType", "InvoiceStatus", "Order", "OrderEvent",
    "DowngradeCredit", "OrderKind", "ServiceUpgrade", "UpgradeStatus",
    "OrderSource", "OrderStatus", "OrderStatusCount", "OrderStatusDefinition", "PaymentStatus", "Permission",
    "Product",
    "ProductPrice", "ProductType", "Promotion", "PromotionType", "RecoveryCode", "Role", "Server", "Service",
    "SavedView", "ServiceStatus", "Setting", "SideEffect", "SideEffectKind", "SideEffectStatus", "Tld",
    "TldPrice", "Transaction", "TrustedBrowser", "hash_secret", "item_payment_status", "payment_status_is",
    "payment_status_of",
    "utcnow", "verify_secret",
]
