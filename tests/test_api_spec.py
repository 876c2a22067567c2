"""The OpenAPI description and docs/api.md come from the action registry and stay in step."""

from pathlib import Path

from api import load_actions
from api.openapi import BEGIN, END, markdown_reference, openapi_spec
from api.registry import ACTIONS

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
PHASE_ONE = {
    "AddInvoicePayment",
    "UpdateInvoice",
    "CapturePayment",
    "AddOrder",
    "AcceptOrder",
    "CancelOrder",
    "DeleteOrder",
    "FraudOrder",
    "OrderFraudCheck",
    "PendingOrder",
    "GetOrders",
    "GetOrderStatuses",
    "GetInvoice",
    "GetInvoices",
    "AddClient",
    "GetClients",
    "GetClientsDetails",
    "GetProducts",
    "GetPromotions",
    "GetPaymentMethods",
}


def test_every_action_is_registered_once_with_its_permissions():
    load_actions()
    assert {a.name for a in ACTIONS.values()} == PHASE_ONE
    assert all(a.summary and a.key == a.name.lower() for a in ACTIONS.values())


def test_the_served_spec_lists_every_action_parameter_field_and_error(anon_client):
    spec = anon_client.get("/includes/api.openapi.json").get_json()
    assert spec == openapi_spec() and spec["openapi"] == "3.1.0"
    schemas = spec["components"]["schemas"]
    for action in ACTIONS.values():
        request = schemas[f"{action.name}Request"]
        assert request["properties"]["action"]["const"] == action.name
        assert {p.name for p in action.params} <= set(request["properties"])
        assert request["x-errors"] == list(action.errors)
        assert request["x-permissions"][0] == "API Access"
        assert set(action.response) <= set(schemas[f"{action.name}Result"]["properties"])


def test_docs_reference_is_generated_from_the_registry():
    text = DOCS.read_text()
    generated = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert generated == markdown_reference(), "run: .venv/bin/python -m api.openapi docs/api.md"
