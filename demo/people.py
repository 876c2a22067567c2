"""Demo clients and affiliates: names, addresses and signup dates from many countries.

The k-th client is built from its own random.Random seeded with k, so a top-up adds exactly the
clients one larger run would have made.
"""

import bisect
import random
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from demo.bulk import Ids, Rows
from models import Affiliate, Client, ClientStatus, default_currency

BATCH = 10_000
CLIENT_SEED = 1_000_000_000_000

FIRST_NAMES = ["Ada", "Liam", "Olivia", "Noah", "Emma", "Lucas", "Sofia", "Mateo", "Amara", "Yuki",
               "Priya", "Arjun", "Chloé", "Jonas", "Freya", "Henrik", "Aisha", "Omar", "Zoë", "Jakub",
               "Marta", "Diego", "Léa", "Finn", "Nia", "Kenji", "Elif", "Tomás", "Ingrid", "Samuel"]
LAST_NAMES = ["Smith", "Okafor", "Müller", "García", "Rossi", "Kowalski", "Nguyen", "Jensen", "Dubois",
              "Tanaka", "Patel", "O'Brien", "Silva", "van Dijk", "Andersson", "Novak", "Costa", "Kim",
              "Schmidt", "Martin", "Khan", "Murphy", "Fischer", "Moreau", "Lopez", "Berg", "Yilmaz",
              "Walker", "Sato", "Evans"]
COMPANY_WORDS = ["Bluepeak", "Northwind", "Brightside", "Copperleaf", "Greenfield", "Silverline",
                 "Redwood", "Harbor", "Summit", "Lakeside", "Ironbridge", "Sunrise"]
COMPANY_KINDS = ["Media", "Design Studio", "Consulting", "Bakery", "Dental", "Logistics", "Fitness",
                 "Photography", "Software", "Travel", "Architects", "Legal"]
COMPANY_SUFFIX = {"US": "LLC", "GB": "Ltd", "DE": "GmbH", "FR": "SARL", "NL": "B.V.", "CA": "Inc.",
                  "AU": "Pty Ltd", "IN": "Pvt Ltd", "BR": "Ltda", "ES": "S.L.", "SE": "AB",
                  "PL": "sp. z o.o."}
# country: (weight, phone prefix, [(city, state, postcode)])
COUNTRIES = {
    "US": (30, "+1", [("Austin", "TX", "78701"), ("Portland", "OR", "97205"), ("Boston", "MA", "02108")]),
    "GB": (15, "+44", [("London", "", "EC1A 1BB"), ("Manchester", "", "M1 1AE"), ("Leeds", "", "LS1 4DY")]),
    "DE": (10, "+49", [("Berlin", "BE", "10115"), ("Munich", "BY", "80331")]),
    "FR": (6, "+33", [("Paris", "", "75002"), ("Lyon", "", "69002")]),
    "NL": (5, "+31", [("Amsterdam", "NH", "1012 AB"), ("Utrecht", "UT", "3511 AA")]),
    "CA": (6, "+1", [("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1")]),
    "AU": (5, "+61", [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")]),
    "IN": (8, "+91", [("Bengaluru", "KA", "560001"), ("Pune", "MH", "411001")]),
    "BR": (4, "+55", [("São Paulo", "SP", "01001-000")]),
    "ES": (4, "+34", [("Madrid", "", "28013"), ("Valencia", "", "46002")]),
    "SE": (3, "+46", [("Stockholm", "", "111 52")]),
    "PL": (4, "+48", [("Kraków", "", "31-008"), ("Warsaw", "", "00-001")]),
}
STREETS = ["High Street", "Main Street", "Station Road", "Park Avenue", "Church Lane", "Mill Road",
           "Elm Street", "Harbour Way", "King Street", "Oak Drive"]


def top_up_clients(session: Session, target: int, start: datetime, end: datetime) -> int:
    """Add clients until `target` exist, signed up between start and end (after the newest one)."""
    conn = session.connection()
    have = conn.scalar(select(func.count()).select_from(Client))
    if have >= target:
        return 0
    latest = conn.scalar(select(func.max(Client.created_at)))
    start, end = window(start, latest, end)
    table = Client.__table__
    ids = Ids(conn, [table])
    currency_id = default_currency(session).id  # demo clients pay in the default currency
    count = target - have
    for first in range(have + 1, target + 1, BATCH):
        rows = Rows(table)
        for k in range(first, min(first + BATCH, target + 1)):
            rows.add(**_client(k, ids.take(table), spread(k - have - 1, count, start, end)),
                     currency_id=currency_id)
        emails = [r["email"] for r in rows.rows]
        taken = set(conn.scalars(select(table.c.email).where(table.c.email.in_(emails))))
        for row in rows.rows:
            if row["email"] in taken:  # someone already uses the address: keep the demo one distinct
                row["email"] = row["email"].replace("@", f".demo{row['id']}@")
        rows.write(conn)
        ids.publish(conn)
        session.commit()
        conn = session.connection()
    return count


def _client(k: int, client_id: int, created_at: datetime) -> dict:
    rng = random.Random(CLIENT_SEED + k)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country = rng.choices(list(COUNTRIES), [c[0] for c in COUNTRIES.values()])[0]
    _, phone_prefix, cities = COUNTRIES[country]
    city, state, postcode = rng.choice(cities)
    company = ""
    if rng.random() < 0.4:
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {COMPANY_SUFFIX[country]}"
    mailbox = _ascii(f"{first}.{last}").replace(" ", "").replace("'", "").lower()
    return dict(
        id=client_id, first_name=first, last_name=last, company_name=company,
        email=f"{mailbox}{k}@example.{rng.choice(['com', 'net', 'org'])}",
        address1=f"{rng.randint(1, 250)} {rng.choice(STREETS)}", city=city, state=state,
        postcode=postcode, country=country,
        phone=f"{phone_prefix} {rng.randint(200, 999)} {rng.randint(1000000, 9999999)}",
        status=ClientStatus.ACTIVE, created_at=at_second(created_at),
    )


def ensure_affiliates(session: Session, target: int) -> None:
    """The oldest clients without one become affiliates until `target` exist."""
    have = session.scalar(select(func.count()).select_from(Affiliate))
    if have >= target:
        return
    has_affiliate = select(Affiliate.client_id)
    rows = session.execute(select(Client.id, Client.created_at).where(Client.id.not_in(has_affiliate))
                           .order_by(Client.id).limit(target - have))
    values = [dict(client_id=i, created_at=c) for i, c in rows]
    if values:
        session.execute(insert(Affiliate.__table__), values)
        session.commit()


class Clients:
    """Client ids by signup time, so an order goes to someone who was a client by then."""

    def __init__(self, conn: Connection):
        rows = conn.execute(select(Client.id, Client.created_at).order_by(Client.created_at, Client.id))
        self.ids: list[int] = []
        self.since: list[float] = []
        for client_id, created_at in rows:
            self.ids.append(client_id)
            self.since.append(created_at.timestamp())
        if not self.ids:
            raise ValueError("Demo orders need clients: seed at least one client")

    def pick(self, u: float, when: datetime) -> int:
        eligible = bisect.bisect_right(self.since, when.timestamp()) or len(self.ids)
        return self.ids[int(u * eligible)]


def window(start: datetime, latest: datetime | None, end: datetime) -> tuple[datetime, datetime]:
    """New rows are dated after the newest existing one, so ids keep growing with dates."""
    if latest is not None:
        start = max(start, latest + timedelta(minutes=1))
    return (start, end) if start < end else (end - timedelta(hours=1), end)


def spread(i: int, count: int, start: datetime, end: datetime) -> datetime:
    """The i-th of `count` moments spread evenly from start to end."""
    return start + (end - start) * ((i + 0.5) / count)


def at_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
