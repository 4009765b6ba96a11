"""The fallback search on integer keys finds what the MultiIndex-and-sets search found.

``validate.day`` once keyed rows by a MultiIndex of strings and kept (unit, day) tuples in
Python sets (the national day's memory peak); it now folds the key columns into dense
int64 codes. The reference below is that earlier search, kept as the oracle, run on
random RECEIVED-like frames beside the new one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong import frames
from huizong.validate.day import _fallbacks, _in, key_codes
from huizong.validate.rows import ValidationResult, empty_issues
from huizong.validate.waivers import STEWARD_KEPT

FILES = ["f0", "f1", "f2", "f3", "f4"]
UNIT_DAY = ["unit_code", "period"]


def _mi(frame: pd.DataFrame) -> pd.MultiIndex:
    keys = frame[frames.ROW_KEY].astype({"file_id": "str", "sheet": "str", "row_number": "int64"})
    return pd.MultiIndex.from_frame(keys)


def _reference(rows: pd.DataFrame, result: ValidationResult, held_before: list[pd.DataFrame]):
    """The fallback search as it was before integer keys (commit 2a7093d)."""
    none = np.zeros(len(rows), dtype=bool)
    superseded = (rows["disposition"] == "superseded").to_numpy()
    if not superseded.any() or result.quarantine.empty:
        return none, none
    keyed = rows["unit_code"].notna().to_numpy() & rows["period"].notna().to_numpy()
    cand = ~superseded & keyed
    failed = _mi(rows).isin(_mi(result.quarantine))
    unit_day = pd.MultiIndex.from_frame(rows[UNIT_DAY].astype("str"))
    ok_days = set(unit_day[cand & ~failed])
    bad = cand & failed & ~unit_day.isin(ok_days)
    if not bad.any():
        return none, none
    by_files = set(rows.loc[bad, "file_id"].astype("str"))
    for h in held_before:
        by_files |= set(h["file_id"].astype("str"))
    file_id = rows["file_id"].astype("str").to_numpy()
    first_row = pd.Series(np.arange(len(rows))).groupby(file_id).transform("min")
    place = pd.Series(first_row.to_numpy(), index=unit_day)
    first_bad = place[bad].groupby(level=list(range(unit_day.nlevels))).min()
    before = unit_day.map(first_bad).to_numpy(dtype="float64", na_value=np.nan)
    reason = rows["superseded_reason"].fillna("").astype("str")
    maybe = (
        superseded
        & keyed
        & rows["superseded_by"].astype("str").isin(by_files).to_numpy()
        & ~reason.str.startswith(STEWARD_KEPT).to_numpy()
        & (place.to_numpy() < before)
    )
    if not maybe.any():
        return none, none
    latest = place[maybe].groupby(level=list(range(unit_day.nlevels))).transform("max")
    back = np.zeros(len(rows), dtype=bool)
    back[np.flatnonzero(maybe)[place[maybe].to_numpy() == latest.to_numpy()]] = True
    held = bad & unit_day.isin(set(unit_day[back]))
    return held, back


row = st.fixed_dictionaries(
    {
        "unit_code": st.sampled_from(["u1", "u2", "u3", None]),
        "period": st.sampled_from(["2020-01-28", "2020-01-27", None]),
        "disposition": st.sampled_from(["candidate", "superseded"]),
        "superseded_by": st.sampled_from([*FILES, None]),
        "superseded_reason": st.sampled_from([None, "", "later file", f"{STEWARD_KEPT}: f1"]),
    }
)
keys = st.lists(
    st.tuples(st.sampled_from(FILES), st.sampled_from(["", "表1"]), st.integers(1, 4)),
    min_size=1,
    max_size=40,
    unique=True,
)


@st.composite
def days(draw):
    """A RECEIVED-like frame (unique row keys, files in arrival order by first row), a
    quarantine over some of its rows (a row may fail several rules) and earlier held rows."""
    key = draw(keys)
    body = [draw(row) for _ in key]
    rows = pd.DataFrame(
        {
            "file_id": pd.Series([k[0] for k in key], dtype="str"),
            "sheet": pd.Series([k[1] for k in key], dtype="str"),
            "row_number": np.array([k[2] for k in key], dtype="int64"),
            **{c: pd.Series([b[c] for b in body], dtype="str") for c in body[0]},
        }
    )
    failing = draw(st.lists(st.integers(0, len(rows) - 1), max_size=2 * len(rows)))
    quarantine = rows.iloc[failing][frames.ROW_KEY].reset_index(drop=True)
    earlier = pd.Series(draw(st.lists(st.sampled_from(FILES))), dtype="str")
    held = [rows.iloc[:0], pd.DataFrame({"file_id": earlier})]
    return rows, quarantine, held


@settings(max_examples=300, deadline=None)
@given(days())
def test_the_same_rows_fall_back_as_with_sets_of_tuples(day) -> None:
    rows, quarantine, held = day
    result = ValidationResult(
        accepted=rows.iloc[:0], quarantine=quarantine, warnings=empty_issues()
    )
    want_held, want_back = _reference(rows, result, held)
    got_held, got_back = _fallbacks(rows, result, held)
    assert got_held.tolist() == want_held.tolist()
    assert got_back.tolist() == want_back.tolist()


parts = st.lists(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "", None]), st.sampled_from(["x", "y", None])),
        max_size=15,
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(parts)
def test_codes_are_equal_exactly_where_the_keys_are(parts) -> None:
    frames_ = [pd.DataFrame(p, columns=["k1", "k2"], dtype="str") for p in parts]
    codes = key_codes(frames_, ["k1", "k2"])
    flat = np.concatenate(codes)
    tuples = [tuple("NA" if pd.isna(v) else v for v in t) for p in parts for t in p]
    assert [len(c) for c in codes] == [len(p) for p in parts]
    assert ((flat >= 0) & (flat < max(len(flat), 1))).all()  # dense: a table indexes them
    for i, a in enumerate(tuples):
        for j, b in enumerate(tuples):
            assert (flat[i] == flat[j]) == (a == b)


@settings(max_examples=200, deadline=None)
@given(keys, keys)
def test_in_is_multiindex_isin(left, right) -> None:
    def frame(k):
        return pd.DataFrame(
            {
                "file_id": pd.Series([x[0] for x in k], dtype="str"),
                "sheet": pd.Series([x[1] for x in k], dtype="str"),
                "row_number": pd.array([x[2] for x in k], dtype="Int64"),
            }
        )

    a, b = frame(left), frame(right)
    assert _in(a, b).tolist() == _mi(a).isin(_mi(b)).tolist()
