"""The quality warnings of a corrected day, recomputed in the changed units' cities only,
equal the checks over the whole corrected day (``huizong.quality.partial``).

The demo day's accepted rows and township total rows, with fourteen days of history made
from them (so outliers and falling cumulative counts can fire); hypothesis then changes
random reporters' values (an extra digit, a zero, a lower cumulative count), drops some
rows (quarantined by the correction) and changes some townships' total rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong import frames, handover
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.pipeline import ingest_day, registry_for, validate_day
from huizong.quality import QUALITY_RULES, history_frame, quality_in_parts, quality_warnings
from huizong.quality.partial import requality
from huizong.registry import Registry
from huizong.settings import Settings

DAY = date(2020, 1, 28)
CAT = load_catalogue()
NUMERIC = [i.code for i in CAT.numeric]


@dataclass(frozen=True)
class Day:
    accepted: pd.DataFrame
    totals: pd.DataFrame
    registry: Registry
    history: pd.DataFrame


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Day:
    home = tmp_path_factory.mktemp("var")
    s = Settings(home=home, inbox_root=home / "inbox")
    generate_demo_day(DAY, home / "inbox" / DAY.isoformat())
    ingest_day(DAY, s)
    validate_day(DAY, s)
    accepted = handover.read_frame(s, DAY, frames.ACCEPTED)
    rng = np.random.default_rng(7)
    days = []
    for age in range(1, 15):
        past = accepted[["unit_code", *NUMERIC]].copy()
        past.insert(0, "period", (DAY - timedelta(days=age)).isoformat())
        for code in NUMERIC:
            jitter = rng.integers(0, 3, len(past))
            past[code] = (past[code] + jitter - age * code.endswith("_total")).clip(lower=0)
        days.append(past)
    history = history_frame(pd.concat(days, ignore_index=True), CAT)
    registry = registry_for(s)
    totals = handover.read_frame(s, DAY, frames.TOTALS)
    if totals.empty:  # the demo's files have no 合计 row: three townships' own totals
        totals = _township_totals(accepted, registry)
    return Day(accepted, totals, registry, history)


def _township_totals(accepted: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Total rows of three townships: their villages' sums, one of them off by one."""
    town = accepted["unit_code"].map(registry.units.set_index("code")["township_code"])
    sums = accepted[NUMERIC].groupby(town.to_numpy()).sum(min_count=1).head(3)
    sums.iloc[0, 0] = (0 if pd.isna(sums.iloc[0, 0]) else sums.iloc[0, 0]) + 1
    meta = pd.DataFrame(
        {
            "file_id": [f"{k:064d}" for k in range(len(sums))],
            "file_name": "合计.xlsx",
            "sheet": "日报表",
            "row_number": 99,
            "unit_code": sums.index.astype("str"),
            "period": DAY.isoformat(),
        }
    )
    return pd.concat([meta, sums.reset_index(drop=True)], axis=1)


def _checks(day: Day, accepted: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    return quality_warnings(accepted, DAY, CAT, day.registry, history=day.history, totals=totals)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_partial_quality_equals_the_whole_day(demo: Day, data: st.DataObject) -> None:
    n = len(demo.accepted)
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6, unique=True))
    accepted = demo.accepted.copy()
    changed = set(accepted["unit_code"].iloc[rows].astype("str"))
    for pos in rows:
        code = data.draw(st.sampled_from(NUMERIC))
        how = data.draw(st.sampled_from(["digit", "zero", "lower"]))
        at = accepted.columns.get_loc(code)
        value = accepted.iat[pos, at]
        value = 0 if pd.isna(value) else int(value)
        accepted.iat[pos, at] = {"digit": value * 10 + 7, "zero": 0, "lower": value // 2}[how]
    drop = data.draw(st.lists(st.sampled_from(rows), max_size=2, unique=True))
    accepted = accepted.drop(index=accepted.index[drop]).reset_index(drop=True)
    totals = demo.totals.copy()
    if len(totals) and data.draw(st.booleans()):
        pos = data.draw(st.integers(0, len(totals) - 1))
        code = data.draw(st.sampled_from(NUMERIC))
        totals.iat[pos, totals.columns.get_loc(code)] = 99_999
        changed.add(str(totals["unit_code"].iloc[pos]))

    earlier = _checks(demo, demo.accepted, demo.totals)
    whole = _checks(demo, accepted, totals)
    got = requality(
        accepted,
        DAY,
        CAT,
        demo.registry,
        earlier=earlier,
        changed=changed,
        history_of=lambda units: demo.history[demo.history["unit_code"].isin(units)],
        totals=totals,
    )
    assert earlier["rule"].str.startswith(QUALITY_RULES).all()
    pd.testing.assert_frame_equal(got, whole)


def test_the_checks_fire_on_the_demo_day(demo: Day) -> None:
    """The property above compares real warnings: each kind of check fires somewhere."""
    accepted = demo.accepted.copy()
    accepted.loc[0, "confirmed_total"] = 0
    accepted.loc[1, NUMERIC[0]] = 10**6
    found = set(_checks(demo, accepted, demo.totals)["rule"].str.split(":").str[0])
    assert {"outlier", "cumulative_down", "township_total", "department_pair"} <= found


@pytest.mark.parametrize("part_units", [1, 13, 250])
def test_the_night_reading_history_a_slice_of_reporters_at_a_time_equals_all_at_once(
    demo: Day, part_units: int
) -> None:
    """A national night holds fourteen days of history for at most ``HISTORY_PART_UNITS``
    reporters at a time (``quality_in_parts``): the warnings are those of all at once."""
    accepted = demo.accepted.copy()
    accepted.loc[0, "confirmed_total"] = 0
    accepted.loc[1, NUMERIC[0]] = 10**6
    accepted.loc[len(accepted) // 2, NUMERIC[1]] = 10**5
    whole = _checks(demo, accepted, demo.totals)
    code = demo.history["unit_code"].astype("str")
    asked: list[tuple[str, str]] = []

    def history_between(lo: str, hi: str) -> pd.DataFrame:
        asked.append((lo, hi))
        return demo.history[(code >= lo) & (code <= hi)]

    got = quality_in_parts(
        accepted,
        DAY,
        CAT,
        demo.registry,
        history_between=history_between,
        totals=demo.totals,
        part_units=part_units,
    )
    pd.testing.assert_frame_equal(got, whole)
    reporters = accepted["unit_code"].dropna().nunique()
    assert len(asked) == -(-reporters // part_units)  # each slice read once
    assert {"outlier", "cumulative_down"} <= set(got["rule"].str.split(":").str[0])
