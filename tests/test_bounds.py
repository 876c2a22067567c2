"""models.bounds: the one place ids, amounts, counts and free text are parsed and bounded."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models.bounds import (
    MAX_ID,
    MAX_MONEY,
    InvalidInput,
    clean_text,
    is_id,
    parse_id,
    parse_int,
    parse_money,
    parse_optional_id,
    parse_percentage,
    parse_timestamp,
)

BAD_IDS = ["", " ", "0", "-1", "abc", "1.5", "1e3", str(MAX_ID + 1), "9" * 40, "١٢", "\x00"]


@pytest.mark.parametrize("raw", BAD_IDS)
def test_bad_ids_are_refused_with_a_message(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_id(raw, "Order id")
    assert "Order id" in refused.value.message
    assert not is_id(raw)


def test_ids_within_the_column():
    assert parse_id(" 42 ") == 42 and parse_id(str(MAX_ID)) == MAX_ID
    assert parse_optional_id("") is None and parse_optional_id("7") == 7


@pytest.mark.parametrize("raw", ["1e20", "12.345", "-1", "NaN", "Infinity", "abc", "", str(MAX_MONEY + 1)])
def test_bad_amounts_are_refused(raw):
    with pytest.raises(InvalidInput):
        parse_money(raw)


def test_amounts_are_exact_decimals():
    assert parse_money("12.3") == Decimal("12.30")
    assert parse_money(str(MAX_MONEY)) == MAX_MONEY
    assert parse_money("-5.00", allow_negative=True) == Decimal("-5.00")
    assert parse_percentage("100") == Decimal("100.00")
    with pytest.raises(InvalidInput):
        parse_percentage("1000")


def test_counts_are_bounded():
    assert parse_int("10", minimum=1, maximum=10) == 10
    for raw in ("11", "0", "10" * 10):
        with pytest.raises(InvalidInput):
            parse_int(raw, minimum=1, maximum=10, what="Years")


def test_text_refuses_nul_and_control_characters():
    assert clean_text(" a\tb\r\nc ", max_length=10) == "a\tb\r\nc"
    for raw in ("a\x00b", "\x1b[31m", "x" * 11):
        with pytest.raises(InvalidInput):
            clean_text(raw, max_length=10)
    with pytest.raises(InvalidInput):
        clean_text("a\nb", max_length=10, single_line=True)


def test_timestamps_are_iso_with_their_offset_and_come_back_in_utc():
    assert parse_timestamp("2026-03-01T13:30:00+01:00") == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert parse_timestamp("2026-03-01T12:30:00.123456+00:00").tzinfo is UTC
    for raw in ("", "2026-03-01", "2026-03-01T12:30:00", "1999-12-31T23:59:59+00:00", "yesterday",
                "2026-03-01T12:30:00+00:00\x00", "2026-13-01T00:00:00+00:00", "9" * 40):
        with pytest.raises(InvalidInput):
            parse_timestamp(raw, "Its sort value")
