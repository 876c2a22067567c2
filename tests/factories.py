"""Small builders for test data. Each flushes and returns the row; tests commit when they need to."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from actions.order_number import new_order_number
from extensions import db
from models import (
    AdminUser,
    AutoSetup,
    BillingCycle,
    Client,
    Domain,
    DomainOrderType,
    DomainStatus,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    InvoiceStatus,
    Order,
    OrderStatus,
    Product,
    ProductPrice,
    Role,
    Service,
    ServiceStatus,
    Transaction,
    utcnow,
)

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


def next_number() -> int:
    return next(_seq)


def make_admin(role_name: str = "Full Administrator", email: str | None = None) -> AdminUser:
    role = db.session.scalar(select(Role).where(Role.name == role_name))
    user = AdminUser(email=email or f"admin{next(_seq)}@example.com", name=role_name, role=role)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


def make_client(**kw) -> Client:
    n = next(_seq)
    values = dict(first_name="Ada", last_name=f"Client{n}", email=f"client{n}@example.com", country="GB")
    values.update(kw)
    client = Client(**values)
    db.session.add(client)
    db.session.flush()
    return client


def make_product(name: str | None = None, auto_setup: str = AutoSetup.ON_ACCEPT, module: str = "manual",
                 prices: dict | None = None, **kw) -> Product:
    product = Product(name=name or f"Product {next(_seq)}", group_name="Shared Hosting",
                      auto_setup=auto_setup, module=module, **kw)
    for cycle, (price, setup) in (prices or {BillingCycle.MONTHLY: ("10.00", "5.00")}).items():
        product.prices.append(ProductPrice(cycle=cycle, price=Decimal(price), setup_fee=Decimal(setup)))
    db.session.add(product)
    db.session.flush()
    return product


def make_order(
    status: str = OrderStatus.PENDING,
    services: list[str] = (ServiceStatus.PENDING,),
    domains: list[str] = (),
    invoice_status: str | None = InvoiceStatus.UNPAID,
    paid: bool = False,
    client: Client | None = None,
    product: Product | None = None,
    gateway: str = "banktransfer",
    **kw,
) -> Order:
    """An order with one service per status in `services`, one domain per status in `domains`,
    and (unless invoice_status is None) an invoice; paid=True records a payment transaction."""
    client = client or make_client()
    product = product or make_product()
    order = Order(order_number=new_order_number(db.session), client=client, status=status,
                  payment_method=gateway, amount=Decimal("0.00"), ip_address="203.0.113.7", **kw)
    db.session.add(order)
    db.session.flush()
    total = Decimal("0.00")
    for i, service_status in enumerate(services):
        service = Service(order=order, client=client, product=product, billing_cycle=BillingCycle.MONTHLY,
                          domain=f"site{order.id}-{i}.example", status=service_status,
                          first_payment_amount=Decimal("15.00"), recurring_amount=Decimal("10.00"),
                          next_due_date=date.today() + timedelta(days=30))
        db.session.add(service)
        total += service.first_payment_amount
    for i, domain_status in enumerate(domains):
        domain = Domain(order=order, client=client, name=f"name{order.id}-{i}.com", status=domain_status,
                        type=DomainOrderType.REGISTER, period_years=1, first_payment_amount=Decimal("12.00"),
                        recurring_amount=Decimal("12.00"))
        db.session.add(domain)
        total += domain.first_payment_amount
    order.amount = total
    db.session.flush()
    if invoice_status is not None:
        invoice = Invoice(client=client, date=date.today(), due_date=date.today(), status=invoice_status,
                          subtotal=total, total=total, payment_method=gateway)
        for service in order.services:
            invoice.items.append(InvoiceItem(type=InvoiceItemType.HOSTING, related_id=service.id,
                                             description=str(service), amount=service.first_payment_amount))
        for domain in order.domains:
            invoice.items.append(InvoiceItem(type=InvoiceItemType.DOMAIN_REGISTER, related_id=domain.id,
                                             description=domain.name, amount=domain.first_payment_amount))
        db.session.add(invoice)
        db.session.flush()
        order.invoice = invoice
        if paid:
            db.session.add(Transaction(client=client, invoice=invoice, gateway=gateway, amount_in=total,
                                       transaction_id=f"txn-{invoice.id}", date=utcnow(),
                                       description=f"Invoice Payment #{invoice.id}"))
        db.session.flush()
    return order


def make_addon(products=(), prices: dict | None = None, module: str = "", name: str | None = None, **kw):
    """An addon sold to `products`, priced per cycle {cycle: (price, setup fee)}."""
    from models import Addon, AddonPrice

    addon = Addon(name=name or f"Addon {next(_seq)}", module=module, **kw)
    addon.products = list(products)
    for cycle, (price, setup) in (prices or {BillingCycle.MONTHLY: ("3.00", "1.00")}).items():
        addon.prices.append(AddonPrice(cycle=cycle, price=Decimal(price), setup_fee=Decimal(setup)))
    db.session.add(addon)
    db.session.flush()
    return addon


def add_ordered_addon(order: Order, service: Service, addon, status: str = ServiceStatus.PENDING):
    """An ordered addon on `service`, billed on the order's invoice (when it has one)."""
    from models import ServiceAddon

    item = ServiceAddon(order=order, service=service, client_id=order.client_id, addon=addon,
                        billing_cycle=BillingCycle.MONTHLY, status=status,
                        first_payment_amount=Decimal("4.00"), recurring_amount=Decimal("3.00"))
    db.session.add(item)
    db.session.flush()
    if order.invoice is not None:
        order.invoice.items.append(InvoiceItem(type=InvoiceItemType.ADDON, related_id=item.id,
                                               description=addon.name, amount=item.first_payment_amount))
        db.session.flush()
    return item


def make_tld(extension: str = ".com", register: str = "12.00", transfer: str | None = "10.00",
             renew: str | None = None, years: tuple[int, ...] = (1,), epp_required: bool = True,
             addons: tuple[str, str, str] = ("0.00", "0.00", "0.00"), **kw):
    """A TLD sold for each period in `years`, priced per year (2 years = twice the 1-year price)."""
    from models import Tld, TldPrice

    dns, email, idp = (Decimal(a) for a in addons)
    tld = Tld(extension=extension, epp_required=epp_required, dns_management_price=dns,
              email_forwarding_price=email, id_protection_price=idp, **kw)
    for n in years:
        tld.prices.append(TldPrice(
            years=n, register_price=Decimal(register) * n,
            transfer_price=Decimal(transfer) * n if transfer is not None else None,
            renew_price=Decimal(renew) * n if renew is not None else None))
    db.session.add(tld)
    db.session.flush()
    return tld


def make_promotion(code: str | None = None, type: str = "Percentage", value: str = "10.00", **kw):
    from models import Promotion

    promotion = Promotion(code=code or f"PROMO{next(_seq)}", type=type, value=Decimal(value), **kw)
    db.session.add(promotion)
    db.session.flush()
    return promotion


def make_currency(code: str = "EUR", rate: str = "0.920000", prefix: str = "€", suffix: str = " EUR"):
    """A currency besides the default one (1 of the default buys `rate` of it)."""
    from models import Currency

    currency = Currency(code=code, prefix=prefix, suffix=suffix, format=2, rate=Decimal(rate))
    db.session.add(currency)
    db.session.flush()
    return currency


def add_prices(item, currency, prices: dict) -> None:
    """Price rows in `currency` for a product, addon or option choice: {cycle: (price, setup)}."""
    row_class = type(item).prices.property.mapper.class_
    for cycle, (price, setup) in prices.items():
        item.prices.append(row_class(cycle=cycle, currency_id=currency.id, price=Decimal(price),
                                     setup_fee=Decimal(setup)))
    db.session.flush()


__all__ = ["PASSWORD", "add_prices", "make_currency",
           "add_ordered_addon", "make_addon", "make_admin", "next_number",
           "make_client", "make_order", "make_product",
           "make_promotion", "make_tld", "DomainStatus"]


def make_option_group(products=(), options=(), name: str | None = None):
    """An option group for `products`; `options`: (name, type, {choice name: {cycle: (price, setup)}},
    min, max) tuples. Returns the group; its options and choices keep the order given."""
    from models import ConfigOption, ConfigOptionChoice, ConfigOptionGroup, ConfigOptionPrice

    group = ConfigOptionGroup(name=name or f"Options {next(_seq)}")
    group.products = list(products)
    for order, (option_name, type_, choices, low, high) in enumerate(options):
        option = ConfigOption(name=option_name, type=type_, min_quantity=low, max_quantity=high,
                              sort_order=order)
        for choice_order, (choice_name, prices) in enumerate(choices.items()):
            choice = ConfigOptionChoice(name=choice_name, sort_order=choice_order)
            for cycle, (price, setup) in prices.items():
                choice.prices.append(ConfigOptionPrice(cycle=cycle, price=Decimal(price),
                                                       setup_fee=Decimal(setup)))
            option.choices.append(choice)
        group.options.append(option)
    db.session.add(group)
    db.session.flush()
    return group
