"""The admin faces of addons: the catalog form, the order page's addon rows and accept options,
and the Addons grid with its filters."""

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from actions.actor import Actor
from actions.cart import Cart, CartProduct
from actions.place import place_order
from extensions import db
from models import Addon, AddonPrice, BillingCycle, ServiceAddon, ServiceStatus, SideEffect, default_currency
from tests import factories
from tests.test_order_page import PAGE, page, post


@pytest.fixture
def web(admin_client, session):
    session.commit()
    return admin_client


def _addon_form(product_id: int, **overrides) -> dict:
    data = {"name": "Nightly Backups", "description": "Kept 30 days", "products": str(product_id),
            "module": "manual", "auto_setup": "on_accept", "welcome_email": "", "show_on_order_form": "y",
            "prices-0-cycle": "Monthly", "prices-0-price": "4.00", "prices-0-setup_fee": "1.00",
            "prices-0-currency": str(default_currency(db.session).id)}
    data.update(overrides)
    return data


def test_the_catalog_form_creates_an_addon_with_its_prices_and_products(web, session):
    product = factories.make_product()
    session.commit()
    response = web.post("/admin/addons/new/", data=_addon_form(product.id))
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    addon = session.scalar(select(Addon))
    assert addon.name == "Nightly Backups" and [p.id for p in addon.products] == [product.id]
    assert [(p.cycle, p.price, p.setup_fee) for p in addon.prices] == [("Monthly", Decimal("4.00"),
                                                                         Decimal("1.00"))]
    listing = web.get("/admin/addons/").get_data(as_text=True)
    assert "Nightly Backups" in listing and "Monthly: USD 4.00 + 1.00 setup" in listing


@pytest.mark.parametrize(("field", "value", "message"), [
    ("prices-0-price", "-1.00", "cannot be negative"),
    ("prices-0-cycle", "Weekly", "Billing cycle must be one of"),
    ("module", "no-such-module", "Not a valid choice"),
])
def test_bad_catalog_input_is_refused_and_writes_nothing(web, session, field, value, message):
    product = factories.make_product()
    session.commit()
    response = web.post("/admin/addons/new/", data=_addon_form(product.id, **{field: value}))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Addon)) == 0
    assert session.scalar(select(func.count()).select_from(AddonPrice)) == 0


def _order_with_addons(session):
    product = factories.make_product()
    with_module = factories.make_addon([product], module="manual", name="Control Panel Licence")
    plain = factories.make_addon([product], {BillingCycle.MONTHLY: ("2.00", "0.00")}, name="Extra IP")
    client = factories.make_client()
    line = CartProduct(product.id, BillingCycle.MONTHLY, addon_ids=[with_module.id, plain.id])
    cart = Cart(client_id=client.id, payment_method="banktransfer", products=[line])
    order = place_order(session, cart, Actor.system())
    session.commit()
    return order


def test_the_order_page_lists_addons_under_their_service(web, session):
    order = _order_with_addons(session)
    html = page(web, order.id)
    service_row = html.index(f'id="service-{order.services[0].id}"')
    for item in order.addons:
        row = html.index(f'id="addon-{item.id}"')
        assert row > service_row
        cells = html[row:html.index("</tr>", row)]
        assert item.addon.name in cells and "Pending" in cells and "Unpaid" in cells
    licence, extra_ip = order.addons
    assert f'name="addon-{licence.id}-run_create"' in html  # it has a module
    assert f'name="addon-{extra_ip.id}-run_create"' not in html  # nothing to run


def test_accepting_from_the_order_page_runs_the_addon_create(web, session):
    order = _order_with_addons(session)
    licence, extra_ip = order.addons
    service = order.services[0]
    response = post(web, "/order/accept/", order, with_options="1", **{
        f"service-{service.id}-run_create": "1", f"addon-{licence.id}-run_create": "1",
    })
    assert response.status_code == 200
    session.expire_all()
    # The embedded dispatcher ran the create after the commit.
    assert session.get(ServiceAddon, licence.id).status == ServiceStatus.ACTIVE
    assert session.get(ServiceAddon, extra_ip.id).status == ServiceStatus.ACTIVE
    kinds = session.scalars(select(SideEffect.kind).where(SideEffect.target_type == "addon")).all()
    assert kinds == ["addon_create"]
    assert "Control Panel Licence" in web.get(PAGE.format(order.id)).get_data(as_text=True)


def _grid_ids(web, **filters) -> list[int]:
    """The grid's row ids with filters {column label: value} (operation "equals"), the filter
    arguments read from the grid's own filter list."""
    html = web.get("/admin/service-addons/").get_data(as_text=True)
    groups = json.loads(re.search(r'id="filter-groups-data" class="d-none">([^<]*)<', html).group(1))
    query = {}
    for label, value in filters.items():
        arg = next(f["arg"] for f in groups[label] if f["operation"] == "equals")
        query[f"flt{len(query)}_{arg}"] = value
    response = web.get("/admin/service-addons/", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "alert-danger" not in html
    return [int(i) for i in re.findall(r'class="col-id">\s*(\d+)\s*<', html)]


def test_the_addons_grid_filters_by_status_and_addon(web, session):
    order = _order_with_addons(session)
    licence, extra_ip = order.addons
    other = _order_with_addons(session)
    other_licence, other_ip = other.addons
    session.get(ServiceAddon, other_licence.id).status = ServiceStatus.ACTIVE
    session.commit()
    assert _grid_ids(web) == [other_ip.id, other_licence.id, extra_ip.id, licence.id]  # newest first
    assert _grid_ids(web, Status="Active") == [other_licence.id]
    assert _grid_ids(web, **{"Addon Id": str(extra_ip.addon_id)}) == [extra_ip.id]  # each order its own
    assert _grid_ids(web, **{"Order Id": str(other.id)}) == [other_ip.id, other_licence.id]
    assert _grid_ids(web, **{"Service Id": str(order.services[0].id), "Status": "Pending"}) == [
        extra_ip.id, licence.id]


def test_support_sees_addons_but_cannot_edit_them_or_the_catalog(client_as, support_admin, session):
    order = _order_with_addons(session)
    item = order.addons[0]
    session.commit()
    web = client_as(support_admin)
    assert web.get("/admin/service-addons/").status_code == 200
    assert web.get("/admin/addons/").status_code == 200
    response = web.post(f"/admin/service-addons/edit/?id={item.id}", data={"recurring_amount": "0.00"})
    assert response.status_code == 403
    assert web.post("/admin/addons/new/", data=_addon_form(order.services[0].product_id)).status_code == 403
    session.expire_all()
    assert session.get(ServiceAddon, item.id).recurring_amount == item.recurring_amount
    assert session.scalar(select(func.count()).select_from(Addon)) == 2


def test_an_admin_edit_of_an_addon_is_written_on_the_timeline(web, session):
    from models import OrderEvent

    order = _order_with_addons(session)
    item = order.addons[0]
    form = {"billing_cycle": "Monthly", "first_payment_amount": "4.00", "recurring_amount": "2.50",
            "registration_date": "", "next_due_date": ""}
    response = web.post(f"/admin/service-addons/edit/?id={item.id}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert session.get(ServiceAddon, item.id).recurring_amount == Decimal("2.50")
    event = session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                    OrderEvent.verb == "record_edited"))
    assert event is not None and event.details["record"] == "addon"
    assert event.details["changes"]["recurring_amount"]["to"] == "2.50"
