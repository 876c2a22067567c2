"""Request parameters as PHP's $_REQUEST would see them, read strictly through models.bounds.

    params = read_request(request)          # query string + body, the body winning per name
    params.text("paymentmethod", max_length=100)
    params.id("orderid"), params.flag("noemail"), params.positional("pid")

Arrays arrive three ways and all mean the same: `pid[0]=1&pid[1]=2`, `pid[]=1&pid[]=2` and a
repeated `pid=1&pid=2`; a single `pid=1` is a one-element array. Keyed arrays keep their keys
(`domainrenewals[example.com]=2`), nested brackets nest (`a[x][y]=1`), as PHP folds them.
Every problem is an ApiError with a message naming the parameter; nothing here is silently dropped.
"""

import urllib.parse

from flask import Request

from api.errors import ApiError
from models.bounds import InvalidInput, clean_text, has_forbidden_characters, parse_id, parse_int, parse_money

MAX_FIELDS = 2000  # PHP's max_input_vars is 1000 by default
MAX_NESTING = 5
MAX_NAME_LENGTH = 200
MAX_VALUE_LENGTH = 65_536

TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"", "0", "false", "off", "no"})

# A value: a string, or an array (dict keyed by int or str, in the order PHP would keep).
Value = str | dict


def _split_name(name: str) -> tuple[str, list[str]] | None:
    """'pid[0][x]' -> ('pid', ['0', 'x']); 'pid' -> ('pid', []). PHP's rules: the base ends at the
    first '['; each '[...]' after it is one level; a '[' with no ']' is part of the base."""
    open_at = name.find("[")
    if open_at <= 0:
        return (name, []) if open_at != 0 else None
    base, rest, keys = name[:open_at], name[open_at:], []
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            break
        keys.append(rest[1:close])
        rest = rest[close + 1 :]
    if not keys:
        return name, []
    return base, keys


def _php_key(key: str) -> int | str:
    """PHP turns decimal integer keys (no leading zero, no plus) into ints."""
    if key.isascii() and key.isdigit() and (key == "0" or not key.startswith("0")) and len(key) < 19:
        return int(key)
    if key.startswith("-") and key[1:].isascii() and key[1:].isdigit() and not key[1:].startswith("0"):
        return int(key)
    return key


def _append(array: dict, value) -> None:
    ints = [k for k in array if isinstance(k, int)]
    array[max(ints) + 1 if ints else 0] = value


def fold(pairs: list[tuple[str, str]]) -> dict[str, Value]:
    """One source's (name, value) pairs in order -> parameters by base name."""
    if len(pairs) > MAX_FIELDS:
        raise ApiError(f"Too many parameters: at most {MAX_FIELDS:,} are accepted.")
    folded: dict[str, Value] = {}
    bare_repeats: set[str] = set()
    for name, value in pairs:
        if not name or len(name) > MAX_NAME_LENGTH or has_forbidden_characters(name):
            raise ApiError("A parameter name is empty, too long or contains characters that are not allowed.")
        if len(value) > MAX_VALUE_LENGTH:
            raise ApiError(f"Parameter {name[:60]} is longer than {MAX_VALUE_LENGTH:,} characters.")
        split = _split_name(name)
        if split is None:
            raise ApiError(f"Parameter name {name[:60]} has no name before its brackets.")
        base, keys = split
        if len(keys) > MAX_NESTING:
            raise ApiError(f"Parameter {base[:60]} is nested deeper than {MAX_NESTING} levels.")
        current = folded.get(base)
        if not keys:
            if current is None:
                folded[base] = value
            elif isinstance(current, str) or base in bare_repeats:
                # A repeated plain name is an array (what form encoders send for a list).
                if isinstance(current, str):
                    folded[base] = {0: current}
                    bare_repeats.add(base)
                _append(folded[base], value)
            else:
                raise ApiError(f"Parameter {base[:60]} is given both as a value and as an array.")
            continue
        if isinstance(current, str) or base in bare_repeats:
            raise ApiError(f"Parameter {base[:60]} is given both as a value and as an array.")
        node = folded.setdefault(base, {})
        for depth, key in enumerate(keys):
            last = depth == len(keys) - 1
            if key == "":
                if last:
                    _append(node, value)
                    break
                child: dict = {}
                _append(node, child)
                node = child
                continue
            php_key = _php_key(key)
            if last:
                node[php_key] = value
            else:
                child = node.get(php_key)
                if not isinstance(child, dict):
                    child = node[php_key] = {}
                node = child
    return folded


def _pairs(raw: bytes, what: str) -> list[tuple[str, str]]:
    try:
        text = raw.decode("utf-8")
        return urllib.parse.parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, UnicodeDecodeError) or "utf-8" in str(exc).lower():
            raise ApiError(f"The {what} is not valid URL-encoded UTF-8.") from None
        raise ApiError(f"Too many parameters: at most {MAX_FIELDS:,} are accepted.") from None


def read_request(request: Request) -> "Params":
    """The query string and the body (form-urlencoded or multipart), the body winning per name as
    PHP's $_REQUEST ("GP") does. A JSON body is not read (no WHMCS client sends one)."""
    query = fold(_pairs(request.query_string, "query string"))
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        try:
            body_pairs = list(request.form.items(multi=True))
        except ValueError:
            raise ApiError("The request body could not be read as multipart/form-data.") from None
        body = fold(body_pairs)
    elif mimetype in ("application/x-www-form-urlencoded", "") and request.content_length != 0:
        body = fold(_pairs(request.get_data(cache=True), "request body"))
    else:
        body = {}
    return Params({**query, **body})


def _what(name: str) -> str:
    return name[:60]


class Params:
    def __init__(self, values: dict[str, Value]):
        self.values = values
        self.read: set[str] = set()  # names a handler asked for (checked against the registry)

    def given(self, name: str) -> bool:
        """Present with something in it (an empty string or an empty array counts as absent)."""
        self.read.add(name)
        value = self.values.get(name)
        return bool(value) if isinstance(value, dict) else bool(value and value.strip())

    def raw(self, name: str) -> str | None:
        self.read.add(name)
        value = self.values.get(name)
        if isinstance(value, dict):
            raise ApiError(f"Parameter {_what(name)} must be a single value, not an array.")
        return value

    def text(self, name: str, *, max_length: int = 255, single_line: bool = True, default: str = "") -> str:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return clean_text(value, max_length=max_length, what=_what(name), single_line=single_line)
        except InvalidInput as exc:
            raise ApiError(exc.message) from None

    def id(self, name: str) -> int | None:
        """An id, or None when absent or empty."""
        value = self.raw(name)
        if value is None or not value.strip():
            return None
        return _parsed(parse_id, value, what=_what(name))

    def int(self, name: str, *, minimum: int, maximum: int, default: int) -> int:
        value = self.raw(name)
        if value is None or not value.strip():
            return default
        return _parsed(parse_int, value, minimum=minimum, maximum=maximum, what=_what(name))

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        """1/0, true/false (any case: Python clients send True/False), on/off, yes/no; empty is
        false. Deliberately not PHP's truthiness, where the string "False" is true (docs/api.md)."""
        value = self.raw(name)
        if value is None:
            return default
        return parse_flag(value, _what(name))

    def array(self, name: str) -> dict:
        """The parameter as an array: a plain value is a one-element array; absent is empty."""
        self.read.add(name)
        value = self.values.get(name)
        if value is None:
            return {}
        return value if isinstance(value, dict) else {0: value}

    def positional(self, name: str) -> dict[int, str]:
        """An array of plain values indexed by numbers (pid[0], pid[], repeated pid)."""
        array = self.array(name)
        for key, value in array.items():
            if not isinstance(key, int):
                raise ApiError(f"Parameter {_what(name)} must be indexed by numbers, not {str(key)[:40]!r}.")
            if isinstance(value, dict):
                raise ApiError(f"Parameter {_what(name)}[{key}] must be a single value, not an array.")
        return array


def parse_flag(value: str, what: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ApiError(f"{what} must be true or false (1/0, true/false, on/off, yes/no).")


def _parsed(parser, value, **kwargs):
    try:
        return parser(value, **kwargs)
    except InvalidInput as exc:
        raise ApiError(exc.message) from None


def item_text(value: str, what: str, max_length: int = 255) -> str:
    try:
        return clean_text(value, max_length=max_length, what=what, single_line=True)
    except InvalidInput as exc:
        raise ApiError(exc.message) from None


def item_money(value: str, what: str, allow_negative: bool = False):
    return _parsed(parse_money, value, what=what, allow_negative=allow_negative)


def item_int(value: str, what: str, minimum: int, maximum: int) -> int:
    return _parsed(parse_int, value, minimum=minimum, maximum=maximum, what=what)
