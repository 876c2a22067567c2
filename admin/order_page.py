"""The order details page and its action endpoints (mixed into OrderView)."""


class OrderPageMixin:
    pass
