"""Re-validating only a correction's touched rows gives the verdict of validating the day.

The demo day's RECEIVED is validated whole once. Each example is a correction as ingest
delivers it: a new one-row file for a village (one indicator changed to a value that is
fine, too high, negative or blank; sometimes written under another village's code, which
makes a duplicate with that village's own row), and the village's earlier row superseded.
The spliced verdict (:func:`huizong.validate.partial.revalidate`) must equal
``validate_rows`` of the whole corrected day, frame for frame.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.ingest import ingest_inbox
from huizong.registry import load_registry
from huizong.settings import Settings
from huizong.validate import validate_rows
from huizong.validate.partial import revalidate, touched_rows

DAY = date(2020, 1, 28)
CAT = load_catalogue()
REGISTRY = load_registry()
FIX = "f" * 64


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, object]:
    root = tmp_path_factory.mktemp("partial")
    generate_demo_day(DAY, root / "inbox")
    received = ingest_inbox(root / "inbox", DAY, CAT, REGISTRY, Settings(home=root / "home"))[0]
    return received, validate_rows(received, DAY, CAT, REGISTRY)


def _corrected(received: pd.DataFrame, pos: int, column: str, value: object, other: int | None):
    fixed = received.copy()
    row = fixed.iloc[[pos]].copy()
    row["file_id"], row["file_name"], row["sheet"], row["row_number"] = FIX, "fix.csv", "", 2
    row[column] = pd.array([value], dtype=fixed[column].dtype)
    if other is not None:  # written under another village's code: a duplicate of its row
        row["unit_code"] = fixed["unit_code"].iloc[other]
    else:
        fixed.loc[fixed.index[pos], "disposition"] = "superseded"
        fixed.loc[fixed.index[pos], "superseded_by"] = FIX
    return pd.concat([fixed, row], ignore_index=True)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_spliced_verdict_equals_the_whole_day(day, data) -> None:
    received, whole = day
    villages = received.index[received["unit_code"].str.len() == 12].tolist()
    pos = data.draw(st.sampled_from(villages))
    column = data.draw(st.sampled_from([i.code for i in CAT.numeric]))
    value = data.draw(st.sampled_from([0, 3, 10**9, -5, None]))
    other = data.draw(st.one_of(st.none(), st.sampled_from(villages)))
    if other == pos:
        other = None
    corrected = _corrected(received, pos, column, value, other)

    def validate(rows: pd.DataFrame):
        return validate_rows(rows, DAY, CAT, REGISTRY)

    touched = touched_rows(corrected, received, pd.DataFrame())
    assert 0 < touched.sum() < len(corrected) / 10
    spliced = revalidate(corrected, whole, touched, validate)
    full = validate(corrected)
    pd.testing.assert_frame_equal(spliced.accepted, full.accepted)
    pd.testing.assert_frame_equal(spliced.quarantine, full.quarantine)
    pd.testing.assert_frame_equal(spliced.warnings, full.warnings)


_NAMES = st.one_of(st.none(), st.sampled_from(["", "a", "b", "ab", "村"]))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_NAMES, _NAMES, st.integers(min_value=-3, max_value=2**40)),
        min_size=1,
        max_size=30,
    ),
    cut=st.integers(min_value=0, max_value=30),
)
def test_packed_row_keys_are_equal_exactly_when_the_keys_are(rows, cut) -> None:
    """The packed key of two rows (in one frame or across frames) is equal iff their
    file, sheet and row number are (a missing name is its own value)."""
    from huizong.validate.partial import _row_keys

    frame = pd.DataFrame(rows, columns=["file_id", "sheet", "row_number"]).astype(
        {"file_id": "str", "sheet": "str", "row_number": "int64"}
    )
    cut = min(cut, len(frame))
    packed = _row_keys(frame.iloc[:cut], frame.iloc[cut:])
    assert packed is not None
    keys = list(frame.itertuples(index=False, name=None))
    flat = [int(k) for part in packed for k in part]
    assert len(flat) == len(keys)
    for i in range(len(keys)):
        for j in range(len(keys)):
            same = all(
                (a is b) or (pd.isna(a) and pd.isna(b)) or (a == b)
                for a, b in zip(keys[i], keys[j], strict=True)
            )
            assert (flat[i] == flat[j]) == same
