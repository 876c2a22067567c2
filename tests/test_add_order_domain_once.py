"""Add New Order's form, without a browser: a product row's own domain (Register / Transfer / use
existing) becomes one domain line priced like a domain row, its errors point at the product row's
fields, and the row's custom fields are read, checked and stored; a refusal writes nothing."""

from sqlalchemy import func, select

from models import CustomFieldType, Domain, Order
from tests import factories
from tests.test_custom_fields import PRICES, make_field, row_counts


def form(product, client, **extra):
    data = {"client_id": str(client.id), "payment_method": "banktransfer", "status": "Pending",
            "generate_invoice": "1", "products-0-product_id": str(product.id),
            "products-0-billing_cycle": "Monthly", "products-0-domain": "grace.com"}
    return data | extra


def setup(session):
    product = factories.make_product(name="Starter", requires_domain=True, prices=PRICES)
    factories.make_tld(".com", register="12.00", transfer="8.00", addons=("1.00", "0.00", "3.00"),
                       years=(1, 2))
    client = factories.make_client()
    reference = make_field(product, name="Reference", required=True)
    tick = make_field(product, name="Backups", field_type=CustomFieldType.TICKBOX)
    session.commit()
    return product, client, reference, tick


def test_the_product_row_registers_its_domain_once_with_its_addons(admin_client, session):
    product, client, reference, tick = setup(session)
    data = form(product, client, **{"products-0-domain_type": "Register",
                                    "products-0-domain_period_years": "2",
                                    "products-0-domain_id_protection": "1",
                                    f"products-0-customfield-{reference.id}": "REF-1",
                                    f"products-0-customfield-{tick.id}": "on"})
    preview = admin_client.post("/admin/add-order/preview/", data=data).get_json()
    assert preview["complete"], preview["errors"]
    # 10.00 for the service, 2 years of .com at 12.00 and 2 years of ID protection at 3.00.
    assert preview["total"] == "40.00"
    response = admin_client.post("/admin/add-order/", data=data)
    assert response.status_code == 302
    order = session.scalars(select(Order)).one()
    assert str(order.amount) == preview["total"]
    (service,), (domain,) = order.services, order.domains
    assert (service.domain, domain.name, domain.type, domain.period_years, domain.id_protection) == (
        "grace.com", "grace.com", "Register", 2, True)
    answers = {v.field_id: v.value for v in service.custom_field_values}
    assert answers == {reference.id: "REF-1", tick.id: "on"}


def test_use_existing_adds_no_domain_line(admin_client, session):
    product, client, reference, _ = setup(session)
    data = form(product, client,
                **{"products-0-domain_type": "", f"products-0-customfield-{reference.id}": "R"})
    assert admin_client.post("/admin/add-order/", data=data).status_code == 302
    assert session.scalar(select(func.count(Domain.id))) == 0
    assert session.scalar(select(func.count(Order.id))) == 1


def test_errors_point_at_the_product_rows_fields_and_nothing_is_written(admin_client, session):
    product, client, reference, _ = setup(session)
    before = row_counts(session)
    data = form(product, client,
                **{"products-0-domain_type": "Transfer", "products-0-domain_period_years": "11"})
    response = admin_client.post("/admin/add-order/", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("products-0-domain_period_years", f"products-0-customfield-{reference.id}"):
        assert f'data-error-for="{field}"' in page, field
    assert "Reference is required." in page
    session.expire_all()
    after = row_counts(session)
    after.pop("admin_sessions", None), before.pop("admin_sessions", None)
    assert after == before
