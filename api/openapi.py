"""The OpenAPI 3.1 description of /includes/api.php and the reference part of docs/api.md, both
generated from the action registry the endpoint dispatches through (api.registry.ACTIONS).

One operation (POST /includes/api.php) whose form body is one of the actions' request schemas,
told apart by `action`; each schema lists the action's parameters, and `x-permissions` /
`x-errors` its permissions and error messages. Regenerate the docs with
    .venv/bin/python -m api.openapi docs/api.md
"""

import sys
from pathlib import Path

from api import load_actions
from api.errors import AUTHENTICATION_FAILED, INVALID_CREDENTIALS, invalid_ip, not_permitted, unknown_action
from api.registry import (
    ACTIONS,
    BOOL,
    BOOL_ARRAY,
    COMMON_PARAMS,
    FLOAT,
    FLOAT_ARRAY,
    INT,
    INT_ARRAY,
    KEYED,
    STRING,
    STRING_ARRAY,
    ApiAction,
    Param,
)
from models import Permission

_SCALAR = {
    INT: {"type": "integer"},
    STRING: {"type": "string"},
    BOOL: {"type": "boolean"},
    FLOAT: {"type": "number"},
}
_ARRAY_OF = {INT_ARRAY: INT, STRING_ARRAY: STRING, BOOL_ARRAY: BOOL, FLOAT_ARRAY: FLOAT}
COMMON_ERRORS = (
    AUTHENTICATION_FAILED + " (HTTP 403)",
    INVALID_CREDENTIALS + " (HTTP 403)",
    invalid_ip("<caller ip>") + " (HTTP 403)",
    not_permitted("<action>") + " (HTTP 403)",
    unknown_action("<action>"),
)
BEGIN, END = "<!-- BEGIN GENERATED REFERENCE -->", "<!-- END GENERATED REFERENCE -->"


def _param_schema(param: Param) -> dict:
    if param.type in _SCALAR:
        schema = dict(_SCALAR[param.type])
    elif param.type in _ARRAY_OF:
        schema = {"type": "array", "items": dict(_SCALAR[_ARRAY_OF[param.type]])}
    elif param.type == KEYED:
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
    else:
        raise ValueError(f"Unknown parameter type {param.type}")
    if param.enum:
        target = schema["items"] if "items" in schema else schema
        target["enum"] = list(param.enum)
    description = param.description
    if param.unsupported:
        description += f" Not supported ({param.unsupported}): refused when given."
    schema["description"] = description
    return schema


def _permissions(action: ApiAction) -> list[str]:
    return [Permission.API_ACCESS.value, *[str(p) for p in action.permissions]]


def _request_schema(action: ApiAction) -> dict:
    properties = {"action": {"type": "string", "const": action.name, "description": "The action (any case)."}}
    for param in (*COMMON_PARAMS[1:], *action.params):
        properties[param.name] = _param_schema(param)
    required = ["action", *[p.name for p in action.params if p.required]]
    return {
        "type": "object",
        "title": action.name,
        "description": f"{action.summary} {action.notes}".strip(),
        "properties": properties,
        "required": required,
        "x-permissions": _permissions(action),
        "x-errors": list(action.errors),
    }


def _response_schema(action: ApiAction) -> dict:
    return {
        "type": "object",
        "title": f"{action.name} result",
        "properties": {"result": {"type": "string", "const": "success"}, **action.response},
        "required": ["result", *action.response],
    }


ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "properties": {
        "result": {"type": "string", "const": "error"},
        "message": {"type": "string", "minLength": 1},
    },
    "required": ["result", "message"],
}


def openapi_spec() -> dict:
    load_actions()
    actions = sorted(ACTIONS.values(), key=lambda a: a.name)
    schemas = {"Error": ERROR_SCHEMA}
    for action in actions:
        schemas[f"{action.name}Request"] = _request_schema(action)
        schemas[f"{action.name}Result"] = _response_schema(action)

    def ref(name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    error = {"content": {"application/json": {"schema": ref("Error")}}}
    keyed = {p.name for a in actions for p in a.params if p.type == KEYED}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Orderdesk WHMCS-compatible API",
            "version": "1",
            "description": "WHMCS's /includes/api.php: form parameters (query string and body), "
            "action names in any case, always a JSON answer. See docs/api.md.",
        },
        "paths": {
            "/includes/api.php": {
                "post": {
                    "operationId": "call",
                    "summary": "Run one action",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "oneOf": [ref(f"{a.name}Request") for a in actions],
                                    "discriminator": {
                                        "propertyName": "action",
                                        "mapping": {
                                            a.name: f"#/components/schemas/{a.name}Request" for a in actions
                                        },
                                    },
                                },
                                "encoding": {
                                    name: {"style": "deepObject", "explode": True} for name in sorted(keyed)
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "result=success with the action's fields, or result=error with a "
                            "business or validation message.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "anyOf": [*[ref(f"{a.name}Result") for a in actions], ref("Error")]
                                    }
                                }
                            },
                        },
                        "403": {"description": "Authentication, IP or permission refused.", **error},
                        "405": {"description": "Not a POST.", **error},
                        "413": {"description": "Body too large.", **error},
                        "429": {"description": "Too many failed logins from this IP.", **error},
                    },
                }
            }
        },
        "components": {"schemas": schemas},
        "x-common-errors": list(COMMON_ERRORS),
    }


def _type_label(param: Param) -> str:
    return {KEYED: "keyed array"}.get(param.type, param.type)


def markdown_reference() -> str:
    load_actions()
    lines = [
        BEGIN,
        "",
        "Generated from the action registry (`.venv/bin/python -m api.openapi docs/api.md`); "
        "`tests/test_api_spec.py` fails when it is out of date.",
        "",
    ]
    lines += ["Every action may also fail with: " + "; ".join(f"`{e}`" for e in COMMON_ERRORS) + ".", ""]
    for action in sorted(ACTIONS.values(), key=lambda a: a.name):
        lines += [
            f"### {action.name}",
            "",
            action.summary,
            "",
            "Permissions: " + ", ".join(_permissions(action)) + ".",
            "",
        ]
        if action.notes:
            lines += [action.notes, ""]
        if action.params:
            lines += ["| Parameter | Type | Required | Description |", "|---|---|---|---|"]
            for param in action.params:
                description = param.description + (
                    f" **Not supported** ({param.unsupported}): refused when given."
                    if param.unsupported
                    else ""
                )
                lines.append(
                    f"| `{param.name}` | {_type_label(param)} | {'yes' if param.required else ''} | "
                    f"{description} |"
                )
            lines.append("")
        if action.response:
            lines += ["Response fields: " + ", ".join(f"`{name}`" for name in action.response) + ".", ""]
        if action.errors:
            lines += ["Errors: " + "; ".join(f"`{e}`" for e in action.errors) + ".", ""]
    lines.append(END)
    return "\n".join(lines)


def update_markdown(path: Path) -> None:
    text = path.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + markdown_reference() + text[end:])


if __name__ == "__main__":
    update_markdown(Path(sys.argv[1]))
