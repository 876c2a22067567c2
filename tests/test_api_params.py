"""The PHP-style parameter folding (api/params.py) and the strict PHP-unserialize decoder
(api/phpserial.py), on their own."""

import base64

import pytest

from api.errors import ApiError
from api.params import MAX_FIELDS, Params, fold, parse_flag
from api.phpserial import MAX_DEPTH, SerializedValueError, decode_base64_serialized, unserialize


def test_fold_follows_php():
    assert fold([("pid[0]", "1"), ("pid[1]", "2")]) == {"pid": {0: "1", 1: "2"}}
    assert fold([("pid[]", "a"), ("pid[5]", "b"), ("pid[]", "c")]) == {"pid": {0: "a", 5: "b", 6: "c"}}
    assert fold([("pid", "1"), ("pid", "2")]) == {"pid": {0: "1", 1: "2"}}
    assert fold([("domainrenewals[example.com]", "2")]) == {"domainrenewals": {"example.com": "2"}}
    assert fold([("a[x][y]", "1"), ("a[x][]", "2")]) == {"a": {"x": {"y": "1", 0: "2"}}}
    assert fold([("k[01]", "v"), ("k[-3]", "w")]) == {"k": {"01": "v", -3: "w"}}  # "01" stays a string key
    assert fold([("odd[", "v")]) == {"odd[": "v"}  # no closing bracket: part of the name, as in PHP


@pytest.mark.parametrize(
    "pairs, message",
    [
        ([("[x]", "1")], "has no name before its brackets"),
        ([("pid", "1"), ("pid[0]", "2")], "both as a value and as an array"),
        ([("pid[0]", "1"), ("pid", "2")], "both as a value and as an array"),
        ([("a[1][2][3][4][5][6]", "x")], "nested deeper than 5 levels"),
        ([("na\x00me", "x")], "not allowed"),
        ([(f"p{i}", "x") for i in range(MAX_FIELDS + 1)], "Too many parameters"),
    ],
)
def test_fold_refuses_what_it_cannot_read(pairs, message):
    with pytest.raises(ApiError, match=message):
        fold(pairs)


def test_params_read_strictly():
    p = Params(fold([("n", "12"), ("big", "2147483648"), ("t", "a\x00"), ("arr[0]", "x"), ("s", " text ")]))
    assert p.id("n") == 12 and p.text("s") == "text"
    with pytest.raises(ApiError, match="big must be between 1 and 2,147,483,647"):
        p.id("big")
    with pytest.raises(ApiError, match="t contains characters that are not allowed"):
        p.text("t")
    with pytest.raises(ApiError, match="must be a single value, not an array"):
        p.text("arr")
    assert p.positional("arr") == {0: "x"} and p.array("n") == {0: "12"} and p.array("missing") == {}
    with pytest.raises(ApiError, match="indexed by numbers"):
        Params(fold([("pid[x]", "1")])).positional("pid")
    assert p.read >= {"n", "big", "t", "arr", "s", "missing"}


@pytest.mark.parametrize(
    "word, value",
    [
        ("1", True),
        ("TRUE", True),
        ("On", True),
        ("yes", True),
        ("", False),
        ("0", False),
        ("False", False),
        ("off", False),
        ("NO", False),
    ],
)
def test_flags(word, value):
    assert parse_flag(word, "x") is value


def test_flag_refuses_other_words():
    with pytest.raises(ApiError, match="x must be true or false"):
        parse_flag("2", "x")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_unserialize_data():
    assert decode_base64_serialized("YToxOntpOjE7czo2OiJHb29nbGUiO30=") == {1: "Google"}
    assert decode_base64_serialized("YToxOntpOjE7aTo5OTk7fQ==") == {1: 999}
    assert unserialize(b'a:4:{s:1:"a";d:1.50;i:-2;b:0;i:3;N;s:2:"\xc3\xa9";s:3:"x;y";}') == {
        "a": "1.50",
        -2: False,
        3: None,
        "é": "x;y",
    }
    assert unserialize(b"a:0:{}") == {}


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b'O:8:"stdClass":0:{}', "objects are not allowed"),
        (b'C:3:"Foo":0:{}', "objects are not allowed"),
        (b'E:7:"Foo:Bar";', "objects are not allowed"),
        (b"a:2:{i:0;i:1;i:1;R:2;}", "references are not allowed"),
        (b"a:1:{i:0;r:1;}", "references are not allowed"),
        (b's:10:"short";', "string shorter than its length"),
        (b"i:99999999999999999999;", "malformed number"),
        (b"i:9223372036854775808;", "integer out of range"),
        (b"a:1:{a:0:{}i:1;}", "array keys must be integers or strings"),
        (b"a:2:{i:0;i:1;i:0;i:2;}", "duplicate array key"),
        (b"a:1:{i:0;i:1;", "expected '}'"),
        (b"i:1;junk", "unexpected data after the value"),
        (b"b:2;", "malformed boolean"),
        (b"d:1e999999;", "malformed number"),
        (b's:1:"\xff";', "not UTF-8"),
        (b"x:1;", "unsupported type"),
        (b"", "expected a value"),
        (b"a:1:{i:0;" * (MAX_DEPTH + 1) + b"N;" + b"}" * (MAX_DEPTH + 1), "nested deeper than"),
        (b"a:1001:{" + b"".join(b"i:%d;N;" % i for i in range(1001)) + b"}", "more than 1,000 elements"),
    ],
)
def test_unserialize_refuses(raw, reason):
    with pytest.raises(SerializedValueError, match=reason):
        unserialize(raw)


def test_base64_and_size_bounds():
    with pytest.raises(SerializedValueError, match="not valid base64"):
        decode_base64_serialized("not base64!")
    with pytest.raises(SerializedValueError, match="longer than"):
        decode_base64_serialized("A" * 70_000)
    assert decode_base64_serialized(_b64(b'a:1:{i:1;s:0:"";}')) == {1: ""}
