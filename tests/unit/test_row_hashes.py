"""``Hashed.of`` hashes each column once, yet gives exactly what ``hash_pandas_object``
gives for the rows and for the key columns: kept hashes of earlier publishes and the
day's ``tables_digest`` were made that way and must still match."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.publish.warehouse import ROW_KEYS, Hashed

TEXT = st.one_of(st.none(), st.text(max_size=6))
NUMBER = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32))
COUNT = st.one_of(st.none(), st.integers(-(2**40), 2**40))
WHEN = st.one_of(st.none(), st.integers(0, 2**40))


@st.composite
def issue_frames(draw) -> pd.DataFrame:
    """A frame keyed like ``quarantine`` (period, file_id, sheet, row_number) with the
    dtypes load frames hold: text, nullable integers, floats, times, booleans."""
    n = draw(st.integers(0, 12))
    column = lambda values: draw(st.lists(values, min_size=n, max_size=n))  # noqa: E731
    frame = pd.DataFrame(
        {
            "reason": pd.Series(column(TEXT), dtype="str"),
            "period": pd.Series(column(TEXT), dtype="str"),
            "value": pd.Series(column(NUMBER), dtype="float64"),
            "file_id": pd.Series(column(TEXT), dtype="str"),
            "sheet": pd.Series(column(TEXT), dtype="str"),
            "row_number": pd.Series(column(COUNT), dtype="Int64"),
            "received_at": pd.to_datetime(
                pd.Series(column(WHEN), dtype="Int64"), unit="s", utc=True
            ),
            "blocking": pd.Series(column(st.booleans()), dtype="bool"),
        }
    )
    order = draw(st.permutations(list(frame.columns)))
    return frame[order]


@settings(max_examples=60, deadline=None)
@given(frame=issue_frames())
def test_row_and_key_hashes_equal_hash_pandas_object(frame: pd.DataFrame) -> None:
    got = Hashed.of("quarantine", frame)
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    keys = pd.util.hash_pandas_object(frame[ROW_KEYS["quarantine"]], index=False).to_numpy()
    assert np.array_equal(got.rows, rows) and got.rows.dtype == rows.dtype
    assert np.array_equal(got.keys, keys) and got.keys.dtype == keys.dtype


def test_repeated_column_names_are_hashed_as_the_frame() -> None:
    frame = pd.DataFrame(
        [["1", "a", "s", 1, "x"]], columns=["period", "file_id", "sheet", "row_number", "period"]
    )
    assert frame.columns.has_duplicates
    got = Hashed.of("quarantine", frame)
    assert np.array_equal(got.rows, pd.util.hash_pandas_object(frame, index=False).to_numpy())
