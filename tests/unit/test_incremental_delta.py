"""The rows the fast path writes turn the old day into the new one, and nothing more.

Property (hypothesis): for any old and new table (keyed like ``consolidated``, or by row
like ``quarantine`` with several rows per key), deleting ``table_delta``'s keys from old
and inserting its rows gives new as a multiset of rows; a key whose rows did not change
(in any order) is never touched.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.publish.incremental import ROW_KEYS, table_delta

UNITS = ["130900", "130982", "130982400", "130982401"]
INDICATORS = ["confirmed", "suspected", "masks"]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.astype("str")
    return text.sort_values(list(text.columns)).reset_index(drop=True)


def _apply(table: str, old: pd.DataFrame, delta) -> pd.DataFrame:
    key = ROW_KEYS[table]
    gone = old.merge(delta.keys, on=key, how="left", indicator=True)["_merge"] == "both"
    return pd.concat([old[~gone.to_numpy()], delta.rows], ignore_index=True)


cells = st.tuples(
    st.sampled_from(UNITS),
    st.sampled_from(INDICATORS),
    st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
)


@st.composite
def consolidated(draw) -> pd.DataFrame:
    rows = draw(st.lists(cells, unique_by=lambda c: c[:2], max_size=12))
    return pd.DataFrame(
        {
            "period": "2020-01-28",
            "unit_code": pd.Series([r[0] for r in rows], dtype="str"),
            "indicator": pd.Series([r[1] for r in rows], dtype="str"),
            "value": pd.Series([r[2] for r in rows], dtype="float64"),
        }
    )


issue_rows = st.tuples(
    st.sampled_from(["a" * 64, "b" * 64]),
    st.integers(1, 3),
    st.sampled_from(["max:masks", "unit_known", "min:masks"]),
    st.sampled_from(["x", "y"]),
)


@st.composite
def issues(draw) -> pd.DataFrame:
    rows = draw(st.lists(issue_rows, max_size=10))
    return pd.DataFrame(
        {
            "period": "2020-01-28",
            "file_id": pd.Series([r[0] for r in rows], dtype="str"),
            "sheet": "",
            "row_number": pd.Series([r[1] for r in rows], dtype="Int64"),
            "rule": pd.Series([r[2] for r in rows], dtype="str"),
            "value": pd.Series([r[3] for r in rows], dtype="str"),
        }
    )


@settings(max_examples=40, deadline=None)
@given(old=consolidated(), new=consolidated())
def test_keyed_delta_turns_old_into_new(old: pd.DataFrame, new: pd.DataFrame) -> None:
    delta = table_delta("consolidated", old, new)
    pd.testing.assert_frame_equal(_sorted(_apply("consolidated", old, delta)), _sorted(new))
    same = old.merge(new, how="inner")  # rows identical on both sides
    assert delta.rows.merge(same, how="inner").empty


@settings(max_examples=40, deadline=None)
@given(old=issues(), new=issues(), shuffle=st.randoms(use_true_random=False))
def test_issue_delta_is_order_blind(old: pd.DataFrame, new: pd.DataFrame, shuffle) -> None:
    delta = table_delta("quarantine", old, new)
    pd.testing.assert_frame_equal(_sorted(_apply("quarantine", old, delta)), _sorted(new))
    order = list(range(len(old)))
    shuffle.shuffle(order)
    assert table_delta("quarantine", old, old.iloc[order]).rows.empty
