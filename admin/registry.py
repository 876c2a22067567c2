"""Which views the admin shows, grouped into menus."""

from flask_admin import Admin

from extensions import db


def register_views(admin: Admin) -> None:
    from admin.add_order import AddOrderView
    from admin.api_access import ApiCredentialView, ApiLogView
    from admin.billing import InvoiceView
    from admin.catalog import ProductView, PromotionView, TldView
    from admin.client_summary import ClientSummaryView
    from admin.clients import ClientView
    from admin.currencies import CurrencyView
    from admin.items import DomainView, ServiceView
    from admin.orders import OrderView, orders_menu
    from admin.settings import EmailLogView, EmailTemplateView, GatewayView, ServerView, SettingView
    from admin.statuses import OrderStatusView
    from admin.users import AdminUserView, RoleView
    from models import (
        AdminUser,
        ApiCredential,
        ApiLogEntry,
        Client,
        Currency,
        Domain,
        EmailLog,
        EmailTemplate,
        Gateway,
        Invoice,
        Order,
        OrderStatusDefinition,
        Product,
        Promotion,
        Role,
        Server,
        Service,
        Setting,
        Tld,
    )

    admin.add_view(OrderView(Order, db, name="All Orders", category="Orders", endpoint="orders"))
    for link in orders_menu():
        admin.add_menu_item(link, target_category="Orders")
    admin.add_view(AddOrderView(name="Add New Order", category="Orders", endpoint="add_order",
                                url="/admin/add-order"))
    from admin.amend_order import AmendOrderView

    admin.add_view(AmendOrderView(name="Amend order", endpoint="amend_order", url="/admin/amend-order"))
    from admin.list_views import SavedViewsPage

    admin.add_view(SavedViewsPage(name="Saved views", category="Orders", endpoint="saved_views",
                                  url="/admin/saved-views"))
    admin.add_view(ServiceView(Service, db, name="Services", category="Orders", endpoint="services"))
    admin.add_view(DomainView(Domain, db, name="Domains", category="Orders", endpoint="domains"))
    from admin.upgrades import ServiceUpgradeView

    admin.add_view(ServiceUpgradeView(name="Upgrade / Downgrade", endpoint="service_upgrade",
                                      url="/admin/service-upgrade"))
    from admin.addons import AddonView, ServiceAddonView
    from models import Addon, ServiceAddon

    admin.add_view(ServiceAddonView(ServiceAddon, db, name="Addons", category="Orders",
                                    endpoint="service_addons", url="/admin/service-addons"))

    admin.add_view(ClientView(Client, db, name="Clients", category="Clients", endpoint="clients"))
    from admin.affiliates import AffiliateView
    from models import Affiliate

    admin.add_view(AffiliateView(Affiliate, db, name="Affiliates", category="Clients", endpoint="affiliates"))
    admin.add_view(ClientSummaryView(name="Client Summary", endpoint="client_summary",
                                     url="/admin/client-summary"))

    admin.add_view(InvoiceView(Invoice, db, name="Invoices", category="Billing", endpoint="invoices"))

    from admin.search import SearchView

    admin.add_view(SearchView(name="Search", endpoint="search", url="/admin/search"))
    from admin.profile import ProfileView

    admin.add_view(ProfileView(name="My profile", endpoint="profile", url="/admin/profile"))

    admin.add_view(ProductView(Product, db, name="Products", category="Catalog", endpoint="products"))
    admin.add_view(PromotionView(Promotion, db, name="Promotions", category="Catalog", endpoint="promotions"))
    admin.add_view(AddonView(Addon, db, name="Product Addons", category="Catalog", endpoint="addons"))
    from admin.config_options import ConfigOptionChoiceView, ConfigOptionGroupView
    from models import ConfigOptionChoice, ConfigOptionGroup

    admin.add_view(ConfigOptionGroupView(ConfigOptionGroup, db, name="Configurable Options",
                                         category="Catalog", endpoint="config_option_groups",
                                         url="/admin/config-options"))
    admin.add_view(ConfigOptionChoiceView(ConfigOptionChoice, db, name="Option Choices", category="Catalog",
                                          endpoint="config_option_choices",
                                          url="/admin/config-option-choices"))
    admin.add_view(TldView(Tld, db, name="TLDs", category="Catalog", endpoint="tlds"))
    from admin.custom_fields import ClientCustomFieldsView, ClientCustomFieldView, ProductCustomFieldView
    from models import CustomField

    admin.add_view(ProductCustomFieldView(CustomField, db, name="Product Custom Fields", category="Setup",
                                          endpoint="product_custom_fields",
                                          url="/admin/custom-fields/product"))
    admin.add_view(ClientCustomFieldView(CustomField, db, name="Client Custom Fields", category="Setup",
                                         endpoint="client_custom_fields", url="/admin/custom-fields/client"))
    admin.add_view(ClientCustomFieldsView(name="Client answers", endpoint="client_custom_field_answers",
                                          url="/admin/client-custom-fields"))

    setup = [
        (OrderStatusView, OrderStatusDefinition, "Order Statuses", "order_statuses"),
        (ServerView, Server, "Servers", "servers"),
        (GatewayView, Gateway, "Payment Gateways", "gateways"),
        (SettingView, Setting, "General Settings", "settings"),
        (CurrencyView, Currency, "Currencies", "currencies"),
        (EmailTemplateView, EmailTemplate, "Email Templates", "email_templates"),
        (AdminUserView, AdminUser, "Administrators", "admin_users"),
        (RoleView, Role, "Admin Roles", "roles"),
        (ApiCredentialView, ApiCredential, "API Credentials", "api_credentials"),
    ]
    for view, model, name, endpoint in setup:
        admin.add_view(view(model, db, name=name, category="Setup", endpoint=endpoint))
    from admin.fraud_settings import FraudSettingsView

    admin.add_view(FraudSettingsView(name="Fraud Protection", category="Setup", endpoint="fraud_settings",
                                     url="/admin/fraud-protection"))
    from admin.event_hooks import EventHooksView

    admin.add_view(EventHooksView(name="Event Hooks", category="Setup", endpoint="event_hooks",
                                  url="/admin/event-hooks"))

    admin.add_view(EmailLogView(EmailLog, db, name="Email Log", category="Logs", endpoint="email_log"))
    from admin.activity import ActivityLogView
    from models import OrderEvent

    admin.add_view(ActivityLogView(OrderEvent, db, name="Activity Log", category="Logs",
                                   endpoint="activity_log", url="/admin/activity-log"))
    admin.add_view(ApiLogView(ApiLogEntry, db, name="API Log", category="Logs", endpoint="api_log",
                              url="/admin/api-log"))

    from admin.side_effects import JobsDashboardLink, SideEffectView, failed_menu_link
    from models import SideEffect

    admin.add_menu_item(failed_menu_link(), target_category="Jobs")  # first, with its badge
    admin.add_view(SideEffectView(SideEffect, db, name="All side effects", category="Jobs",
                                  endpoint="side_effects", url="/admin/side-effects"))
    admin.add_menu_item(JobsDashboardLink(), target_category="Jobs")

    from admin.account import AccountView

    admin.add_view(AccountView(name="Two-factor authentication", endpoint="account", url="/admin/account"))
    from admin.automation import DailyAutomationView

    admin.add_view(DailyAutomationView(name="Daily automation", category="Jobs", endpoint="daily_automation",
                                       url="/admin/daily-automation"))
