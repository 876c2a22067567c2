"""Bad input never answers 500: random parameters, encodings and serialized blobs at every action.

A property-based test (hypothesis, fixed example budget, derandomized) builds calls from the action
registry, and schemathesis generates bodies from the served OpenAPI description. Every answer must
be JSON with result success or error (an error with a message); a refused call must leave every
table as it was (the API log excepted: it records every call by design).
"""

import base64
import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from api.registry import ACTIONS, BOOL, BOOL_ARRAY, FLOAT, FLOAT_ARRAY, INT, INT_ARRAY, KEYED
from extensions import db
from models import Invoice
from tests import factories
from tests.api_support import (  # noqa: F401
    API,
    INVOICE_API_PERMISSIONS,
    ensure_gateway,
    fresh_throttle,
    make_credential,
    snapshot,
)

EXAMPLES = 120
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _php(value) -> bytes:
    if isinstance(value, bool):
        return b"b:%d;" % value
    if isinstance(value, int):
        return b"i:%d;" % value
    if isinstance(value, str):
        raw = value.encode()
        return b's:%d:"%s";' % (len(raw), raw)
    if isinstance(value, dict):
        return b"a:%d:{%s}" % (len(value), b"".join(_php(k) + _php(v) for k, v in value.items()))
    return b"N;"


php_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: st.dictionaries(st.integers(0, 5) | st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
blobs = st.one_of(
    php_values.map(lambda v: base64.b64encode(_php(v)).decode()),
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    st.sampled_from(
        ["YToxOntpOjE7czo2OiJHb29nbGUiO30=", "Tzo4OiJzdGRDbGFzcyI6MDp7fQ==", "YTowOnt9", "%%%", ""]
    ),
)
words = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "True",
            "False",
            "yes",
            "maybe",
            "1e9",
            "99999999999999999999",
            "2147483648",
            "12.345",
            "NaN",
            "monthly",
            "free",
            "register",
            "transfer",
            "Pending",
            "a\x00b",
            "line\r\nbreak",
            "x" * 300,
            "shop.com",
            "127.0.0.1",
            "banktransfer",
            "2020-02-29",
            "2020-02-30 10:00:00",
            "2999-01-01",
            "Paid",
            "Cancelled",
        ]
    ),
    st.integers(-(2**64), 2**64).map(str),
)


def _value_for(kind: str):
    if kind in (INT, INT_ARRAY):
        return st.one_of(st.integers(-3, 40).map(str), words)
    if kind in (BOOL, BOOL_ARRAY):
        return st.one_of(st.sampled_from(["1", "0", "True", "False", "on", ""]), words)
    if kind in (FLOAT, FLOAT_ARRAY):
        return st.one_of(st.decimals(-1000, 1000, places=3, allow_nan=False).map(str), words)
    return st.one_of(words, blobs)


@st.composite
def calls(draw, names=None):
    names = names or sorted(ACTIONS)
    action = draw(st.sampled_from(names) | st.text(max_size=10))
    spec = ACTIONS.get(action)
    pairs = [("action", draw(st.sampled_from([action, action.upper()])))]
    params = spec.params if spec else ()
    for param in (
        draw(st.lists(st.sampled_from(params), max_size=6, unique_by=lambda p: p.name)) if params else []
    ):
        value = _value_for(param.type)
        if param.type.endswith("[]") or param.type == KEYED:
            style = draw(st.sampled_from(["indexed", "append", "repeat", "keyed", "nested"]))
            items = draw(st.lists(value, min_size=1, max_size=3))
            for i, item in enumerate(items):
                name = {
                    "indexed": f"{param.name}[{i}]",
                    "append": f"{param.name}[]",
                    "repeat": param.name,
                    "keyed": f"{param.name}[k{i}]",
                    "nested": f"{param.name}[{i}][x]",
                }[style]
                pairs.append((name, item))
        else:
            pairs.append((param.name, draw(value)))
    if draw(st.booleans()):
        pairs.append(
            (draw(st.sampled_from(["pid[", "[x]", "a]b", "pid[0][1][2][3][4][5]", "id"])), draw(words))
        )
    return pairs


@pytest.fixture
def fuzz_api(app_ctx):
    app_ctx.config["API_AUTH_FAILURE_LIMIT"] = "100000 per minute"
    ensure_gateway()
    client = factories.make_client()
    product = factories.make_product()
    factories.make_tld(".com")
    factories.make_order(client=client, product=product)
    credential, secret = make_credential(INVOICE_API_PERMISSIONS)
    db.session.commit()
    yield app_ctx.test_client(), credential.identifier, secret
    app_ctx.config["API_AUTH_FAILURE_LIMIT"] = "10 per minute"


def check_answer(response, before):
    assert response.status_code != 500, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.get_json()
    assert body["result"] in ("success", "error")
    if body["result"] == "error":
        assert isinstance(body["message"], str) and body["message"]
        assert snapshot() == before, f"refused call changed the database: {body['message']}"
    else:
        assert response.status_code == 200


@FUZZ
@given(pairs=calls())
def test_random_calls_never_fail_and_refusals_change_nothing(fuzz_api, pairs):
    client, identifier, secret = fuzz_api
    before = snapshot()
    response = client.post(API, data=MultiDict([("identifier", identifier), ("secret", secret), *pairs]))
    check_answer(response, before)


INVOICE_ACTIONS = ["addinvoicepayment", "updateinvoice", "capturepayment"]


@FUZZ
@given(pairs=calls(names=INVOICE_ACTIONS))
def test_random_invoice_calls_never_fail_and_refusals_change_nothing(fuzz_api, pairs):
    """The invoice actions on the fixture's invoice (its id in the query string: a drawn invoiceid in
    the body wins) and on ids that do not exist: payments, line edits and captures that are refused
    leave everything as it was."""
    client, identifier, secret = fuzz_api
    invoice_id = db.session.scalar(select(func.min(Invoice.id)))
    before = snapshot()
    response = client.post(
        API,
        data=MultiDict([("identifier", identifier), ("secret", secret), *pairs]),
        query_string={"invoiceid": str(invoice_id)},
    )
    check_answer(response, before)


schemathesis = pytest.importorskip("schemathesis")


@functools.cache
def _operation_strategy():
    """Cases generated by schemathesis from the spec the endpoint serves (one operation: POST
    /includes/api.php, its body one of the actions' request schemas)."""
    from api.openapi import openapi_spec

    schema = schemathesis.openapi.from_dict(openapi_spec())
    operation = next(iter(schema.get_all_operations())).ok()
    return operation.as_strategy()


@FUZZ
@given(data=st.data())
def test_schemathesis_against_the_served_spec(fuzz_api, data):
    client, identifier, secret = fuzz_api
    assert client.get("/includes/api.openapi.json").get_json() == _served_spec()
    case = data.draw(_operation_strategy())
    body = case.body if isinstance(case.body, dict) else {"raw": case.body}
    body = {**body, "identifier": identifier, "secret": secret}
    before = snapshot()
    response = client.post(API, data=MultiDict(_form_pairs(body)), query_string=case.query or {})
    check_answer(response, before)


def _served_spec():
    from api.openapi import openapi_spec

    return openapi_spec()


def _form_pairs(body) -> list[tuple[str, str]]:
    """The generated body as a form, arrays as repeated names and objects as name[key]."""
    if not isinstance(body, dict):
        return [("raw", str(body))]
    pairs = []
    for name, value in body.items():
        items = value.items() if isinstance(value, dict) else None
        if items is not None:
            pairs += [(f"{name}[{k}]", _text(v)) for k, v in items]
        elif isinstance(value, list):
            pairs += [(name, _text(v)) for v in value]
        else:
            pairs.append((name, _text(value)))
    return pairs


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
