"""What an amendment of a pending order is, and the order as one (the Amend order form starts there).

    Amendment(promo_code, products, domains, service_ids, domain_ids)
        products / domains: every line of the order after the amendment, as a cart's (actions.cart);
        service_ids[i] / domain_ids[j]: the existing item line i / j keeps (None: a new line). An
        item no line keeps is removed; a kept service line of quantity N keeps it and adds N - 1.
    current_amendment(session, order) -> Amendment   the order as it is (submitted unchanged: nothing to do)
    amendment_cart(order, amendment, kept_services, kept_domains) -> Cart
        the cart actions.amend_order prices: the order's client, payment method, notes and
        affiliate; a kept service's custom field answers and a kept domain's EPP code as stored

The pricing is placement's (actions.pricing); only the starting point is read back from the order:
a line whose invoice price is not today's catalog price shows that price as its price override
(clear it to re-price at today's price).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from actions.cart import Cart, CartDomain, CartProduct
from actions.config_options import stored_price, stored_values
from actions.pricing import find_tld
from models import ZERO, DomainOrderType, InvoiceItemType, Order

_DOMAIN_LINES = (InvoiceItemType.DOMAIN_REGISTER, InvoiceItemType.DOMAIN_TRANSFER)


@dataclass
class Amendment:
    promo_code: str = ""
    products: list[CartProduct] = field(default_factory=list)
    domains: list[CartDomain] = field(default_factory=list)
    service_ids: list[int | None] = field(default_factory=list)  # one per product line
    domain_ids: list[int | None] = field(default_factory=list)  # one per domain line


def _invoiced(order: Order, types, related_id: int) -> Decimal | None:
    amounts = [i.amount for i in order.invoice.items if i.type in types and i.related_id == related_id]
    return sum(amounts, ZERO) if amounts else None


def _service_override(order: Order, service) -> Decimal | None:
    """The invoiced price when it is not the catalog's (the price override given at placement)."""
    invoiced = _invoiced(order, (InvoiceItemType.HOSTING,), service.id)
    # The catalog in the order's currency: another currency's price is no comparison.
    row = next((p for p in service.product.prices
                if p.cycle == service.billing_cycle and p.currency_id == order.currency_id), None)
    if invoiced is None or row is None:
        return invoiced
    catalog = row.price + stored_price(service.config_options, service.billing_cycle, order.currency_id)
    return None if invoiced == catalog else invoiced


def _domain_addons(domain, tld) -> Decimal:
    if tld is None:
        return ZERO
    return domain.period_years * sum((
        tld.dns_management_price if domain.dns_management else ZERO,
        tld.email_forwarding_price if domain.email_forwarding else ZERO,
        tld.id_protection_price if domain.id_protection else ZERO), ZERO)


def _domain_overrides(order: Order, domain, tld) -> tuple[Decimal | None, Decimal | None]:
    """(price override, renewal override) read back from the invoice line and the renewal amount."""
    addons = _domain_addons(domain, tld)
    invoiced = _invoiced(order, _DOMAIN_LINES, domain.id)
    row = next((p for p in tld.prices if p.years == domain.period_years
                and p.currency_id == order.currency_id), None) if tld else None
    if row is None:
        return (invoiced - addons if invoiced is not None else None), None
    price = row.register_price if domain.type == DomainOrderType.REGISTER else row.transfer_price
    override = invoiced - addons if invoiced is not None and invoiced - addons != price else None
    renewal = row.renew_price if row.renew_price is not None else price
    renewal_override = None
    if domain.promotion_id is None and domain.recurring_amount - addons != renewal:
        renewal_override = domain.recurring_amount - addons
    return override, renewal_override


def current_amendment(session: Session, order: Order) -> Amendment:
    amendment = Amendment(promo_code=order.promo_code or "")
    for service in order.services:
        amendment.products.append(CartProduct(
            product_id=service.product_id, billing_cycle=service.billing_cycle, quantity=1,
            price_override=_service_override(order, service), domain=service.domain,
            addon_ids=[a.addon_id for a in service.addons], config_options=stored_values(service)))
        amendment.service_ids.append(service.id)
    for domain in order.domains:
        override, renewal = _domain_overrides(order, domain, find_tld(session, domain.name))
        amendment.domains.append(CartDomain(
            type=domain.type, name=domain.name, period_years=domain.period_years,
            epp_code=domain.epp_code or "", dns_management=domain.dns_management,
            email_forwarding=domain.email_forwarding, id_protection=domain.id_protection,
            price_override=override, renewal_override=renewal))
        amendment.domain_ids.append(domain.id)
    return amendment


def amendment_cart(order: Order, amendment: Amendment, kept_services: dict, kept_domains: dict) -> Cart:
    """`kept_services` / `kept_domains`: id -> the order's item, for the ids the amendment keeps."""
    products = []
    for line, service_id in zip(amendment.products, amendment.service_ids, strict=True):
        service = kept_services.get(service_id)
        if service is not None and not line.custom_fields:  # answers are edited on the order page
            line = CartProduct(**{**line.__dict__, "custom_fields": {
                v.field_id: v.answer for v in service.custom_field_values}})
        products.append(line)
    domains = []
    for line, domain_id in zip(amendment.domains, amendment.domain_ids, strict=True):
        domain = kept_domains.get(domain_id)
        if domain is not None and not line.epp_code.strip() and domain.epp_code:
            line = CartDomain(**{**line.__dict__, "epp_code": domain.epp_code})
        domains.append(line)
    return Cart(client_id=order.client_id, payment_method=order.payment_method,
                promo_code=amendment.promo_code, products=products, domains=domains,
                ip_address=order.ip_address, notes=order.notes, affiliate_id=order.affiliate_id)
