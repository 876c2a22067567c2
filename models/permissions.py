"""Named admin permissions (WHMCS's names where they exist) and the built-in roles."""

from enum import StrEnum

from models.vocab import SideEffectKind


class Permission(StrEnum):
    VIEW_ORDERS = "View Orders"
    VIEW_ORDER_DETAILS = "View Order Details"
    ADD_NEW_ORDER = "Add New Order"
    EDIT_ORDER = "Edit Order"
    # Re-price a pending, unpaid order's items and invoice (actions.amend_order).
    AMEND_PENDING_ORDERS = "Amend Pending Orders"
    ACCEPT_ORDER = "Accept Order"
    CANCEL_ORDER = "Cancel Order"
    SET_AS_FRAUD = "Set as Fraud"
    SET_BACK_TO_PENDING = "Set Back to Pending"
    DELETE_ORDER = "Delete Order"
    CHANGE_ORDER_STATUS = "Change Order Status"
    REFUND_INVOICE_PAYMENTS = "Refund Invoice Payments"
    ATTEMPT_CC_CAPTURES = "Attempts CC Captures"
    ADD_INVOICE_PAYMENTS = "Add Invoice Payments and Mark Invoices Paid"
    CANCEL_INVOICES = "Cancel Invoices"
    MARK_INVOICES_UNPAID = "Mark Invoices Unpaid"
    EDIT_INVOICE_LINES = "Edit Invoice Lines"
    CONFIGURE_ORDER_STATUSES = "Configure Order Statuses"
    CONFIGURE_FRAUD_PROTECTION = "Configure Fraud Protection"
    # Each run is a paid query at the fraud service.
    RUN_FRAUD_CHECK = "Run Fraud Check"
    LIST_CLIENTS = "List Clients"
    EDIT_CLIENTS = "Edit Clients Details"
    ADD_NEW_CLIENT = "Add New Client"
    DELETE_CLIENT = "Delete Client"
    LIST_SERVICES = "List Services"
    EDIT_SERVICES = "Edit Clients Products/Services"
    # From a service page: a prorated order changing its product, options or cycle (docs/upgrades.md).
    CREATE_UPGRADE_ORDERS = "Create Upgrade/Downgrade Orders"
    LIST_DOMAINS = "List Domains"
    EDIT_DOMAINS = "Edit Clients Domains"
    PERFORM_SERVER_OPERATIONS = "Perform Server Operations"
    PERFORM_REGISTRAR_OPERATIONS = "Perform Registrar Operations"
    LIST_INVOICES = "List Invoices"
    LIST_AFFILIATES = "List Affiliates"
    MANAGE_AFFILIATES = "Manage Affiliates"  # make a client an affiliate, or remove one
    MANAGE_INVOICE = "Manage Invoice"
    DELETE_INVOICE = "Delete Invoice"
    VIEW_PRODUCTS = "View Products/Services"
    EDIT_PRODUCTS = "Edit Products/Services"
    # Option groups, options and their priced choices (Setup > Products > Configurable Options).
    CONFIGURE_OPTIONS = "Configure Configurable Options"
    VIEW_PROMOTIONS = "View Promotions"
    EDIT_PROMOTIONS = "Create/Edit Promotions"
    DELETE_PROMOTIONS = "Delete Promotions"
    CONFIGURE_SERVERS = "Configure Servers"
    CONFIGURE_PAYMENT_GATEWAYS = "Configure Payment Gateways"
    CONFIGURE_DOMAIN_PRICING = "Configure Domain Pricing"
    # Product and client custom fields (WHMCS: "Configure Custom Client Fields" and the product's).
    CONFIGURE_CUSTOM_FIELDS = "Configure Custom Fields"
    CONFIGURE_GENERAL_SETTINGS = "Configure General Settings"
    CONFIGURE_CURRENCIES = "Configure Currencies"  # Setup > Currencies: codes, formats, rates
    MANAGE_EMAIL_TEMPLATES = "Email Template Management"
    VIEW_EMAIL_LOG = "View Email Message Log"
    CONFIGURE_ADMINISTRATORS = "Configure Administrators"
    CONFIGURE_ADMIN_ROLES = "Configure Admin Roles"
    VIEW_ACTIVITY_LOG = "View Activity Log"
    # Every row a list's filters select leaves the back office as a file.
    EXPORT_LISTS = "Export Lists"
    # One message to the client of every selected or matching order (Bulk Send Message).
    MASS_MAIL = "Mass Mail"
    VIEW_API_LOG = "View API Log"
    VIEW_JOBS = "View Background Jobs"
    MANAGE_JOBS = "Requeue, Delete and Empty Background Jobs"
    VIEW_DAILY_AUTOMATION = "View Daily Automation Runs"
    RETRY_SIDE_EFFECTS = "Retry Failed Side Effects"
    CANCEL_SIDE_EFFECTS = "Cancel Queued Side Effects"
    # Cancelling one of these leaves an account running or a client unrefunded: its own permission.
    CANCEL_TERMINATIONS_AND_REFUNDS = "Cancel Queued Terminations and Refunds"
    API_ACCESS = "API Access"
    MANAGE_API_CREDENTIALS = "Manage API Credentials"
    # Turning another admin's two-factor off lets whoever holds their password in.
    RESET_TWO_FACTOR = "Reset Administrators' Two-Factor Authentication"
    # Setup > Event Hooks: endpoints, their events and delivery log, the test button.
    MANAGE_EVENT_HOOKS = "Manage Event Hooks"
    # Whoever holds an endpoint's secret can forge events its receiver trusts.
    REVEAL_EVENT_HOOK_SECRETS = "Reveal and Rotate Event Hook Secrets"


ALL_PERMISSIONS = [p.value for p in Permission]

_READ_ONLY = [
    Permission.VIEW_ORDERS,
    Permission.VIEW_ORDER_DETAILS,
    Permission.LIST_CLIENTS,
    Permission.LIST_SERVICES,
    Permission.LIST_DOMAINS,
    Permission.LIST_INVOICES,
    Permission.LIST_AFFILIATES,
    Permission.VIEW_PRODUCTS,
    Permission.VIEW_PROMOTIONS,
    Permission.VIEW_EMAIL_LOG,
    Permission.VIEW_ACTIVITY_LOG,
]

_SALES = _READ_ONLY + [
    Permission.ADD_NEW_ORDER,
    Permission.EDIT_ORDER,
    Permission.AMEND_PENDING_ORDERS,
    Permission.ACCEPT_ORDER,
    Permission.CANCEL_ORDER,
    Permission.SET_AS_FRAUD,
    Permission.SET_BACK_TO_PENDING,
    Permission.RUN_FRAUD_CHECK,
    Permission.CHANGE_ORDER_STATUS,
    Permission.ADD_NEW_CLIENT,
    Permission.EDIT_CLIENTS,
    Permission.EDIT_SERVICES,
    Permission.CREATE_UPGRADE_ORDERS,
    Permission.EDIT_DOMAINS,
    Permission.PERFORM_SERVER_OPERATIONS,
    Permission.PERFORM_REGISTRAR_OPERATIONS,
    Permission.MANAGE_INVOICE,
    Permission.MANAGE_AFFILIATES,
    Permission.ADD_INVOICE_PAYMENTS,
    Permission.ATTEMPT_CC_CAPTURES,
    Permission.CANCEL_INVOICES,
    Permission.EDIT_INVOICE_LINES,
    Permission.RETRY_SIDE_EFFECTS,
    Permission.CANCEL_SIDE_EFFECTS,
    Permission.EXPORT_LISTS,
]

FULL_ADMINISTRATOR = "Full Administrator"
SALES_OPERATOR = "Sales Operator"
SUPPORT = "Support"

BUILTIN_ROLES: dict[str, list[str]] = {
    FULL_ADMINISTRATOR: ALL_PERMISSIONS,
    SALES_OPERATOR: [p.value for p in _SALES],
    SUPPORT: [p.value for p in _READ_ONLY],
}


# What these allow (deleting orders, giving money back, changing who may do what) needs the admin
# to have proven who they are within the last few minutes (actions.admin_login.REAUTH_WINDOW).
REAUTHENTICATE_FOR = frozenset({
    Permission.DELETE_ORDER, Permission.REFUND_INVOICE_PAYMENTS, Permission.CONFIGURE_ADMINISTRATORS,
    Permission.CONFIGURE_ADMIN_ROLES, Permission.MANAGE_API_CREDENTIALS, Permission.RESET_TWO_FACTOR,
    Permission.REVEAL_EVENT_HOOK_SECRETS,
})


# Side effects whose cancellation undoes protection already promised (an account taken down, money
# given back): cancelling them needs more than cancelling a create or an email.
_PROTECTIVE_KINDS = frozenset(
    {SideEffectKind.MODULE_TERMINATE, SideEffectKind.ADDON_TERMINATE, SideEffectKind.REFUND}
)


def permissions_to_cancel(kind: str) -> tuple[str, ...]:
    """Every permission needed to cancel a queued or failed side effect of this kind."""
    if kind in _PROTECTIVE_KINDS:
        return (Permission.CANCEL_SIDE_EFFECTS, Permission.CANCEL_TERMINATIONS_AND_REFUNDS)
    return (Permission.CANCEL_SIDE_EFFECTS,)
