"""WHMCS's `customfields` parameter: base64 of a PHP-serialized array {field id: value}.

    answers_of(blob, name) -> {field id: text}          one decoded value (ApiError when unreadable)
    product_answers(params, keys) -> {k: {id: text}}    AddOrder's customfields[k], per product line
    client_fields_out(client) -> [{"id", "value"}]      GetClientsDetails' customfields

The answers are checked where every face's are (place_order, add_client): an unknown field, a
field of another product, a missing required one or a pattern mismatch is refused there, named as
`customfields[k][<field id>]: <field>: <reason>` (an unknown or another product's field:
`customfields[k]: ...`). Decoding is api.phpserial's bounded, safe parser.
"""

from api.errors import ApiError
from api.params import Params
from api.phpserial import SerializedValueError, decode_base64_serialized
from models import Client
from models.bounds import is_id
from models.custom_fields import MAX_FIELDS_PER_OWNER

MAX_BLOB_LENGTH = 65_536


def answers_of(blob: str, name: str) -> dict[int, str]:
    if not blob.strip():
        return {}
    try:
        value = decode_base64_serialized(blob)
    except SerializedValueError as exc:
        raise ApiError(f"{name} is not a base64-encoded PHP serialized array ({exc}).") from None
    if not isinstance(value, dict):
        raise ApiError(f"{name} must be a serialized array, not a single value.")
    if len(value) > MAX_FIELDS_PER_OWNER:
        raise ApiError(f"{name}: at most {MAX_FIELDS_PER_OWNER} custom fields.")
    answers = {}
    for key, answer in value.items():
        if not is_id(str(key)):
            raise ApiError(f"{name}: {str(key)[:20]!r} is not a custom field id.")
        if isinstance(answer, bool):  # a PHP true/false for a tick box
            answer = "on" if answer else ""
        elif answer is None:
            answer = ""
        elif isinstance(answer, dict):
            raise ApiError(f"{name}[{key}] must be a single value, not an array.")
        answers[int(str(key))] = str(answer)
    return answers


def product_answers(params: Params, keys: list[int]) -> dict[int, dict[int, str]]:
    blobs = params.positional("customfields")
    stray = [k for k in blobs if k not in keys]
    if stray:
        raise ApiError(f"customfields[{stray[0]}] has no matching pid[{stray[0]}].")
    return {k: answers_of(blob, f"customfields[{k}]") for k, blob in blobs.items()}


def client_fields_out(client: Client) -> list[dict]:
    """WHMCS lists each client field as {id, value}; a password field is left out (its answer is
    never sent in clear; WHMCS's own behaviour here is unconfirmed)."""
    return [{"id": v.field_id, "value": v.value}
            for v in sorted(client.custom_field_values, key=lambda v: v.field_id) if not v.field.is_secret]
