"""A workbook column's numbers, read by cell type, agree with the general path they skip.

``parse_counts`` takes columns of floats, ints, None and text by exact type
(``_excel_numbers``) instead of ``pd.to_numeric`` + ``isna`` over every cell (issue 11:
most of a day's value parsing). Values, not-applicable marks, cell errors and coercions
must be exactly what the general path gives, on any such column and on the columns the
fast path declines (booleans, dates, formula cells).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.ingest import values
from huizong.ingest.values import NoCachedValue, parse_counts

_WRITTEN = [
    "", " ", "12", " 12 ", "+12", "-4", "3.0", "3.5", "1e3", "1_000", "inf", "nan", "NaN",
    "１２３", "1,234", "1，234", "1,2", "56人", "56户", "12人次", "无", "没有", "零", "十二",
    "三百五", "约50", "50左右", "3-5", "☆", "—", "-", "/", "不适用", "N/A", "很多", "TRUE",
    "12345678901234567", "123456789012345678901234567890", "0x1A", "٣",
]  # fmt: skip

_TYPED = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(_WRITTEN),
    st.text(max_size=6),
)
_OTHER = st.one_of(
    _TYPED,
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from([NoCachedValue("=A1+1"), NoCachedValue("")]),
)


def _general(monkeypatch: pytest.MonkeyPatch, cells: list[object], unit: str) -> object:
    with monkeypatch.context() as m:
        m.setattr(values, "_excel_numbers", lambda arr: None)
        return parse_counts(pd.Series(cells, dtype=object), "c", unit)


def _same(a: object, b: object) -> None:
    assert a.values.isna().tolist() == b.values.isna().tolist()
    assert a.values.fillna(-1).tolist() == b.values.fillna(-1).tolist()
    assert a.not_applicable.tolist() == b.not_applicable.tolist()
    assert a.errors == b.errors
    assert a.coercions == b.coercions


@settings(deadline=None, max_examples=300)  # a shared 2-core machine: no deadline
@given(st.lists(_OTHER, max_size=25), st.sampled_from(["", "人", "%", "平方米"]))
def test_typed_columns_parse_as_the_general_path(cells: list[object], unit: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        _same(parse_counts(pd.Series(cells, dtype=object), "c", unit), _general(mp, cells, unit))


def test_the_fast_path_takes_workbook_columns_and_declines_the_rest() -> None:
    arr = np.array([1.0, None, "", " 12 ", 3, "无"], dtype=object)
    nums, missing, empty = values._excel_numbers(arr)
    assert np.isnan(nums[[1, 2, 5]]).all() and nums[[0, 3, 4]].tolist() == [1.0, 12.0, 3.0]
    assert missing.tolist() == [False, True, False, False, False, False]
    assert empty.tolist() == [2]
    for declined in (
        [1.0, True],  # a boolean is no count
        [1.0, datetime(2020, 1, 28)],
        [1.0, NoCachedValue("=A1")],  # a str subclass: the formula error
        ["12", "", None],  # all text: the CSV path (Arrow)
        [10**400, 1.0],  # beyond float64
    ):
        assert values._excel_numbers(np.array(declined, dtype=object)) is None


def test_a_typed_column_with_every_kind_of_cell() -> None:
    cells = [12.0, None, float("nan"), "", " ", "1,234", "56户", "无", "/", "☆", 3.5, 7]
    got = parse_counts(pd.Series(cells, dtype=object), "c", "人")
    assert got.values.tolist()[:2] == [12, pd.NA]
    assert got.values[5] == 1234 and got.values[7] == 0 and got.values[11] == 7
    assert got.not_applicable.tolist() == [8]
    assert [p for p, _ in got.errors] == [6, 10]
    assert [(p, c["rule"]) for p, c in got.coercions] == [
        (5, "thousands"),
        (7, "none_is_zero"),
        (9, "placeholder_blank"),
    ]
