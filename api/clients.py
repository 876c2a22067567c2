"""AddClient, GetClients and GetClientsDetails.

Orderdesk has no client area, so each client is its own user (owner_user_id = the client id) and
the client-area login fields (password2, securityqid, securityqans) are accepted and not stored;
fields the client record cannot hold yet are refused when they carry a value (docs/api.md).
"""

import re

from email_validator import EmailNotValidError, validate_email
from iso3166 import countries_by_alpha2
from sqlalchemy import Select, func, or_, select

from actions.clients import ClientDetails, ClientError, add_client
from api.custom_fields import MAX_BLOB_LENGTH, answers_of
from api.errors import ApiError
from api.formats import collection, day
from api.listing import ordering, page_of
from api.registry import (
    BOOL,
    INT,
    PAGE_FIELDS,
    PAGE_PARAMS,
    STRING,
    Call,
    Param,
    api_action,
    integer,
    string,
)
from api.registry import collection as collection_schema
from models import (
    Client,
    ClientStatus,
    Permission,
)

_PHONE = re.compile(r"^\+?[0-9 ().\-]{4,50}$")
_NO_CLIENT_AREA = "Orderdesk has no client area"
_NO_FIELD = "the client record has no such field yet"

REQUIRED = (  # parameter, client field, max length, WHMCS's message when missing
    ("firstname", "first_name", 100, "You did not enter your first name"),
    ("lastname", "last_name", 100, "You did not enter your last name"),
    ("email", "email", 255, "You did not enter your email address"),
    ("address1", "address1", 255, "You did not enter your  address line 1"),
    ("city", "city", 100, "You did not enter your city"),
    ("state", "state", 100, "You did not enter your state"),
    ("postcode", "postcode", 20, "You did not enter your postcode"),
    ("phonenumber", "phone", 50, "You did not enter your phone number"),
)
ALWAYS_REQUIRED = {"firstname", "lastname", "email"}  # even with skipvalidation: the record needs them

ADD_CLIENT_PARAMS = (
    *(
        Param(
            name,
            STRING,
            f"Required (but for skipvalidation{'' if name not in ALWAYS_REQUIRED else ': always'}).",
            required=True,
        )
        for name, *_ in REQUIRED
    ),
    Param("country", STRING, "ISO 3166-1 two-letter code.", required=True),
    Param("companyname", STRING, "Company name."),
    Param("address2", STRING, "Second address line."),
    Param("notes", STRING, "Admin notes."),
    Param("password2", STRING, "Client-area password: accepted, not stored (" + _NO_CLIENT_AREA + ")."),
    Param("securityqid", INT, "Accepted, not stored (" + _NO_CLIENT_AREA + ")."),
    Param("securityqans", STRING, "Accepted, not stored (" + _NO_CLIENT_AREA + ")."),
    Param("clientip", STRING, "Signup IP: checked, not stored (clients have no IP field)."),
    Param("noemail", BOOL, "No signup email: Orderdesk sends none anyway."),
    Param("skipvalidation", BOOL, "Address, city, state, postcode and phone become optional."),
    Param("owner_user_id", INT, "Attach to an existing user: refused (each client is its own user)."),
    Param("currency", INT, "The id of the currency the client pays in (Setup > Currencies); default: "
          "the default currency."),
    Param("customfields", STRING, "base64 PHP-serialized {client custom field id: value}; checked like the "
          "client page's (required, type, pattern)."),
    *(
        Param(name, kind, "Refused when given.", unsupported=_NO_FIELD)
        for name, kind in (("tax_id", STRING), ("groupid", INT), ("language", STRING))
    ),
    Param("marketingoptin", BOOL, "Refused when true.", unsupported="Orderdesk sends no marketing email"),
    *(
        Param(
            name,
            STRING,
            "Deprecated card details: refused.",
            unsupported="card details are never stored here",
        )
        for name in ("cardtype", "cardnum", "expdate", "startdate", "issuenumber", "cvv")
    ),
)


def _details(call: Call) -> ClientDetails:
    p = call.params
    skip = p.flag("skipvalidation", False)
    values = {}
    for name, field, length, missing in REQUIRED:
        values[field] = p.text(name, max_length=length)
        if not values[field] and (name in ALWAYS_REQUIRED or not skip):
            raise ApiError(missing)
    try:
        values["email"] = validate_email(values["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        raise ApiError("The email address you entered was not valid") from None
    country = p.text("country", max_length=2).upper()
    if country not in countries_by_alpha2:
        raise ApiError("Valid country required")
    phone = values["phone"]
    if phone and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 4):
        raise ApiError("Invalid telephone phone number")
    if p.given("owner_user_id"):
        p.id("owner_user_id")
        raise ApiError("Invalid Owner User ID")
    custom_fields = answers_of(p.text("customfields", max_length=MAX_BLOB_LENGTH), "customfields")
    for name in ("password2", "securityqans", "clientip"):
        p.text(name, max_length=255)
    p.id("securityqid")
    p.flag("noemail")
    return ClientDetails(
        **values,
        country=country,
        company_name=p.text("companyname", max_length=200),
        address2=p.text("address2", max_length=255),
        notes=p.text("notes", max_length=10_000, single_line=False),
        custom_fields=custom_fields,
        currency_id=p.id("currency"),
    )


@api_action(
    "AddClient",
    summary="Add a client.",
    permissions=(Permission.ADD_NEW_CLIENT,),
    params=ADD_CLIENT_PARAMS,
    response={
        "clientid": integer("The new client's id."),
        "owner_user_id": integer("The same id: each client is its own user."),
    },
    errors=(
        *(missing for *_, missing in REQUIRED),
        "The email address you entered was not valid",
        "Valid country required",
        "Invalid telephone phone number",
        "Invalid Owner User ID",
        "A user already exists with that email address",
    ),
)
def add_client_action(call: Call) -> dict:
    details = _details(call)
    try:
        client = add_client(call.session, details)
    except ClientError as exc:
        raise ApiError(str(exc)) from None
    return {"clientid": client.id, "owner_user_id": client.id}


CLIENT_SORT = {
    "id": Client.id,
    "firstname": Client.first_name,
    "lastname": Client.last_name,
    "companyname": Client.company_name,
    "email": Client.email,
    "groupid": Client.id,
    "datecreated": Client.created_at,
    "status": Client.status,
}
CLIENT_ROW = {
    "id": integer("Client id."),
    "firstname": string("First name."),
    "lastname": string("Last name."),
    "companyname": string("Company."),
    "email": string("Email."),
    "datecreated": string("YYYY-MM-DD."),
    "groupid": integer("Always 0 (no client groups)."),
    "status": string("Active, Inactive or Closed."),
}


def _search(query: Select, term: str) -> Select:
    text = term.lower()
    full_name = func.lower(Client.first_name + " " + Client.last_name)
    return query.where(
        or_(
            *(
                func.lower(column).startswith(text, autoescape=True)
                for column in (Client.email, Client.first_name, Client.last_name, Client.company_name)
            ),
            full_name.startswith(text, autoescape=True),
        )
    )


@api_action(
    "GetClients",
    summary="Clients matching the filters, a page at a time.",
    permissions=(Permission.LIST_CLIENTS,),
    params=(
        *PAGE_PARAMS,
        Param("sorting", STRING, "ASC or DESC (default ASC).", enum=("ASC", "DESC")),
        Param("status", STRING, "Active, Inactive or Closed.", enum=tuple(s.value for s in ClientStatus)),
        Param("search", STRING, "Start of the email, first name, last name, full name or company."),
        Param("orderby", STRING, "Sort column (default id).", enum=tuple(CLIENT_SORT)),
    ),
    response={
        **PAGE_FIELDS,
        "clients": collection_schema("The page of clients.", "client", CLIENT_ROW, empty_string=False),
    },
    errors=("Invalid status <status>", "orderby must be one of <columns>", "sorting must be ASC or DESC"),
)
def get_clients(call: Call) -> dict:
    start, size = page_of(call)
    p = call.params
    query = select(Client)
    status = p.text("status", max_length=20)
    if status:
        known = {s.value.lower(): s.value for s in ClientStatus}
        if status.lower() not in known:
            raise ApiError(f"Invalid status {status}")
        query = query.where(Client.status == known[status.lower()])
    term = p.text("search", max_length=255)
    if term:
        query = _search(query, term)
    ordering_ = ordering(p, CLIENT_SORT, Client.id, by="orderby", direction="sorting", words=("ASC", "DESC"))
    session = call.session
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    clients = (
        session.scalars(query.order_by(*ordering_).offset(start).limit(size)).all() if start < total else []
    )
    rows = [
        {
            "id": c.id,
            "firstname": c.first_name,
            "lastname": c.last_name,
            "companyname": c.company_name,
            "email": c.email,
            "datecreated": day(c.created_at.date()),
            "groupid": 0,
            "status": c.status,
        }
        for c in clients
    ]
    # whmcs-api-client types this container, so it is never "" (an empty list instead).
    return {
        "totalresults": total,
        "startnumber": start,
        "numreturned": len(rows),
        "clients": collection("client", rows, empty_string=False),
    }
