"""Report history on real SQLite and PostgreSQL: published days read back for the checks
(read by ``warehouse.report_history``, shaped by ``quality.history_frame``)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url

from huizong.catalogue import Catalogue, load_catalogue
from huizong.pipeline import report_history_between
from huizong.publish.warehouse import DayTables, publish_tables
from huizong.quality import cumulative_warnings, history_frame, numeric_codes
from huizong.registry import Registry
from huizong.registry.divisions import ORG_UNIT_COLUMNS
from huizong.warehouse import report_history

CAT = load_catalogue()
DAY = date(2020, 2, 20)
VILLAGES = ["130903001001", "130903001002"]


def load_history(
    url: str, day: date, days: int = 14, catalogue: Catalogue | None = None
) -> pd.DataFrame:
    """What the pipeline does: read the earlier days, then shape them."""
    codes = numeric_codes(catalogue) if catalogue else None
    return history_frame(report_history(url, day, days, codes), catalogue)


def registry() -> Registry:
    units = pd.DataFrame(
        {
            "code": ["1309", "130903", "130903001", *VILLAGES],
            "name": ["沧州市", "运河区", "水月寺街道", "甲村", "乙村"],
            "level": [2, 3, 4, 5, 5],
            "kind": ["city", "county", "township", "village", "village"],
            "parent_code": ["13", "1309", "130903", "130903001", "130903001"],
        }
    )
    return Registry(units=units.reindex(columns=ORG_UNIT_COLUMNS), root="1309")


def report(day: date, confirmed: list[int | None]) -> pd.DataFrame:
    """An ACCEPTED frame of the two villages; confirmed_total as given, NA elsewhere."""
    frame = pd.DataFrame(
        {
            "file_id": [f"{day:%Y%m%d}{k:056d}" for k in range(2)],
            "file_name": "水月寺街道.xlsx",
            "sheet": "日报表",
            "row_number": [4, 5],
            "unit_code": VILLAGES,
            "unit_name": ["甲村", "乙村"],
            "period": day.isoformat(),
            "received_at": pd.Timestamp(day, tz="UTC"),
            "not_applicable": "",
            "coercions": "[]",
        }
    )
    for ind in CAT.indicators:
        frame[ind.code] = pd.array([pd.NA, pd.NA], dtype="Int64" if ind.is_numeric else "str")
    frame["confirmed_total"] = pd.array(confirmed, dtype="Int64")
    frame["persons_screened"] = pd.array([0, 3], dtype="Int64")  # a real zero stays 0
    frame["problems"] = pd.array(["无", pd.NA], dtype="str")
    return frame


def publish(url: str, day: date, confirmed: list[int | None]) -> None:
    empty = pd.DataFrame()
    tables = DayTables(empty, empty, empty, empty, empty, empty, report(day, confirmed))
    publish_tables(url, day, tables, registry(), CAT)


def test_load_history_reads_the_days_before_and_feeds_the_checks(warehouse_url):
    url = warehouse_url
    database = make_url(url).database
    assert load_history(url, DAY, catalogue=CAT).empty  # nothing published yet
    assert report_history_between(url, DAY, CAT, "0", "9").empty
    if make_url(url).get_backend_name() == "sqlite":
        assert not Path(database).exists()  # reading never creates the warehouse

    publish(url, DAY - timedelta(days=20), [1, 1])  # outside the 14-day window
    publish(url, DAY - timedelta(days=2), [10, 4])
    publish(url, DAY - timedelta(days=1), [12, None])
    publish(url, DAY, [99, 99])  # the day itself: never its own history

    hist = load_history(url, DAY, days=14, catalogue=CAT)
    assert list(hist.columns) == ["period", "unit_code", *(i.code for i in CAT.numeric)]
    assert hist[["period", "unit_code"]].values.tolist() == [
        ["2020-02-18", "130903001001"],
        ["2020-02-18", "130903001002"],
        ["2020-02-19", "130903001001"],
        ["2020-02-19", "130903001002"],
    ]
    assert hist["confirmed_total"].tolist() == [10, 4, 12, pd.NA]
    assert hist["persons_screened"].tolist() == [0, 3, 0, 3]
    assert str(hist["confirmed_total"].dtype) == "Int64"
    assert hist["masks_in_stock"].isna().all()

    # the night reads it a slice of reporters and a day at a time: the same rows
    sliced = report_history_between(url, DAY, CAT, VILLAGES[0], VILLAGES[1])
    pd.testing.assert_frame_equal(sliced, hist)
    second = report_history_between(url, DAY, CAT, VILLAGES[1], VILLAGES[1])
    want = hist[hist["unit_code"] == VILLAGES[1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(second, want)
    assert report_history_between(url, DAY, CAT, "2", "3").empty

    loose = load_history(url, DAY, days=1)  # no catalogue: numeric columns inferred
    assert loose["period"].tolist() == ["2020-02-19", "2020-02-19"]
    assert "problems" not in loose.columns and "file_id" not in loose.columns
    assert loose["confirmed_total"].tolist() == [12, pd.NA]

    today = report(DAY, [11, 5])
    out = cumulative_warnings(today, DAY, CAT, hist)
    assert out[["unit_code", "rule", "value"]].values.tolist() == [
        ["130903001001", "cumulative_down:confirmed_total", "11"]
    ]
    assert "低于本单位 2020-02-19 填报的 12（减少 1）" in out["message_zh"].iloc[0]
