"""GetClientsDetails: one client in WHMCS's field names, with statistics on request."""

from iso3166 import countries_by_alpha2
from sqlalchemy import func, select

from api.custom_fields import client_fields_out
from api.errors import ApiError
from api.formats import currencies, money
from api.registry import BOOL, INT, STRING, Call, Param, api_action, boolean, integer, obj, string
from models import (
    Client,
    Domain,
    DomainStatus,
    Invoice,
    InvoiceStatus,
    Permission,
    Service,
    ServiceStatus,
)

CLIENT_NOT_FOUND = "Client Not Found"
NEED_ID_OR_EMAIL = "Either clientid Or email Is Required"


def client_details(client: Client) -> dict:
    country = countries_by_alpha2.get(client.country)
    return {
        "client_id": client.id,
        "owner_user_id": client.id,
        "userid": client.id,
        "id": client.id,
        "uuid": "",
        "firstname": client.first_name,
        "lastname": client.last_name,
        "fullname": client.full_name,
        "companyname": client.company_name,
        "email": client.email,
        "address1": client.address1,
        "address2": client.address2,
        "city": client.city,
        "fullstate": client.state,
        "state": client.state,
        "postcode": client.postcode,
        "countrycode": client.country,
        "country": client.country,
        "countryname": country.name if country else client.country,
        "phonenumber": client.phone,
        "phonenumberformatted": client.phone,
        "telephoneNumber": client.phone,
        "tax_id": "",
        "statecode": "",
        "phonecc": 0,
        "notes": client.notes,
        "status": client.status,
        "groupid": 0,
        "currency": client.currency_id,
        "currency_code": client.currency.code,
        "defaultgateway": "",
        "credit": "0.00",
        "language": "",
        "lastlogin": "",
        "billingcid": 0,
        "taxexempt": False,
        "latefeeoveride": False,
        "overideduenotices": False,
        "separateinvoices": False,
        "disableautocc": False,
        "emailoptout": False,
        "marketing_emails_opt_in": False,
        "overrideautoclose": False,
        "allowSingleSignOn": False,
        "email_verified": False,
        "isOptedInToMarketingEmails": False,
        "email_preferences": dict.fromkeys(
            ("general", "invoice", "support", "product", "domain", "affiliate"), "1"
        ),
        "customfields": client_fields_out(client),
        "users": {
            "user": [{"id": client.id, "name": client.full_name, "email": client.email, "is_owner": True}]
        },
    }


def client_stats(call: Call, client: Client, cur: dict) -> dict:
    session = call.session

    def invoices(*statuses):
        row = session.execute(
            select(func.count(), func.coalesce(func.sum(Invoice.total), 0)).where(
                Invoice.client_id == client.id, Invoice.status.in_(statuses)
            )
        ).one()
        return int(row[0]), row[1]

    def shown(amount) -> str:
        return f"{cur['prefix']}{money(amount)}{cur['suffix']}"

    due_count, due_total = invoices(InvoiceStatus.UNPAID)
    paid_count, paid_total = invoices(InvoiceStatus.PAID)
    cancelled_count, _ = invoices(InvoiceStatus.CANCELLED)
    refunded_count, _ = invoices(InvoiceStatus.REFUNDED)
    services = dict(
        session.execute(
            select(Service.status, func.count())
            .where(Service.client_id == client.id)
            .group_by(Service.status)
        ).all()
    )
    domains = dict(
        session.execute(
            select(Domain.status, func.count()).where(Domain.client_id == client.id).group_by(Domain.status)
        ).all()
    )
    return {
        "numdueinvoices": due_count,
        "dueinvoicesbalance": shown(due_total),
        "numunpaidinvoices": due_count,
        "unpaidinvoicesamount": shown(due_total),
        "numpaidinvoices": paid_count,
        "paidinvoicesamount": shown(paid_total),
        "numcancelledinvoices": cancelled_count,
        "numrefundedinvoices": refunded_count,
        "productsnumactive": services.get(ServiceStatus.ACTIVE, 0),
        "productsnumpending": services.get(ServiceStatus.PENDING, 0),
        "productsnumtotal": sum(services.values()),
        "numactivedomains": domains.get(DomainStatus.ACTIVE, 0),
        "numdomains": sum(domains.values()),
        "isAffiliate": False,
    }


@api_action(
    "GetClientsDetails",
    summary="One client, by id or email, optionally with statistics.",
    permissions=(Permission.LIST_CLIENTS,),
    params=(
        Param("clientid", INT, "The client id (or give email)."),
        Param("email", STRING, "The client's email (or give clientid)."),
        Param("stats", BOOL, "Add invoice, service and domain statistics."),
    ),
    response={
        "client": obj("The client (WHMCS's field names)."),
        "stats": obj("With stats: invoice, service and domain counts and amounts."),
        "userid": integer("Client id."),
        "id": integer("Client id."),
        "email": string("Email."),
        "isAffiliate": boolean("Always false."),
    },
    errors=(NEED_ID_OR_EMAIL, CLIENT_NOT_FOUND),
)
def get_clients_details(call: Call) -> dict:
    p = call.params
    client_id, email = p.id("clientid"), p.text("email", max_length=255)
    if client_id is None and not email:
        raise ApiError(NEED_ID_OR_EMAIL)
    session = call.session
    if client_id is not None:
        client = session.get(Client, client_id)
    else:
        client = session.scalar(select(Client).where(func.lower(Client.email) == email.lower()))
    if client is None:
        raise ApiError(CLIENT_NOT_FOUND)
    result = {
        "client": client_details(client),
        "userid": client.id,
        "id": client.id,
        "email": client.email,
        "isAffiliate": False,
    }
    if p.flag("stats", False):
        result["stats"] = client_stats(call, client, currencies(session)[client.currency_id])
    return result
