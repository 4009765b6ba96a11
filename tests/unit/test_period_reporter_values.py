"""A reporter's period value, checked row by row against a plain per-reporter oracle.

``reporter_values`` reduces every indicator of every reporter in one grouped pass; the
oracle walks each reporter's rows day by day with the rules written out (sum of the given
values; the value of the latest day that gave one; blanks and whitespace are not given;
不适用 only where marked and never given; carried when the latest value is older than the
period's last day). It shares no code with ``huizong.periods``.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huizong.catalogue import load_catalogue
from huizong.periods import PartialPeriod, _fold, reporter_values

FULL = load_catalogue()
CODES = ("persons_screened", "home_isolation", "followup_rate", "problems", "checkpoints")
CATALOGUE = dataclasses.replace(
    FULL, indicators=tuple(i for i in FULL.indicators if i.code in CODES)
)
IND = {i.code: i for i in CATALOGUE.indicators}
UNITS = ("130902001001", "130902001002", "130903001001")
FIRST = date(2020, 1, 27)
THROUGH = FIRST + timedelta(days=3)

number = st.one_of(st.none(), st.integers(0, 500))
text = st.sampled_from([None, "", "  ", "缺口罩", "人手不足"])
marks = st.lists(st.sampled_from((*CODES, "unknown")), max_size=2).map(
    lambda codes: " , ".join(codes)
)
row = st.fixed_dictionaries(
    {
        "unit_code": st.sampled_from(UNITS),
        "day": st.integers(0, 3),
        "persons_screened": number,
        "home_isolation": number,
        "followup_rate": number,
        "problems": text,
        "not_applicable": marks,
    }
)


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unit_code": pd.Series([r["unit_code"] for r in rows], dtype="str"),
            "unit_name": pd.Series([f"单位{r['unit_code'][-3:]}" for r in rows], dtype="str"),
            "period": pd.Series(
                [(FIRST + timedelta(days=r["day"])).isoformat() for r in rows], dtype="str"
            ),
            "received_at": pd.to_datetime(
                [f"2020-01-{27 + r['day']}T0{n % 10}:00:00Z" for n, r in enumerate(rows)]
            ),
            "not_applicable": pd.Series([r["not_applicable"] for r in rows], dtype="str"),
            "problems": pd.Series([r["problems"] for r in rows], dtype="str"),
        }
    )
    for code in ("persons_screened", "home_isolation", "followup_rate"):
        frame[code] = pd.array([r[code] for r in rows], dtype="Int64")
    return frame  # ``checkpoints`` is absent: a column the period's days never had


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _oracle(rows: list[dict], unit: str) -> dict:
    mine = sorted((r for r in rows if r["unit_code"] == unit), key=lambda r: r["day"])
    out: dict = {}
    for code in ("persons_screened", "home_isolation", "followup_rate", "problems"):
        values = [(r["day"], r[code]) for r in mine if _given(r[code])]
        if IND[code].is_numeric and IND[code].across_time == "sum":
            out[code] = sum(v for _, v in values) if values else None
        else:
            out[code] = values[-1][1] if values else None
            if IND[code].is_numeric:
                out[f"carried:{code}"] = int(bool(values) and values[-1][0] != 3)
    marked = {c.strip() for r in mine for c in r["not_applicable"].split(",")}
    out["not_applicable"] = ",".join(
        c for c in CODES if c in marked and c != "checkpoints" and out.get(c) is None
    )
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=25))
def test_every_reporter_value_follows_its_indicators_rule(rows: list[dict]) -> None:
    per = reporter_values(_frame(rows), CATALOGUE, THROUGH)
    got = per.rows.set_index("unit_code")
    carried = per.carried.set_index("unit_code")
    reporters = sorted({r["unit_code"] for r in rows})
    assert list(got.index) == reporters
    for unit in reporters:
        want = _oracle(rows, unit)
        for code in ("persons_screened", "home_isolation", "followup_rate", "problems"):
            value = got.loc[unit, code]
            assert (None if pd.isna(value) else value) == want[code], (unit, code)
        for code in ("home_isolation", "followup_rate"):
            assert carried.loc[unit, code] == want[f"carried:{code}"], (unit, code)
        assert pd.isna(got.loc[unit, "checkpoints"])
        assert got.loc[unit, "not_applicable"] == want["not_applicable"], unit
    assert set(per.rows["period"]) == {THROUGH.isoformat()}
    assert "persons_screened" not in per.carried.columns
    assert "checkpoints" not in per.carried.columns


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=25), st.integers(1, 3))
def test_days_folded_in_one_at_a_time_equal_the_rows_reduced_at_once(
    rows: list[dict], cut: int
) -> None:
    """The period step folds a national month in day by day (PartialPeriod.then); any
    split into consecutive days, and the day-by-day fold, gives the one-pass values."""
    frame = _frame(rows)
    at_once = reporter_values(frame, CATALOGUE, THROUGH)
    days = tuple(sorted(set(frame["period"])))
    # as the night folds them: each day's values overwrite the fold's own in place
    folded = _fold(days, lambda day: frame[frame["period"] == day], CATALOGUE)
    early = frame["period"] < (FIRST + timedelta(days=cut)).isoformat()
    halves = PartialPeriod.of(frame[early], CATALOGUE).then(
        PartialPeriod.of(frame[~early], CATALOGUE)
    )
    for got in (folded.reporters(THROUGH), halves.reporters(THROUGH)):
        pd.testing.assert_frame_equal(got.rows, at_once.rows)
        pd.testing.assert_frame_equal(got.carried, at_once.carried)
