"""What the input fuzz and the role crawl share: a seeded world with known secrets, the requests the
app answers (found from app.url_map, the pages' own forms and links, and Flask-Admin's
conventions, so a new endpoint is covered without touching the tests), table snapshots, and a
restore to the seeded state.
"""

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from actions.accept import AcceptOptions, ServiceAcceptOptions, accept_order
from actions.actor import Actor
from actions.hook_events import EVENT_TYPES
from extensions import db
from models import (
    AdminSession,
    ApiCredential,
    BillingCycle,
    ConfigOptionType,
    CustomField,
    CustomFieldValue,
    FraudModuleSettings,
    Gateway,
    HookEndpoint,
    OrderStatus,
    Role,
    Server,
    ServiceStatus,
    Setting,
    SideEffect,
    SideEffectStatus,
    hash_secret,
    utcnow,
)
from tests import factories

SECRETS = {
    "service password": "svc-Pa55word-7731",
    "EPP code": "EPP-code-99182",
    "server webhook secret": "whsec-server-55120",
    "gateway key": "sk_live_gateway_88213",
    "API secret": "api-secret-66410",
    "fraud licence key": "maxmind-licence-40917",
    "event hook secret": "whsec_hook-secret-30719",
    "admin password": factories.PASSWORD,
    "custom field password": "cf-Root-pa55-31337",
    "client custom field password": "cf-client-PIN-80467",
}

# Tables the fuzz does not compare: login sessions come and go with every sign-in.
# Rows every request may add by design: sign-in sessions, and the API's log of every call (refused
# calls included: tests/test_api_fuzz.py checks every other table stays as it was).
VOLATILE_TABLES = {AdminSession.__tablename__, "api_log"}
# A refused login or re-authentication is recorded in the activity log by design: that row is the
# refusal's own record, not a change the request made.
REFUSAL_RECORDS = {"admin_login_failed"}


def seed_world(session) -> dict:
    """Rows of every kind, with the known SECRETS stored where the app keeps such things."""
    full = factories.make_admin("Full Administrator")
    server = Server(name="web1", hostname="web1.example", module="manual",
                    secret=SECRETS["server webhook secret"])
    session.add(server)
    session.add(Gateway(name="stripe", display_name="Stripe", module="banktransfer",
                        settings=json.dumps({"secret_key": SECRETS["gateway key"]})))
    # An active fraud module (nothing listens on its host: a check run by the crawl fails fast).
    session.add(FraudModuleSettings(module="maxmind", account_id="42", host="127.0.0.1:9", timeout=1,
                                    license_key=SECRETS["fraud licence key"]))
    session.get(Setting, "fraud_module").value = "maxmind"
    support_role = session.scalar(select(Role).where(Role.name == "Support"))
    # An endpoint for every event (nothing listens there: its deliveries fail fast, in the log).
    session.add(HookEndpoint(url="http://127.0.0.1:9/hooks", events=list(EVENT_TYPES), active=True,
                             secret=SECRETS["event hook secret"]))
    session.add(ApiCredential(identifier="ident-1", secret_hash=hash_secret(SECRETS["API secret"]),
                              role=support_role, description="shop"))
    session.flush()
    product = factories.make_product(default_server_id=server.id)
    # Configurable options of every type: the order page's options form and Add New Order's controls.
    factories.make_option_group([product], [
        ("Memory", ConfigOptionType.DROPDOWN,
         {"2 GB": {}, "4 GB": {BillingCycle.MONTHLY: ("4.00", "1.00")}}, 0, 0),
        ("Region", ConfigOptionType.RADIO, {"EU": {}, "US": {}}, 0, 0),
        ("Backups", ConfigOptionType.YES_NO, {"Backups": {BillingCycle.MONTHLY: ("2.00", "0.00")}}, 0, 0),
        ("IPs", ConfigOptionType.QUANTITY, {"IP": {BillingCycle.MONTHLY: ("1.00", "0.00")}}, 0, 4)])
    factories.make_tld(".com")
    factories.make_promotion("SAVE10")
    pending = factories.make_order(product=product, domains=["Pending"])
    pending.domains[0].epp_code = SECRETS["EPP code"]
    # Password custom fields answered for the service and its client, beside a plain one.
    root = CustomField(applies_to="product", product=product, name="Root password", field_type="password")
    hostname = CustomField(applies_to="product", product=product, name="Hostname", show_on_invoice=True)
    pin = CustomField(applies_to="client", name="Phone PIN", field_type="password")
    pending.services[0].custom_field_values.extend([
        CustomFieldValue(field=root, secret=SECRETS["custom field password"]),
        CustomFieldValue(field=hostname, value="box.example.net")])
    pending.client.custom_field_values.append(
        CustomFieldValue(field=pin, secret=SECRETS["client custom field password"]))
    factories.make_order(status=OrderStatus.CANCELLED, services=[ServiceStatus.CANCELLED])
    session.commit()
    # Accepted with a module create and a welcome email: the jobs run in-process after the commit.
    service = pending.services[0]
    accept_order(session, pending, AcceptOptions(services={service.id: ServiceAcceptOptions(
        server_id=server.id, username="ada1", password=SECRETS["service password"],
        run_module_create=True, send_welcome_email=True)}), Actor.admin(full))
    session.commit()
    other = factories.make_order(product=product)
    session.add(SideEffect(kind="module_create", order_id=other.id, target_type="service",
                           target_id=other.services[0].id, status=SideEffectStatus.FAILED, attempts=5,
                           last_error="Could not connect", idempotency_key="seed-failed",
                           finished_at=utcnow()))
    session.commit()
    return {"admin": full, "client_id": pending.client_id, "order_id": pending.id}


# --- the requests the app answers -----------------------------------------------------------------

@dataclass
class Case:
    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)  # query (GET) or form (POST) fields
    endpoint: str = ""
    anonymous: bool = False

    @property
    def key(self):
        return (self.method, self.path, tuple(sorted({name for name, _ in self.params})))


class _PageParser(HTMLParser):
    """Forms (action, method, fields with their values) and links of a page."""

    def __init__(self):
        super().__init__()
        self.forms, self.links, self._form, self._select, self._textarea = [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").upper(),
                          "fields": []}
            self.forms.append(self._form)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif self._form is not None and a.get("name"):
            if tag == "input" and a.get("type") not in ("submit", "button", "file", "image"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    value = a.get("value") or "1"
                else:
                    value = a.get("value") or ""
                self._form["fields"].append((a["name"], value))
            elif tag == "select":
                self._select = [a["name"], None]
            elif tag == "textarea":
                self._textarea = [a["name"], ""]
        if tag == "option" and self._select is not None and self._select[1] is None:
            self._select[1] = a.get("value") or ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if self._form is not None:
                self._form["fields"].append((self._select[0], self._select[1] or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form["fields"].append(tuple(self._textarea))
            self._textarea = None


def admin_views(app) -> dict:
    return {view.endpoint: view for admin in app.extensions["admin"] for view in admin._views}


def _fill_rule(rule, values: dict) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(values.get(arg, "1")), path)
    return path


def discover(app, client, seeded: dict) -> list[Case]:
    """Every request to fuzz or crawl, as a signed-in Full Administrator sees the app."""
    views = admin_views(app)
    cases: dict = {}

    def add(case: Case):
        if case.endpoint != "auth.logout":  # signing the crawler out ends the crawl (tested apart)
            cases.setdefault(case.key, case)

    pages = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if endpoint.endswith("static") or endpoint.startswith("rq_dashboard.") or endpoint == "auth.logout":
            continue
        blueprint, _, name = endpoint.partition(".")
        view = views.get(blueprint)
        values = {"client_id": seeded["client_id"], "export_type": "csv"}
        path = _fill_rule(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            params = _conventional_params(view, name, seeded)
            add(Case(method, path, params, endpoint))
            if method == "GET" and endpoint != "auth.login":
                pages.append((path, params, endpoint))
    for path, params, _ in pages:  # the forms and links the pages themselves offer
        response = client.get(path, query_string=MultiDict(params))
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        parser = _PageParser()
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            target = urlsplit(form["action"] or path)
            if target.netloc or not (target.path or path).startswith("/admin"):
                continue
            fields = form["fields"]
            if form["method"] == "GET":
                fields = list(parse_qsl(target.query)) + fields
            case_path = target.path or path
            if form["method"] == "POST" and target.query:
                case_path += "?" + target.query
            add(Case(form["method"], case_path, fields, _endpoint_of(app, target.path or path)))
        for link in parser.links:
            target = urlsplit(link)
            if target.netloc or not target.path.startswith("/admin") or not target.query:
                continue
            add(Case("GET", target.path, parse_qsl(target.query), _endpoint_of(app, target.path)))
    add(Case("GET", "/admin/login/", [("next", "/admin/orders/")], "auth.login", anonymous=True))
    add(Case("POST", "/admin/login/?next=/admin/", [("email", "nobody@example.com"), ("password", "wrong")],
             "auth.login", anonymous=True))
    return list(cases.values())


def _endpoint_of(app, path: str) -> str:
    try:
        return app.url_map.bind("localhost").match(path, method="GET")[0]
    except Exception:  # noqa: BLE001 - a POST-only rule, or none: look again by POST
        try:
            return app.url_map.bind("localhost").match(path, method="POST")[0]
        except Exception:  # noqa: BLE001
            return ""


def _conventional_params(view, name: str, seeded: dict) -> list[tuple[str, str]]:
    """Flask-Admin's own parameters for its standard endpoints."""
    if view is None or not hasattr(view, "get_pk_value"):
        return [("q", "ada")] if name == "index" else []
    first = db.session.scalar(select(view.model).limit(1))
    row_id = str(view.get_pk_value(first)) if first is not None else "1"
    if name == "index_view":
        params = [("search", "ada"), ("page", "1"), ("sort", "0"), ("desc", "1"), ("page_size", "50")]
        params += [(f"flt{i}_{key}", "1") for i, key in enumerate(sorted(view._filter_args or {}))]
        return params
    if name in ("details_view", "edit_view"):
        return [("id", row_id), ("url", "/admin/")]
    if name == "delete_view":
        return [("id", row_id), ("url", "/admin/")]
    if name == "action_view":
        actions = sorted(view._actions_data) or ["delete"]
        return [("action", actions[0]), ("rowid", row_id), ("url", "/admin/")]
    if name == "ajax_lookup":
        refs = sorted(view._form_ajax_refs or {}) or ["none"]
        return [("name", refs[0]), ("query", "a"), ("offset", "0"), ("limit", "10")]
    if name == "create_view":
        return [("url", "/admin/")]
    return []


# --- snapshots ----------------------------------------------------------------------------------------

def snapshot() -> dict:
    db.session.rollback()  # what is committed; and no lock of ours in the way
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            order = list(table.primary_key.columns)
            query = select(table).order_by(*order)
            if table.name == "order_events":
                query = query.where(table.c.verb.not_in(REFUSAL_RECORDS))
            rows[table.name] = [tuple(r) for r in conn.execute(query)]
    return rows


def restore(seed_rows: dict) -> None:
    """Back to the seeded rows (sessions included: the caller signs its clients in again)."""
    db.session.rollback()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        # The triggers on orders count the rows put back: the counters go back to the snapshot after.
        counted = [t for t in db.metadata.sorted_tables if t.name == "order_status_counts"]
        for table in [t for t in db.metadata.sorted_tables if t.name != "order_status_counts"] + counted:
            if table in counted:
                conn.execute(table.delete())
            rows = seed_rows.get(table.name)
            if rows:
                names = table.columns.keys()
                conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        if conn.dialect.name == "postgresql":
            for table in db.metadata.sorted_tables:
                if "id" in table.c and seed_rows.get(table.name):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"(SELECT max(id) FROM {table.name}))"))
