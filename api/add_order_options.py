"""AddOrder's configoptions[k]: base64 of a PHP-serialized array option id => choice id (dropdown,
radio), 0/1 (yes/no) or the quantity, for product k; read into CartProduct.config_options.

Only the shape is checked here; place_order checks the ids and values against the catalog (unknown
option, not the product's, not a choice of it, quantity out of bounds) like every other face's.
"""

from api.errors import ApiError
from api.phpserial import SerializedValueError, decode_base64_serialized


def config_options_of(blob: str, k: int) -> dict:
    if not blob.strip():
        return {}
    try:
        value = decode_base64_serialized(blob)
    except SerializedValueError as exc:
        raise ApiError(f"configoptions[{k}] is not a base64-encoded PHP serialized array ({exc}).") from None
    if not isinstance(value, dict):
        raise ApiError(f"configoptions[{k}] must be a serialized array, not a single value.")
    if any(isinstance(v, dict) for v in value.values()):
        raise ApiError(f"configoptions[{k}]: each option's value must be a choice id or a quantity.")
    return value
