"""Setup > Currencies: the Configure Currencies permission, hand-typed rates checked, a new default
re-expressing every rate, and a currency in use kept."""

from decimal import Decimal

from sqlalchemy import func, select

from extensions import db
from models import Currency, default_currency
from tests import factories

URL = "/admin/currencies/"


def _form(**fields) -> dict:
    return {"code": "EUR", "prefix": "€", "suffix": " EUR", "format": "3", "rate": "0.92", **fields}


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Currency))


def test_configuring_currencies_needs_its_permission(client_as, sales_admin, admin_client, session):
    session.commit()
    assert client_as(sales_admin).get(URL).status_code == 403
    assert client_as(sales_admin).post(f"{URL}new/", data=_form()).status_code == 403
    assert _count() == 1
    assert admin_client.get(URL).status_code == 200


def test_rates_are_checked_and_nothing_is_written_when_refused(admin_client, session):
    session.commit()
    for rate, message in (("abc", "must be a number like 0.92"), ("0.1234567", "at most six decimal places"),
                          ("0", "must be more than 0"), ("1e9", "at most 999,999.999999")):
        text = admin_client.post(f"{URL}new/", data=_form(rate=rate)).get_data(as_text=True)
        assert message in text and _count() == 1
    text = admin_client.post(f"{URL}new/", data=_form(code="E1")).get_data(as_text=True)
    assert "three letters" in text and _count() == 1
    assert admin_client.post(f"{URL}new/", data=_form(code="eur")).status_code == 302
    eur = db.session.scalar(select(Currency).where(Currency.code == "EUR"))
    assert (eur.rate, eur.format, eur.is_default) == (Decimal("0.920000"), 3, False)
    assert eur.format_amount(Decimal("1234.5")) == "€1.234,50 EUR"


def test_a_new_default_re_expresses_the_rates_and_a_used_currency_stays(admin_client, session):
    usd = default_currency(session)
    eur = factories.make_currency("EUR", rate="0.800000")
    gbp = factories.make_currency("GBP", rate="0.720000", prefix="£", suffix="")
    factories.make_client()  # in USD
    session.commit()
    response = admin_client.post(f"{URL}edit/?id={eur.id}", data=_form(rate="0.8", is_default="y"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    rates = {c.code: (c.rate, c.is_default) for c in db.session.scalars(select(Currency))}
    # 1 EUR = 1 / 0.8 USD = 1.25 USD; 1 EUR = 0.72 / 0.8 GBP = 0.9 GBP.
    assert rates == {"EUR": (Decimal("1.000000"), True), "USD": (Decimal("1.250000"), False),
                     "GBP": (Decimal("0.900000"), False)}

    text = admin_client.post(f"{URL}edit/?id={eur.id}", data=_form(rate="1")).get_data(as_text=True)
    assert "There must be a default currency" in text
    response = admin_client.post(f"{URL}delete/", data={"id": usd.id}, follow_redirects=True)
    assert "USD is used by clients and cannot be deleted." in response.get_data(as_text=True)
    response = admin_client.post(f"{URL}delete/", data={"id": gbp.id}, follow_redirects=True)
    assert _count() == 2
