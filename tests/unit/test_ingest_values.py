"""Cell values → counts: blank, zero, not applicable and errors stay distinct."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from huizong.ingest.periods import parse_period, parse_periods
from huizong.ingest.values import events_json, parse_counts, parse_text


def _parse(cells: list[object]):
    return parse_counts(pd.Series(cells, dtype=object), "persons_screened")


def test_blank_zero_and_not_applicable_stay_different() -> None:
    got = _parse(["", None, "0", 0.0, "不适用", "N/A", "/", "  "])
    values = got.values
    assert values.dtype == "Int64"
    assert values.isna().tolist() == [True, True, False, False, True, True, True, True]
    assert values[2] == 0 and values[3] == 0
    assert got.not_applicable.tolist() == [4, 5, 6]
    assert got.errors == [] and got.coercions == []


def test_plain_numbers_from_excel_and_text() -> None:
    got = _parse([5.0, "12", " 13 ", "+7", "-4", "5.0", 7])
    assert got.values.tolist() == [5, 12, 13, 7, -4, 5, 7]
    assert got.errors == [] and got.coercions == []


def test_thousands_separator_is_coerced_and_recorded() -> None:
    got = _parse(["1,234", "12,345,678", "1,2"])
    assert got.values[0] == 1234 and got.values[1] == 12345678
    assert pd.isna(got.values[2])
    assert [(p, c["rule"], c["raw"], c["value"]) for p, c in got.coercions] == [
        (0, "thousands", "1,234", 1234),
        (1, "thousands", "12,345,678", 12345678),
    ]
    assert [(p, e["raw"]) for p, e in got.errors] == [(2, "1,2")]


def test_fullwidth_digits_are_normalised_and_recorded() -> None:
    got = _parse(["１２", "１，２３４"])
    assert got.values.tolist() == [12, 1234]
    assert [c["rule"] for _, c in got.coercions] == ["fullwidth", "fullwidth+thousands"]


def test_unparseable_and_fractional_cells_are_errors() -> None:
    got = _parse(["abc", 3.5, "2.5", True, date(2026, 1, 1), "12"])
    assert got.values.isna().tolist() == [True, True, True, True, True, False]
    by_pos = {p: e for p, e in got.errors}
    assert by_pos[0] == {
        "column": "persons_screened",
        "raw": "abc",
        "zh": "无法识别为数字",
        "en": "not a number",
    }
    assert by_pos[1]["en"] == "must be a whole number" and by_pos[1]["raw"] == "3.5"
    assert by_pos[2]["en"] == "must be a whole number"
    assert by_pos[3]["raw"] == "True"
    assert by_pos[4]["raw"] == "2026-01-01"
    assert 5 not in by_pos


def test_numeric_fast_paths() -> None:
    ints = parse_counts(pd.Series([1, 2, 3], dtype="int64"), "x")
    assert ints.values.tolist() == [1, 2, 3] and ints.values.dtype == "Int64"
    floats = parse_counts(pd.Series([1.0, np.nan, 2.5]), "x")
    assert floats.values[0] == 1 and pd.isna(floats.values[1]) and pd.isna(floats.values[2])
    assert [p for p, _ in floats.errors] == [2]


def test_huge_numbers_are_errors_not_overflow() -> None:
    got = _parse(["99999999999999999999"])
    assert pd.isna(got.values[0]) and got.errors[0][1]["en"] == "number too large"


@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=30))
def test_any_integer_written_as_text_round_trips(numbers: list[int]) -> None:
    got = _parse([str(n) for n in numbers])
    assert got.values.tolist() == numbers
    with_commas = _parse([f"{n:,}" for n in numbers])
    assert with_commas.values.tolist() == numbers


def test_events_json_is_empty_string_when_no_events() -> None:
    out = events_json(3, [(1, {"a": 1}), (1, {"b": "中"})])
    assert out[0] == "" and out[2] == ""
    assert json.loads(out[1]) == [{"a": 1}, {"b": "中"}]


def test_text_indicators_strip_and_blank_is_na() -> None:
    got = parse_text(pd.Series([" 缺口罩 ", "", None, "   "], dtype=object))
    assert got.dtype == "str"
    assert got[0] == "缺口罩" and got.iloc[1:].isna().all()


@pytest.mark.parametrize(
    ("cell", "iso"),
    [
        ("2026-11-26", "2026-11-26"),
        ("2026/11/26", "2026-11-26"),
        ("2026年11月26日", "2026-11-26"),
        ("２０２６年１１月２６日", "2026-11-26"),
        ("2026.1.5", "2026-01-05"),
        ("20261126", "2026-11-26"),
        ("2026-11-26 08:30:00", "2026-11-26"),
        (date(2026, 11, 26), "2026-11-26"),
        (datetime(2026, 11, 26, 9, 0), "2026-11-26"),
        (46352.0, "2026-11-26"),
        ("46352", "2026-11-26"),
        ("2026-02-30", None),
        ("昨天", None),
        ("", None),
        (None, None),
        (3.5, None),
    ],
)
def test_period_forms(cell: object, iso: str | None) -> None:
    assert parse_period(cell) == iso


def test_parse_periods_keeps_raw_text() -> None:
    iso, raw = parse_periods(pd.Series(["2026年11月26日", 46352.0, None, "坏"], dtype=object))
    assert iso.tolist()[:2] == ["2026-11-26", "2026-11-26"]
    assert iso.isna().tolist() == [False, False, True, True]
    assert raw.tolist()[0] == "2026年11月26日" and raw[1] == "46352" and pd.isna(raw[2])
    assert raw[3] == "坏"


def test_all_text_column_path_matches_mixed_path() -> None:
    cells = ["12", " 13 ", "+7", "-4", "5.0", "", "1,234", "abc", "007", "不适用", "2.5"]
    text_only = _parse(cells)
    mixed = _parse([*cells, 1.0])  # one Excel float forces the general path
    assert text_only.values.tolist() == mixed.values.tolist()[:-1]
    assert text_only.values.tolist()[:5] == [12, 13, 7, -4, 5]
    assert text_only.values.tolist()[8] == 7
    assert text_only.not_applicable.tolist() == mixed.not_applicable.tolist() == [9]
    assert text_only.errors == mixed.errors
    assert text_only.coercions == mixed.coercions
