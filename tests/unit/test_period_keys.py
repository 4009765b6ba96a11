"""The period tables' key check equals ``DataFrame.duplicated`` on the whole key."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.publish.warehouse import _repeats_a_key

KEY = ["period_type", "period_start", "unit_code", "indicator"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["week", "month"]),
            st.sampled_from(["2020-01-27", "2020-01-01"]),
            st.sampled_from(["1309", "130921", "130921100", None]),
            st.sampled_from(["screened", "masks", ""]),
        ),
        max_size=12,
    )
)
def test_a_repeated_key_is_found_as_duplicated_finds_it(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=KEY).astype("string")
    assert _repeats_a_key(frame, KEY) == bool(frame.duplicated(KEY).any())


def test_many_wide_key_columns_do_not_overflow() -> None:
    """Codes are renumbered before their product could pass int64."""
    n = 3000
    frame = pd.DataFrame({f"k{i}": [f"{i}-{r}" for r in range(n)] for i in range(8)})
    assert not _repeats_a_key(frame, list(frame.columns))
    doubled = pd.concat([frame, frame.iloc[[17]]], ignore_index=True)
    assert _repeats_a_key(doubled, list(frame.columns))
