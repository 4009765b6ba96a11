from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.schedule import days_to_document, deadline_level, ledger_levels, reporting_day_for


def test_scheduled_run_reports_previous_local_day() -> None:
    # 02:00 Asia/Shanghai on 2020-01-29 is 18:00 UTC on 2020-01-28.
    run_after = datetime(2020, 1, 28, 18, 0, tzinfo=UTC)
    assert reporting_day_for(None, run_after) == "2020-01-28"


def test_utc_date_differs_from_local_date() -> None:
    # 17:00 UTC on the 28th is already 01:00 on the 29th in Shanghai: report the 28th.
    assert reporting_day_for(None, datetime(2020, 1, 28, 17, 0, tzinfo=UTC)) == "2020-01-28"
    # 15:00 UTC is 23:00 in Shanghai on the 28th: report the 27th.
    assert reporting_day_for(None, datetime(2020, 1, 28, 15, 0, tzinfo=UTC)) == "2020-01-27"


def test_param_wins_and_is_checked() -> None:
    assert reporting_day_for("2020-02-01", datetime(2020, 1, 28, tzinfo=UTC)) == "2020-02-01"
    with pytest.raises(ValueError):
        reporting_day_for("2020-13-01", None)
    with pytest.raises(ValueError):
        reporting_day_for(None, None)


def test_publish_trigger_comes_from_the_param_else_the_run_type() -> None:
    from huizong.schedule import publish_trigger

    assert publish_trigger("correction", "scheduled") == "correction"
    assert publish_trigger(None, "scheduled") == "nightly"
    from airflow.utils.types import DagRunType

    assert publish_trigger(None, DagRunType.BACKFILL_JOB) == "backfill"
    assert publish_trigger(None, DagRunType.SCHEDULED) == "nightly"
    assert publish_trigger(None, "backfill") == "backfill"
    assert publish_trigger(None, "manual") == "manual"
    assert publish_trigger(None, None) == "manual"


def test_ledger_levels_on_examples() -> None:
    """The ledger's one vectorised pass gives every file the level deadline_level gives
    its unit list: blanks, a department (by list or by its D code), a batch, a file id
    listed twice (the later row wins, as in a dict built row by row)."""
    import pandas as pd

    from huizong.schedule import deadline_level, ledger_levels

    ledger = pd.DataFrame(
        {
            "file_id": ["a", "b", "c", "d", "e", "f", "g", "a", "h"],
            "units": [
                "130102001001",
                "130102001001,130102001002",
                None,
                "",
                "130102D01",
                "130102001001,130102900",
                "130102001001,130102001001",
                "130102001001,130102001003,",
                "130102001004,",
            ],
        }
    )
    departments = ["130102900"]
    expected = {
        str(fid): deadline_level(str(units or "").split(","), set(departments))
        for fid, units in zip(ledger["file_id"], ledger["units"].fillna(""), strict=True)
    }
    got = ledger_levels(ledger, pd.Series(departments, dtype="str"))
    assert got == expected
    assert got == {
        "a": "township",
        "b": "township",
        "c": "village",
        "d": "village",
        "e": "department",
        "f": "department",
        "g": "village",
        "h": "village",
    }


_CODES = st.sampled_from(["", "130921100201", "130921100202", "130921D01", "d7", "130921"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["f1", "f2", "f3", "f4"]),
            st.one_of(st.none(), st.lists(_CODES, max_size=4).map(",".join)),
        ),
        max_size=8,
    ),
    st.sets(st.sampled_from(["130921100202", "130921"]), max_size=2),
)
def test_ledger_levels_judge_each_file_as_deadline_level_does(
    ledger: list[tuple[str, str | None]], departments: set[str]
) -> None:
    """The one-pass judgement equals asking deadline_level file by file (the last row of a
    repeated file_id wins, as a dict built row by row)."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "file_id": pd.Series([f for f, _ in ledger], dtype="str"),
            "units": pd.Series([u for _, u in ledger], dtype="str"),
        }
    )
    expected = {
        str(fid): deadline_level(str(units or "").split(","), departments) for fid, units in ledger
    }
    assert ledger_levels(frame, departments) == expected


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.none(),
                st.datetimes(min_value=datetime(2026, 11, 25), max_value=datetime(2026, 11, 28)),
            ),
            st.sampled_from(["village", "township", "department", "county"]),
        ),
        max_size=30,
    )
)
def test_on_time_is_one_verdict_whatever_the_times_look_like(rows) -> None:
    """The night hands datetimes, the warehouse ISO text: both read as the same UTC
    instants, each row is judged by its own level's deadline, an unknown one is late."""
    from datetime import date, time

    import pandas as pd

    from huizong.schedule import deadline_at, on_time

    day = date(2026, 11, 26)
    deadlines = {"village": time(17, 30), "township": time(21, 15), "department": time(9, 5)}
    naive = pd.Series([t for t, _ in rows], dtype="datetime64[us]")
    levels = pd.Series([lv for _, lv in rows], dtype="str")
    text = pd.Series([None if t is None else f"{t.isoformat()}+00:00" for t, _ in rows])
    aware = naive.dt.tz_localize("UTC").dt.tz_convert("Asia/Shanghai")
    expected = [
        t is not None
        and lv in deadlines
        and t.replace(tzinfo=UTC) <= deadline_at(day, lv, deadlines)
        for t, lv in rows
    ]
    for received in (naive, text, aware):
        assert on_time(received, levels, day, deadlines).tolist() == expected


@given(st.lists(st.dates(), min_size=1, max_size=6))
def test_a_docs_run_builds_each_days_events_once_oldest_first(days: list) -> None:
    """Events of several nightly runs can queue up for one ``huizong_data_docs`` run."""
    extras = [{"day": d.isoformat()} for d in days]
    assert days_to_document(None, extras) == sorted({d.isoformat() for d in days})


def test_the_day_param_rebuilds_that_day_and_nothing_is_an_error() -> None:
    assert days_to_document("2020-01-28", [{"day": "2020-01-27"}]) == ["2020-01-28"]
    with pytest.raises(ValueError, match="param day"):
        days_to_document(None, [])  # a manual run without the param
    with pytest.raises(ValueError, match="names no day"):
        days_to_document(None, [{"day": "2020-01-28"}, {}])
    with pytest.raises(ValueError):
        days_to_document(None, [{"day": "2020-13-01"}])
