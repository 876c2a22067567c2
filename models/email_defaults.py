"""The email templates a fresh install starts with (WHMCS names; Jinja with WHMCS merge fields).

Admins edit them in the admin; ensure_reference_data only inserts the ones that are missing.
Merge fields available to every template are listed in docs/side-effects.md.
"""

from textwrap import dedent

from models.vocab import ProductType

ORDER_CONFIRMATION = "Order Confirmation"
INVOICE_CREATED = "Invoice Created"
INVOICE_PAYMENT_CONFIRMATION = "Invoice Payment Confirmation"
NEW_ORDER_NOTIFICATION = "New Order Notification"
HOSTING_WELCOME = "Hosting Account Welcome Email"
SERVER_WELCOME = "Dedicated/VPS Server Welcome Email"
OTHER_WELCOME = "Other Product Welcome Email"
AUTOMATIC_SETUP_FAILED = "Automatic Setup Failed"
DOMAIN_REGISTRATION_CONFIRMATION = "Domain Registration Confirmation"
FRAUD_ORDER_NOTIFICATION = "Fraud Order Notification"
# Pseudo-name an action may record: resolved to the product's welcome email when sending.
PRODUCT_WELCOME = "Product Welcome"

WELCOME_BY_PRODUCT_TYPE = {
    ProductType.SHARED_HOSTING: HOSTING_WELCOME,
    ProductType.RESELLER_HOSTING: HOSTING_WELCOME,
    ProductType.SERVER: SERVER_WELCOME,
    ProductType.OTHER: OTHER_WELCOME,
}

_SIGNATURE = "\n\n{{ signature }}\n"


def _template(name: str, type_: str, subject: str, body: str) -> dict:
    # Bodies are written as indented blocks below; stored without the indentation.
    return dict(name=name, type=type_, subject=subject, body=dedent(body).strip() + _SIGNATURE)


DEFAULT_EMAIL_TEMPLATES = [
    _template(ORDER_CONFIRMATION, "general", "Order Confirmation", """
        Dear {{ client_name }},

        We have received your order and will be processing it shortly.
        The details of the order are below:

        Order Number: {{ order_number }}

        {{ order_details }}

        Total: {{ order_total }}
        Payment Method: {{ order_payment_method }}

        You will receive an email from us shortly once your account has been setup."""),
    _template(INVOICE_CREATED, "invoice", "Customer Invoice", """
        Dear {{ client_name }},

        This is a notice that an invoice has been generated on {{ invoice_date_created }}.

        Invoice #{{ invoice_num }}
        Amount Due: {{ invoice_total }}
        Due Date: {{ invoice_date_due }}
        Payment Method: {{ invoice_payment_method }}

        Invoice Items

        {{ invoice_html_contents }}"""),
    _template(INVOICE_PAYMENT_CONFIRMATION, "invoice", "Invoice Payment Confirmation", """
        Dear {{ client_name }},

        This is a payment receipt for Invoice {{ invoice_num }} sent on {{ invoice_date_created }}.

        {{ invoice_html_contents }}

        Amount: {{ invoice_last_payment_amount }}
        Transaction #: {{ invoice_last_payment_transid }}
        Total Paid: {{ invoice_amount_paid }}
        Remaining Balance: {{ invoice_balance }}
        Status: {{ invoice_status }}

        You may review your invoice history at any time by logging in to your client area.

        Note: This email will serve as an official receipt for this payment."""),
    _template(NEW_ORDER_NOTIFICATION, "admin", "Orderdesk New Order Notification", """
        Order Information

        Order ID: {{ order_id }}
        Order Number: {{ order_number }}
        Date/Time: {{ order_date }}
        Invoice Number: {{ invoice_id }}
        Payment Method: {{ order_payment_method }}

        Customer Information

        Customer ID: {{ client_id }}
        Name: {{ client_name }}
        Email: {{ client_email }}
        Company: {{ client_company_name }}
        Country: {{ client_country }}

        Order Items

        {{ order_items }}
        {% if order_notes %}
        Notes: {{ order_notes }}
        {% endif %}
        IP Address: {{ client_ip }}

        {{ admin_order_url }}"""),
    _template(HOSTING_WELCOME, "product", "New Account Information", """
        Dear {{ client_name }},

        Your order for {{ service_product_name }} has now been activated.
        Please keep this message for your records.

        Domain: {{ service_domain }}
        First Payment Amount: {{ service_first_payment_amount }}
        Recurring Amount: {{ service_recurring_amount }}
        Billing Cycle: {{ service_billing_cycle }}
        Next Due Date: {{ service_next_due_date }}

        Login Details

        Username: {{ service_username }}
        Password: {{ service_password }}
        Server: {{ service_server_name }} ({{ service_server_hostname }})"""),
    _template(SERVER_WELCOME, "product", "New Dedicated Server Information", """
        Dear {{ client_name }},

        Your server {{ service_product_name }} is now set up and ready.

        Hostname: {{ service_domain }}
        Username: {{ service_username }}
        Password: {{ service_password }}
        Server: {{ service_server_hostname }}

        Billing Cycle: {{ service_billing_cycle }}
        Next Due Date: {{ service_next_due_date }}"""),
    _template(OTHER_WELCOME, "product", "Your {{ service_product_name }} is active", """
        Dear {{ client_name }},

        Your order for {{ service_product_name }} has now been activated.

        Billing Cycle: {{ service_billing_cycle }}
        Next Due Date: {{ service_next_due_date }}"""),
    _template(AUTOMATIC_SETUP_FAILED, "admin", "Automatic Setup Failed", """
        An order has been accepted or paid but the automatic provisioning has failed
        and requires you to manually check and resolve.

        Client ID: {{ client_id }} ({{ client_name }})
        Order ID: {{ order_id }} (#{{ order_number }})
        Service ID: {{ service_id }}
        Product/Service: {{ service_product_name }}
        Domain: {{ service_domain }}
        Error: {{ error }}
        Attempts: {{ attempts }}

        {{ admin_order_url }}"""),
    _template(FRAUD_ORDER_NOTIFICATION, "admin", "Order #{{ order_number }} failed its fraud check", """
        An order was placed with a fraud score over your threshold: it skipped Pending
        and is now Fraud, its invoice Cancelled. Review it, and Set Back to Pending if
        it is genuine (the invoice goes back to Unpaid).

        Order ID: {{ order_id }} (#{{ order_number }})
        Client: {{ client_name }} ({{ client_email }}), {{ client_country }}
        IP Address: {{ client_ip }}
        Total: {{ order_total }}
        Fraud score: {{ fraud_score }} (threshold {{ fraud_threshold }})
        Reasons: {{ fraud_reasons }}

        {{ admin_order_url }}"""),
    _template(DOMAIN_REGISTRATION_CONFIRMATION, "domain", "Domain Registration Confirmation", """
        Dear {{ client_name }},

        This message is to confirm that your domain purchase has been successful.
        The details of the domain purchase are below:

        Registration Date: {{ domain_reg_date }}
        Domain: {{ domain_name }}
        Registration Period: {{ domain_reg_period }}
        Amount: {{ domain_first_payment_amount }}
        Next Due Date: {{ domain_next_due_date }}"""),
]
