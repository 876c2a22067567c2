"""Placing an order: the one way an order, its items and its first invoice come into being.

Every face (Add New Order, the API's AddOrder, a checkout) builds a Cart and calls place_order.
The whole cart is checked before anything is written; a refusal raises one PlacementError with
a message per field and leaves the database as it was. The caller commits.
"""

from datetime import date, timedelta

from sqlalchemy.orm import Session

from actions import events
from actions.actor import Actor
from actions.addon_items import add_ordered_addons, addon_invoice_lines, record_addon_placement_effects
from actions.cart import Cart, PlacementError, PlaceOptions
from actions.cart_check import check_cart, claim_promotion_and_stock
from actions.config_options import config_option_rows, option_lines
from actions.custom_fields import add_service_answers
from actions.order_number import new_order_number
from actions.pricing import DomainQuote, Quote, ServiceQuote
from actions.side_effects import record_email, record_module_create
from models import (
    ZERO,
    AutoSetup,
    BillingCycle,
    Client,
    Domain,
    DomainOrderType,
    Invoice,
    InvoiceItem,
    InvoiceItemType,
    InvoiceStatus,
    Order,
    Promotion,
    Service,
    Setting,
    utcnow,
)
from models.billing_dates import add_months
from models.email_defaults import INVOICE_CREATED, NEW_ORDER_NOTIFICATION, ORDER_CONFIRMATION


def preview_order(session: Session, cart: Cart, options: PlaceOptions | None = None) -> Quote:
    """The priced cart and every problem placing it would hit; writes nothing (live total)."""
    options = options or PlaceOptions()
    quote, _client, _promotion = check_cart(session, cart, options.status)
    return quote


def place_order(session: Session, cart: Cart, actor: Actor, options: PlaceOptions | None = None) -> Order:
    """Create the order, its services and domains and (unless told not to) its invoice.

    `actor` (actions.actor.Actor) is who places it, for the timeline. Raises
    PlacementError with nothing written when the cart, the promotion or the stock says no.
    """
    options = options or PlaceOptions()
    quote, client, promotion = check_cart(session, cart, options.status)
    if quote.errors:
        raise PlacementError(quote.errors)
    claim_promotion_and_stock(session, quote, promotion)

    placed_at = utcnow()
    today = placed_at.date()
    fields = order_fields(cart, options, quote, promotion)
    order = Order(order_number=new_order_number(session), date=placed_at, **fields)
    session.add(order)
    session.flush()

    services = [
        Service(order=order, client_id=order.client_id, **service_fields(item, promotion, today))
        for item in quote.services
    ]
    domains = [
        Domain(order=order, client_id=order.client_id, **domain_fields(item, cart, promotion, today))
        for item in quote.domains
    ]
    session.add_all(services + domains)
    session.flush()
    session.add_all([row for s, q in zip(services, quote.services, strict=True)
                     for row in config_option_rows(s, q.options)])
    addons = add_ordered_addons(session, order, services, quote.services, promotion, today)
    add_service_answers(session, services, quote.services, cart)

    if options.generate_invoice:
        lines = invoice_lines(quote, cart, promotion, [s.id for s in services], [d.id for d in domains])
        lines += addon_invoice_lines([(row.id, item, label) for row, item, label in addons], promotion)
        order.invoice = Invoice(
            **invoice_fields(fields, today, order_days_grace(session), lines),
            items=[InvoiceItem(**line) for line in lines],
        )
        session.add(order.invoice)
        session.flush()
        order.amount = order.invoice.total

    _record_placement_effects(session, order, client, services, quote, options)
    record_addon_placement_effects(session, [row for row, _, _ in addons])
    events.order_placed(
        session,
        order,
        actor,
        placement_details(
            order.order_number, order.amount, order.source, order.invoice_id, order.promo_code,
            services=len(services), domains=len(domains),
        )
        | ({"addons": len(addons)} if addons else {}),
    )
    session.flush()
    return order


# --- creating: pure builders (the demo data in demo/ writes its rows with them too) ---------------


def order_fields(cart: Cart, options: PlaceOptions, quote: Quote, promotion: Promotion | None) -> dict:
    """The columns of a new order, but for its number and date."""
    fields = dict(
        client_id=cart.client_id,
        status=options.status,
        payment_method=cart.payment_method,
        ip_address=cart.ip_address.strip(),
        notes=cart.notes,
        affiliate_id=cart.affiliate_id,
        source=options.source,
        placed_by_admin_id=options.placed_by_admin_id,
        amount=quote.total,
        currency_id=quote.currency_id,
        currency_rate=quote.currency_rate,
    )
    if promotion is not None:
        fields.update(promo_code=promotion.code, promo_type=promotion.type, promo_value=quote.promo_value)
    return fields


def _item_fields(
    item: ServiceQuote | DomainQuote, promotion: Promotion | None, today: date, months: int
) -> dict:
    """What services and domains share: first payment, renewal price, promotion and dates."""
    next_due = add_months(today, months) if months else None
    return dict(
        first_payment_amount=item.first_payment,
        recurring_amount=item.recurring_amount,
        promotion_id=promotion.id if item.promoted else None,
        registration_date=today,
        # The order's invoice pays the first period; the next one is due (and invoiced) a period later.
        next_due_date=next_due,
        next_invoice_date=next_due,
    )


def service_fields(item: ServiceQuote, promotion: Promotion | None, today: date) -> dict:
    """The columns of a new service (but its order and client)."""
    return dict(
        product_id=item.product.id,
        server_id=item.product.default_server_id,
        domain=item.domain,
        billing_cycle=item.cycle,
        **_item_fields(item, promotion, today, BillingCycle(item.cycle).months),
    )


def domain_fields(item: DomainQuote, cart: Cart, promotion: Promotion | None, today: date) -> dict:
    """The columns of a new domain (but its order and client)."""
    line = cart.domains[item.line]
    return dict(
        name=item.name,
        type=item.type,
        period_years=item.period_years,
        epp_code=line.epp_code.strip() or None,
        dns_management=line.dns_management,
        email_forwarding=line.email_forwarding,
        id_protection=line.id_protection,
        **_item_fields(item, promotion, today, 12 * item.period_years),
    )


def order_days_grace(session: Session) -> int:
    setting = session.get(Setting, "order_days_grace")
    try:
        return max(int(setting.value), 0) if setting else 0
    except ValueError:
        return 0


def invoice_lines(
    quote: Quote, cart: Cart, promotion: Promotion | None, service_ids: list[int], domain_ids: list[int]
) -> list[dict]:
    """The first invoice's lines (type, related_id, description, amount), item by item."""
    promo_label = f"Promotion Code: {promotion.code}" if promotion else ""
    lines = []

    def line(type_: str, related_id: int, description: str, amount) -> None:
        lines.append(dict(type=type_, related_id=related_id, description=description, amount=amount))

    for service_id, item in zip(service_ids, quote.services, strict=True):
        label = f"{item.product}" + (f" - {item.domain}" if item.domain else "")
        description = f"{label} ({item.cycle})" + option_lines(item.options)  # options listed below
        line(InvoiceItemType.HOSTING, service_id, description, item.price)
        if item.setup_fee:
            line(InvoiceItemType.SETUP, service_id, f"Setup Fee: {label}", item.setup_fee)
        if item.discount:
            line(InvoiceItemType.PROMO_HOSTING, service_id, f"{promo_label} - {label}", -item.discount)
    for domain_id, item in zip(domain_ids, quote.domains, strict=True):
        kind = (
            InvoiceItemType.DOMAIN_REGISTER
            if item.type == DomainOrderType.REGISTER
            else InvoiceItemType.DOMAIN_TRANSFER
        )
        cart_line = cart.domains[item.line]
        addons = [
            name
            for name, on in (
                ("DNS Management", cart_line.dns_management),
                ("Email Forwarding", cart_line.email_forwarding),
                ("ID Protection", cart_line.id_protection),
            )
            if on
        ]
        description = f"Domain {item.type} - {item.name} - {item.period_years} Year(s)"
        if addons:
            description += " + " + ", ".join(addons)
        line(kind, domain_id, description, item.price + item.addons)
        if item.discount:
            line(InvoiceItemType.PROMO_DOMAIN, domain_id, f"{promo_label} - {item.name}", -item.discount)
    return lines


def invoice_fields(order: dict, today: date, days_grace: int, lines: list[dict]) -> dict:
    """The columns of the first invoice of the order with these columns (order_fields): its client,
    currency, rate and payment method; its total the sum of `lines`."""
    total = sum((line["amount"] for line in lines), ZERO)
    return dict(
        **{name: order[name] for name in ("client_id", "currency_id", "currency_rate", "payment_method")},
        date=today,
        due_date=today + timedelta(days=days_grace),
        status=InvoiceStatus.UNPAID,
        subtotal=total,
        total=total,
    )


def placement_details(
    order_number: int, amount, source: str, invoice_id: int | None, promo_code: str, *,
    services: int, domains: int,
) -> dict:
    """The order_placed event's details."""
    return {
        "order_number": order_number,
        "amount": amount,
        "source": source,
        "invoice_id": invoice_id,
        "promo_code": promo_code,
        "services": services,
        "domains": domains,
    }


def created_on_placement(item: ServiceQuote) -> bool:
    """A service whose server module create is recorded right after placement."""
    return item.product.auto_setup == AutoSetup.ON_ORDER


def _record_placement_effects(
    session: Session,
    order: Order,
    client: Client,
    services: list[Service],
    quote: Quote,
    options: PlaceOptions,
) -> None:
    emails = []
    if options.order_confirmation:
        emails.append((ORDER_CONFIRMATION, client.email))
    if order.invoice is not None and options.send_invoice_email:
        emails.append((INVOICE_CREATED, client.email))
    if options.new_order_notification:
        emails.append((NEW_ORDER_NOTIFICATION, ""))  # "": the mail job addresses the active admins
    for template, to in emails:
        record_email(
            session,
            template=template,
            to=to,
            client_id=client.id,
            order_id=order.id,
            context={"invoice_id": order.invoice_id},
        )
    for service, item in zip(services, quote.services, strict=True):
        if created_on_placement(item):
            record_module_create(session, service, server_id=service.server_id, send_welcome_email=True)
