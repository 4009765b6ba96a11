"""Week / 旬 / month consolidation, checked against an independent per-unit computation.

The oracle loops over the villages whose code lies under each unit (code prefix) and over
the days, applying "sum" or "last" by hand; it shares no code with ``huizong.periods`` or
``huizong.rollup``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.periods import (
    AGGREGATES,
    CATALOGUE,
    REGISTRY,
    VILLAGES,
    WEEK,
    daily_completeness,
    reports_frame,
)
from huizong.periods import Period, consolidate_period, parse_period, period_of
from huizong.settings import Settings

SETTINGS = Settings.from_env()

# ---- period arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2020-01-28", "day", date(2020, 1, 28), date(2020, 1, 28)),
        ("2020-W05", "week", date(2020, 1, 27), date(2020, 2, 2)),
        ("2020-01-1旬", "xun", date(2020, 1, 1), date(2020, 1, 10)),
        ("2020-01-2旬", "xun", date(2020, 1, 11), date(2020, 1, 20)),
        ("2020-01-3旬", "xun", date(2020, 1, 21), date(2020, 1, 31)),
        ("2020-02-3旬", "xun", date(2020, 2, 21), date(2020, 2, 29)),  # leap year
        ("2021-02-3旬", "xun", date(2021, 2, 21), date(2021, 2, 28)),
        ("2020-01", "month", date(2020, 1, 1), date(2020, 1, 31)),
        ("2020-W01", "week", date(2019, 12, 30), date(2020, 1, 5)),  # ISO week across years
    ],
)
def test_parse_period(text: str, kind: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.type, period.start, period.end, period.label) == (kind, start, end, text)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.integers(0, 6))
def test_every_day_lies_in_its_periods_and_the_label_parses_back(day: date, ws: int) -> None:
    for kind in ("day", "week", "xun", "month"):
        period = period_of(day, kind, week_start=ws)  # type: ignore[arg-type]
        assert period.start <= day <= period.end
        assert parse_period(period.label, week_start=ws) == period
    week = period_of(day, "week", week_start=ws)
    assert week.start.weekday() == ws and (week.end - week.start).days == 6


def test_a_sunday_week_starts_on_sunday() -> None:
    week = period_of(date(2020, 1, 28), "week", week_start=6)
    assert (week.start, week.end) == (date(2020, 1, 26), date(2020, 2, 1))


@pytest.mark.parametrize("bad", ["2020-13", "2020-W60", "2020-01-4旬", "yesterday"])
def test_a_bad_period_is_refused_in_both_languages(bad: str) -> None:
    with pytest.raises(ValueError, match=r"报告期.*period"):
        parse_period(bad)


# ---- consolidation vs the oracle ---------------------------------------------------------

value = st.one_of(st.none(), st.integers(0, 1000))
day_rows = st.dictionaries(st.sampled_from(VILLAGES), st.tuples(value, value))
week_data = st.tuples(
    st.lists(day_rows, min_size=7, max_size=7),
    st.sets(st.integers(0, 6), max_size=3),  # days not published at all
)


def _oracle(days: list[dict], unpublished: set[int], unit: str) -> dict:
    mine = [v for v in VILLAGES if v.startswith(unit)]
    published = [(n, d) for n, d in enumerate(days) if n not in unpublished]
    flows = [d[v][0] for _, d in published for v in mine if v in d and d[v][0] is not None]
    stocks, carried = [], 0
    for v in mine:
        given = [(n, d[v][1]) for n, d in published if v in d and d[v][1] is not None]
        if given:
            stocks.append(given[-1][1])
            carried += given[-1][0] != 6
    received = sum(v in d for _, d in published for v in mine)
    return {
        "flow": sum(flows) if flows else None,
        "stock": sum(stocks) if stocks else None,
        "carried": carried,
        "expected_days": 7 * len(mine),
        "received_days": received,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week_data)
def test_a_week_equals_its_days_under_each_indicators_rule(data) -> None:
    days, unpublished = data
    tables = consolidate_period(
        WEEK,
        reports_frame(days, unpublished),
        daily_completeness(days, unpublished),
        CATALOGUE,
        REGISTRY,
        SETTINGS,
    )
    cons = tables.consolidated.set_index(["unit_code", "indicator"])
    comp = tables.completeness.set_index("unit_code")
    for unit in AGGREGATES:
        want = _oracle(days, unpublished, unit)
        for code in ("flow", "stock"):
            row = cons.loc[(unit, code)]
            got = None if pd.isna(row["value"]) else int(row["value"])
            assert got == want[code], (unit, code)
            assert row["status"] == ("not_reported" if want[code] is None else "reported")
        assert cons.loc[(unit, "stock"), "carried_units"] == want["carried"], unit
        assert cons.loc[(unit, "flow"), "carried_units"] == 0
        assert comp.loc[unit, "reporter_days_expected"] == want["expected_days"]
        assert comp.loc[unit, "reporter_days_received"] == want["received_days"]
        assert comp.loc[unit, "days_published"] == 7 - len(unpublished)
    assert set(tables.consolidated["period_label"]) == {"2020-W05"}


def test_a_reporter_missing_on_the_last_day_keeps_its_last_stock_and_is_flagged() -> None:
    days = [{} for _ in range(7)]
    days[2] = {"130902001001": (5, 40), "130902001002": (1, 10)}
    days[6] = {"130902001002": (2, 12)}  # 建北社区 is absent on the last day
    tables = consolidate_period(
        WEEK,
        reports_frame(days, set()),
        daily_completeness(days, set()),
        CATALOGUE,
        REGISTRY,
        SETTINGS,
    )
    town = tables.consolidated.set_index(["unit_code", "indicator"]).loc["130902001"]
    assert town.loc["stock", "value"] == 40 + 12
    assert town.loc["stock", "carried_units"] == 1
    assert town.loc["flow", "value"] == 5 + 1 + 2


def test_a_period_under_way_is_cut_at_through() -> None:
    days = [{"130903001001": (1, n)} for n in range(7)]
    tables = consolidate_period(
        WEEK,
        reports_frame(days, set()),
        daily_completeness(days, set()),
        CATALOGUE,
        REGISTRY,
        SETTINGS,
        through=date(2020, 1, 29),
    )
    row = tables.consolidated.set_index(["unit_code", "indicator"])
    assert row.loc[("130903001", "flow"), "value"] == 3
    assert row.loc[("130903001", "stock"), "value"] == 2
    comp = tables.completeness.set_index("unit_code")
    assert comp.loc["130903001", "reporter_days_expected"] == 2 * 3
    assert set(tables.consolidated["through"]) == {"2020-01-29"}


def test_period_title() -> None:
    assert parse_period("2020-01-2旬").title_zh() == "2020年1月中旬"
    assert Period("week", date(2020, 1, 27), date(2020, 2, 2), "2020-W05").title_zh() == (
        "2020年1月27日至2月2日"
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week_data)
def test_periods_sharing_their_days_share_one_roll_up_and_equal_their_own(data) -> None:
    """On 1 February the 旬 and the month hold the same published day: rolled up once,
    and every period's tables equal those computed on their own."""
    import huizong.periods as periods

    days, unpublished = data
    reports, completeness = reports_frame(days, unpublished), daily_completeness(days, unpublished)
    wanted = [(p, date(2020, 2, 1)) for p in periods.periods_containing(date(2020, 2, 1))]
    rolled, read = [], []
    real = periods.roll_period
    by_day = {d: rows for d, rows in reports.groupby("period")}

    def read_day(day: str) -> pd.DataFrame:
        read.append(day)
        return by_day.get(day, reports.iloc[:0])

    with pytest.MonkeyPatch.context() as patch:  # counts the roll-ups, runs the real one
        patch.setattr(periods, "roll_period", lambda *a, **k: rolled.append(k) or real(*a, **k))
        together = list(
            periods.consolidate_periods(
                wanted, read_day, completeness, CATALOGUE, REGISTRY, SETTINGS
            )
        )
    published = {n for n in range(7) if n not in unpublished}
    week_days = sorted(n for n in published if n <= 5)  # 27 January … 1 February
    xun_days = sorted(published & {5})  # the 旬 and the month: 1 February alone
    assert len(rolled) == 1 + (week_days != xun_days)
    # every published day read once: the week folds 1 February's values in after its own
    assert sorted(read) == sorted(set(read))
    assert len(read) == len(week_days)
    assert sorted(p.type for p, _, _ in together) == sorted(p.type for p, _ in wanted)
    for period, through, tables in together:
        alone = consolidate_period(
            period, reports, completeness, CATALOGUE, REGISTRY, SETTINGS, through=through
        )
        pd.testing.assert_frame_equal(tables.consolidated, alone.consolidated)
        pd.testing.assert_frame_equal(tables.completeness, alone.completeness)
