"""The action registry: every API action, its parameters, response fields, errors and permissions.

The endpoint dispatches through ACTIONS and the OpenAPI description (api/openapi.py) is generated
from it, so the two cannot drift; in TESTING the endpoint also refuses a handler that reads a
parameter its entry does not declare.

    @api_action("GetOrders", permissions=(...), params=(Param(...), ...), response={...}, errors=(...))
    def get_orders(call: Call) -> dict: ...
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from api.auth import Caller
from api.params import Params

# Parameter types, as the docs and the spec name them.
INT, STRING, BOOL, FLOAT = "int", "string", "bool", "float"
INT_ARRAY, STRING_ARRAY, BOOL_ARRAY, FLOAT_ARRAY = "int[]", "string[]", "bool[]", "float[]"
KEYED = "keyed"  # name[key]=value


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    # A WHMCS parameter Orderdesk cannot honour yet: refused with this reason when it carries a value.
    unsupported: str = ""


@dataclass
class Call:
    """One API call as a handler sees it."""

    session: Session
    params: Params
    caller: Caller
    remote_addr: str
    config: dict
    order_id: int | None = None  # the order the call was about, for the API log


@dataclass(frozen=True)
class ApiAction:
    name: str
    summary: str
    handler: Callable[[Call], dict]
    permissions: tuple[str, ...]
    params: tuple[Param, ...]
    response: dict  # field -> JSON schema
    errors: tuple[str, ...]
    notes: str = ""
    declared: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return self.name.lower()


ACTIONS: dict[str, ApiAction] = {}

# Read by the endpoint itself on every call, so every action "declares" them.
COMMON_PARAMS = (
    Param("action", STRING, "The action name; case-insensitive.", required=True),
    Param("identifier", STRING, "API credential identifier (or pass it as `username`)."),
    Param("secret", STRING, "API credential secret (or pass it as `password`)."),
    Param("username", STRING, "A credential identifier, or an admin's email for the legacy login."),
    Param("password", STRING, "A credential secret, or md5 (hex) of the admin's legacy API password."),
    Param("accesskey", STRING, "API_ACCESS_KEY: skips the IP allow-list."),
    Param("responsetype", STRING, "Ignored: the answer is always JSON."),
)


def api_action(
    name: str,
    *,
    summary: str,
    permissions: tuple[str, ...],
    params: tuple[Param, ...] = (),
    response: dict | None = None,
    errors: tuple[str, ...] = (),
    notes: str = "",
):
    def register(handler: Callable[[Call], dict]) -> Callable[[Call], dict]:
        declared = frozenset(p.name for p in (*COMMON_PARAMS, *params))
        action = ApiAction(
            name, summary, handler, tuple(permissions), params, response or {}, errors, notes, declared
        )
        if action.key in ACTIONS:
            raise ValueError(f"API action {name} is registered twice")
        ACTIONS[action.key] = action
        return handler

    return register


# --- JSON schema helpers for response fields -----------------------------------------------------


def integer(description: str) -> dict:
    return {"type": "integer", "description": description}


def string(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}


def boolean(description: str) -> dict:
    return {"type": "boolean", "description": description}


def money(description: str) -> dict:
    return {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": description + ' ("8.00")'}


def obj(description: str, properties: dict | None = None) -> dict:
    schema = {"type": "object", "description": description}
    if properties:
        schema["properties"] = properties
    return schema


def collection(description: str, item: str, fields: dict, empty_string: bool = True) -> dict:
    """WHMCS's wrapped list: {"orders": {"order": [...]}}, or "" when empty (as live WHMCS does)."""
    wrapped = {
        "type": "object",
        "properties": {item: {"type": "array", "items": {"type": "object", "properties": fields}}},
    }
    if not empty_string:
        return {**wrapped, "description": description}
    return {
        "description": description + ' ("" when empty)',
        "oneOf": [wrapped, {"type": "string", "enum": [""]}],
    }


PAGE_FIELDS = {
    "totalresults": integer("How many match, in all."),
    "startnumber": integer("The offset of this page (limitstart)."),
    "numreturned": integer("How many are in this page."),
}
PAGE_PARAMS = (
    Param("limitstart", INT, "Offset of the first result (default 0)."),
    Param("limitnum", INT, "Results per page (default 25, at most 1,000)."),
)
