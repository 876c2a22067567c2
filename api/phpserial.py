"""A strict, bounded decoder for base64 + PHP-serialized values (customfields, configoptions,
domainfields): `base64_encode(serialize(array(1 => "Google")))` -> {1: "Google"}.

Only data: arrays (a), integers (i), floats (d, returned as their text, never rounded through a
binary float), strings (s, UTF-8), booleans (b) and null (N). Objects (O, C), enums (E) and
references (r, R) are refused, so nothing is ever instantiated. Input is bounded in size, nesting
and element count; anything malformed raises SerializedValueError with a short reason.

Why not a library: the PyPI ports (phpserialize 1.3, 2012, and its forks) are unmaintained, decode
objects into instances by default and recurse without a depth bound.
"""

import base64
import binascii
import re

MAX_ENCODED_LENGTH = 65_536  # characters of base64
MAX_DEPTH = 8
MAX_ELEMENTS = 1_000  # array entries in the whole value
MAX_INT = 2**63 - 1  # PHP_INT_MAX on 64-bit

_INT = re.compile(rb"[+-]?\d{1,19}")
_FLOAT = re.compile(rb"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
_LENGTH = re.compile(rb"\d{1,9}")


class SerializedValueError(ValueError):
    pass


def decode_base64_serialized(encoded: str):
    """The PHP value inside `encoded`; SerializedValueError when it is not exactly one valid value."""
    if len(encoded) > MAX_ENCODED_LENGTH:
        raise SerializedValueError(f"longer than {MAX_ENCODED_LENGTH:,} characters")
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SerializedValueError("not valid base64") from None
    return unserialize(raw)


def unserialize(raw: bytes):
    parser = _Parser(raw)
    value = parser.value(0)
    if parser.pos != len(raw):
        raise SerializedValueError("unexpected data after the value")
    return value


class _Parser:
    def __init__(self, raw: bytes):
        self.raw = raw
        self.pos = 0
        self.elements = 0

    def _fail(self, reason: str):
        raise SerializedValueError(f"{reason} at byte {self.pos}")

    def _expect(self, token: bytes) -> None:
        if self.raw[self.pos : self.pos + len(token)] != token:
            self._fail(f"expected {token.decode()!r}")
        self.pos += len(token)

    def _until(self, end: bytes, pattern: re.Pattern) -> bytes:
        stop = self.raw.find(end, self.pos, self.pos + 400)
        if stop < 0:
            self._fail(f"expected {end.decode()!r}")
        token = self.raw[self.pos : stop]
        if not pattern.fullmatch(token):
            self._fail("malformed number")
        self.pos = stop + len(end)
        return token

    def value(self, depth: int):
        kind = self.raw[self.pos : self.pos + 1]
        if kind == b"N":
            self._expect(b"N;")
            return None
        if kind in (b"O", b"C", b"E"):
            self._fail("objects are not allowed")
        if kind in (b"r", b"R"):
            self._fail("references are not allowed")
        if not kind:
            self._fail("expected a value")
        self._expect(kind + b":")
        if kind == b"b":
            flag = self.raw[self.pos : self.pos + 2]
            if flag not in (b"0;", b"1;"):
                self._fail("malformed boolean")
            self.pos += 2
            return flag == b"1;"
        if kind == b"i":
            number = int(self._until(b";", _INT))
            if abs(number) > MAX_INT:
                self._fail("integer out of range")
            return number
        if kind == b"d":
            return self._until(b";", _FLOAT).decode("ascii")
        if kind == b"s":
            return self._string()
        if kind == b"a":
            return self._array(depth)
        self._fail(f"unsupported type {kind.decode(errors='replace')!r}")

    def _string(self) -> str:
        length = int(self._until(b":", _LENGTH))
        self._expect(b'"')
        end = self.pos + length
        if end > len(self.raw):
            self._fail("string shorter than its length")
        chunk = self.raw[self.pos : end]
        self.pos = end
        self._expect(b'";')
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError:
            self._fail("string is not UTF-8")

    def _array(self, depth: int) -> dict:
        if depth >= MAX_DEPTH:
            self._fail(f"nested deeper than {MAX_DEPTH} levels")
        count = int(self._until(b":", _LENGTH))
        self.elements += count
        if self.elements > MAX_ELEMENTS:
            self._fail(f"more than {MAX_ELEMENTS:,} elements")
        self._expect(b"{")
        result: dict = {}
        for _ in range(count):
            key_kind = self.raw[self.pos : self.pos + 1]
            if key_kind not in (b"i", b"s"):
                self._fail("array keys must be integers or strings")
            key = self.value(depth + 1)
            if key in result:
                self._fail("duplicate array key")
            result[key] = self.value(depth + 1)
        self._expect(b"}")
        return result
