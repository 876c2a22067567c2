"""Which views the admin shows, grouped into menus."""

from flask_admin import Admin

from extensions import db


def register_views(admin: Admin) -> None:
    from admin.orders import OrderView
    from models import Order

    admin.add_view(OrderView(Order, db, name="All Orders", category="Orders", endpoint="orders"))
