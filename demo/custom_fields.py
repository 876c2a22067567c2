"""The demo's custom fields: the servers' questions (a hostname, a root password, an operating
system) and a client VAT number, the answers per order, and the rows they leave.

Drawn with their own random stream per order (like the addons), so adding them left every other
draw of the demo as it was. The answers go into the cart; place_order checks and stores them, and
the demo writes the same rows through actions.custom_fields.answer_columns.
"""

import random
import string

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.custom_fields import answer_columns, check_answers
from models import CustomField, CustomFieldOwner, CustomFieldType, CustomFieldValue, Product

SERVER_GROUPS = ("VPS", "Dedicated Servers")
OPERATING_SYSTEMS = "AlmaLinux 9,Debian 12,Ubuntu 24.04"
# name, type, extra columns
PRODUCT_FIELDS = [
    ("Hostname", CustomFieldType.TEXT, dict(required=True, validation=r"[a-z0-9][a-z0-9.-]{0,252}",
                                            description="The server's fully qualified name", sort_order=1)),
    ("Root password", CustomFieldType.PASSWORD, dict(description="Set on the first boot", sort_order=2)),
    ("Operating system", CustomFieldType.DROPDOWN, dict(required=True, options=OPERATING_SYSTEMS,
                                                        show_on_invoice=True, sort_order=3)),
    ("Provisioning notes", CustomFieldType.TEXTAREA, dict(admin_only=True, sort_order=4)),
]
CLIENT_FIELDS = [("VAT number", CustomFieldType.TEXT, dict(validation=r"[A-Z]{2}[0-9A-Z]{2,12}",
                                                           show_on_invoice=True))]


def ensure_custom_fields(session: Session) -> None:
    products = session.scalars(select(Product).where(Product.group_name.in_(SERVER_GROUPS))
                               .order_by(Product.id)).all()
    for product in products:
        for name, field_type, extra in PRODUCT_FIELDS:
            if session.scalar(select(CustomField.id).where(CustomField.product_id == product.id,
                                                           CustomField.name == name)) is None:
                session.add(CustomField(applies_to=CustomFieldOwner.PRODUCT, product=product, name=name,
                                        field_type=field_type, **extra))
    for name, field_type, extra in CLIENT_FIELDS:
        if session.scalar(select(CustomField.id).where(CustomField.applies_to == CustomFieldOwner.CLIENT,
                                                       CustomField.name == name)) is None:
            session.add(CustomField(applies_to=CustomFieldOwner.CLIENT, name=name, field_type=field_type,
                                    **extra))
    session.flush()


def load_custom_fields(session: Session) -> dict[int, list[CustomField]]:
    """Product id -> its demo fields, loaded and detached."""
    fields = session.scalars(select(CustomField).where(CustomField.applies_to == CustomFieldOwner.PRODUCT)
                             .order_by(CustomField.product_id, CustomField.sort_order, CustomField.id)).all()
    by_product: dict[int, list[CustomField]] = {}
    for field in fields:
        session.expunge(field)
        by_product.setdefault(field.product_id, []).append(field)
    return by_product


def draw_answers(
    fields: dict[int, list[CustomField]], product: Product, k: int, hostname: str
) -> dict[int, str]:
    """Order k's answers for its product: every required one, a root password on most, admin
    notes on none."""
    rng = random.Random(f"demo-custom-fields-{k}")
    answers = {}
    for field in fields.get(product.id, []):
        if field.name == "Hostname":
            answers[field.id] = hostname
        elif field.name == "Root password" and rng.random() < 0.7:
            answers[field.id] = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
        elif field.name == "Operating system":
            answers[field.id] = rng.choice(field.choices)
    return answers


def place_custom_fields(order, quote, cart, fields: dict[int, list[CustomField]]) -> list[dict]:
    """The custom_field_values rows place_order writes (actions.custom_fields.add_service_answers)."""
    rows = []
    for service, item in zip(order.services, quote.services, strict=True):
        own = fields.get(item.product.id, [])
        answers, _ = check_answers(own, cart.products[item.line].custom_fields, str, placing=True)
        for field in own:
            if field.id in answers:
                rows.append(order._add(CustomFieldValue.__table__, service_id=service["id"], client_id=None,
                                       field_id=field.id, **answer_columns(field, answers[field.id])))
    return rows
