from models import Order, OrderStatus
from tests import factories


def test_order_list_renders_for_full_admin_in_business_words(admin_client, session):
    order = factories.make_order(status=OrderStatus.PENDING)
    session.commit()
    response = admin_client.get("/admin/orders/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert str(order.order_number) in html
    assert session.get(Order, order.id).payment_status == "Unpaid"
    # Vocabulary values are shown in the business's words, not as enum member names.
    assert "Unpaid" in html and "UNPAID" not in html


def test_anonymous_is_sent_to_login(anon_client):
    response = anon_client.get("/admin/orders/")
    assert response.status_code == 302
    assert "/admin/login/" in response.headers["Location"]
