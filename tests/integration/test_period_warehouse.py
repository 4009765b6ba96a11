"""Week/旬/month tables in the warehouse, on SQLite and PostgreSQL: the consolidation as
published is what reads back, a re-publication replaces it, and the daily tables keep
their key and queries."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Date, bindparam, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from helpers.periods import CATALOGUE, REGISTRY, daily_completeness, reports_frame
from huizong.periods import consolidate_period, period_of
from huizong.publish.warehouse import (
    PERIOD_SPECS,
    normalise_url,
    publish_period,
    read_day_range,
    read_period_table,
)
from huizong.settings import Settings

WEEK = period_of(date(2020, 1, 28), "week")


def _week(bump: int = 0):
    days = [{"130902001001": (1 + bump, 10 + n), "130903001002": (2, None)} for n in range(7)]
    days[6] = {"130903001002": (3, 7)}
    return consolidate_period(
        WEEK,
        reports_frame(days, {3}),
        daily_completeness(days, {3}),
        CATALOGUE,
        REGISTRY,
        Settings.from_env(),
    )


def test_a_published_week_reads_back_and_a_republication_replaces_it(warehouse_url):
    tables = _week()
    counts = publish_period(
        warehouse_url, "week", WEEK.start, tables.consolidated, tables.completeness, CATALOGUE
    )
    assert counts == {
        "period_consolidated": len(tables.consolidated),
        "period_completeness": len(tables.completeness),
    }
    got = read_period_table(warehouse_url, "period_consolidated", "week", WEEK.start)
    city = got.set_index(["unit_code", "indicator"]).loc["1309"]
    assert city.loc["flow", "value"] == 5 * 1 + 5 * 2 + 3  # day 3 (01-30) was never published
    assert city.loc["stock", "value"] == 15 + 7  # 建北社区 carried from 02-01
    assert city.loc["stock", "carried_units"] == 1
    assert set(got["period_label"]) == {"2020-W05"}
    comp = read_period_table(warehouse_url, "period_completeness", "week", WEEK.start)
    assert comp.set_index("unit_code").loc["1309", "reporter_days_expected"] == 5 * 7

    again = _week(bump=100)
    publish_period(
        warehouse_url, "week", WEEK.start, again.consolidated, again.completeness, CATALOGUE
    )
    got = read_period_table(warehouse_url, "period_consolidated", "week", WEEK.start)
    assert len(got) == len(tables.consolidated)
    assert (
        got.set_index(["unit_code", "indicator"]).loc[("1309", "flow"), "value"]
        == 5 * 101 + 5 * 2 + 3
    )

    engine = create_engine(normalise_url(warehouse_url), poolclass=NullPool)
    try:
        insp = inspect(engine)
        for table, spec in PERIOD_SPECS.items():
            assert [c["name"] for c in insp.get_columns(table)] == [c for c, _ in spec], table
        assert insp.get_pk_constraint("consolidated")["constrained_columns"] == [
            "period",
            "unit_code",
            "indicator",
        ]
    finally:
        engine.dispose()
    # the daily tables are there and their range query works (nothing published: empty)
    assert read_day_range(warehouse_url, "completeness", WEEK.start, WEEK.end).empty


def test_a_period_never_published_reads_as_empty(warehouse_url):
    got = read_period_table(warehouse_url, "period_consolidated", "month", date(2020, 1, 1))
    assert got.empty and list(got.columns) == [c for c, _ in PERIOD_SPECS["period_consolidated"]]
    assert isinstance(got, pd.DataFrame)


def test_each_publication_is_recorded_with_its_time_and_run(warehouse_url):
    """``publication``: one row per period, replaced by a re-publication with the new
    run and a later time; what the downloads page reads, on both dialects."""
    from datetime import UTC, datetime

    from huizong.review.downloads import publications

    before = datetime.now(UTC)
    tables = _week()
    args = (warehouse_url, "week", WEEK.start, tables.consolidated, tables.completeness)
    publish_period(*args, CATALOGUE, run_id="scheduled__2020-01-28T18:00:00+00:00")
    engine = create_engine(normalise_url(warehouse_url), poolclass=NullPool)
    try:
        first = publications(engine)
        assert list(first) == [("week", "2020-01-27")]
        at, run = first[("week", "2020-01-27")].published_at, first[("week", "2020-01-27")].run
        assert run == "scheduled__2020-01-28T18:00:00+00:00"
        assert first[("week", "2020-01-27")].version is None  # periods are not versioned
        assert before <= at.to_pydatetime() <= datetime.now(UTC)
        publish_period(*args, CATALOGUE)  # from the command line: no Airflow run
        again = publications(engine)
        assert list(again) == [("week", "2020-01-27")]
        assert again[("week", "2020-01-27")].run == "huizong run"
        assert again[("week", "2020-01-27")].published_at >= at
    finally:
        engine.dispose()


def test_the_days_read_in_chunks_equal_one_whole_read(warehouse_url, monkeypatch):
    """``read_day_range`` types the report rows a chunk at a time (a national day as
    Python tuples at once was 1.5 GB): the frame is the one a whole read gives, with a
    chunk whose numbers and times are all blank, on both dialects."""
    from huizong.publish import warehouse as wh
    from huizong.sqlfiles import load_sql
    from huizong.warehouse import rows_frame

    day = date(2020, 1, 28)
    n = 7
    given = [k not in (2, 3) for k in range(n)]  # rows 2 and 3: the second chunk of two
    frame = pd.DataFrame(
        {
            "period": [day.isoformat()] * n,
            "unit_code": [f"13090200100{k}" for k in range(n)],
            "unit_name": [f"村{k}" if k != 4 else None for k in range(n)],
            "file_id": [f"f{k % 3}" for k in range(n)],
            "file_name": ["a.xlsx"] * n,
            "sheet": ["s"] * n,
            "row_number": list(range(n)),
            "received_at": [
                f"2020-01-28T0{k}:00:00.{k}12+00:00" if g else None for k, g in enumerate(given)
            ],
            "not_applicable": [None] * n,
            "coercions": [None] * n,
            **{
                i.code: [
                    (k * 10 if i.is_numeric else f"t{k}") if g else None
                    for k, g in enumerate(given)
                ]
                for i in CATALOGUE.indicators
            },
        }
    )
    spec = wh.report_spec(CATALOGUE)
    loads = wh.load_frame("report", frame, day, spec)
    with wh._engine(warehouse_url) as engine:
        with engine.begin() as conn:
            wh.ensure_schema(conn, CATALOGUE)
            wh._bulk(conn, "report", loads)
        with engine.connect() as conn:
            stmt = load_sql("periods/select_day_range.sql").format(
                table=wh._q("report"), columns="*"
            )
            stmt = text(stmt)
            stmt = stmt.bindparams(bindparam("start", type_=Date), bindparam("end", type_=Date))
            whole = wh._typed_day_rows(
                rows_frame(conn.execute(stmt, {"start": day, "end": day})), "report", CATALOGUE
            )
    monkeypatch.setattr(wh, "_FETCH_ROWS", 2)
    chunked = read_day_range(warehouse_url, "report", day, day, catalogue=CATALOGUE)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    assert chunked["received_at"].notna().sum() == sum(given)
    # the period step reads only the columns it reduces (and the sort keys, always)
    some = ["unit_name", "received_at", CATALOGUE.indicators[0].code]
    narrow = read_day_range(warehouse_url, "report", day, day, catalogue=CATALOGUE, columns=some)
    kept = [c for c in whole.columns if c in {"period", "unit_code", *some}]
    assert list(narrow.columns) == kept
    pd.testing.assert_frame_equal(narrow, whole[kept], check_exact=True)
