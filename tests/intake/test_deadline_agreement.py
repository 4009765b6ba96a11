"""One deadline setting: the upload receipt, the night's timeliness and the workbooks'
统计截止时间 name the same deadline for the same unit and day (a user saw 20:00 on the
receipt and 24:00 in the night and the workbook)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from huizong import frames
from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, deposit
from huizong.intake.receipt import upload_receipt
from huizong.pipeline import ingest_day, rollup_day, validate_day
from huizong.publish.unit_report import letterhead_for
from huizong.registry import registry_for
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
TOWNSHIP, COUNTY = "130902001", "130902"


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=TZ)


def _rows(*units: tuple[str, str]) -> bytes:
    lines = [f"{code},{name},{DAY.isoformat()},1,2,3" for code, name in units]
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def test_receipt_night_and_workbook_name_the_same_deadline(tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    sources = tmp_path / "sources.toml"
    # unusual times, so that no default anywhere can pass for the setting
    sources.write_text('[deadlines]\nvillage = "17:30"\ntownship = "21:15"\n', encoding="utf-8")
    settings = Settings(home=home, sources_file=sources)
    batch = deposit(
        Arrival(
            _rows(("130902001001", "建北社区"), ("130902001002", "院东社区")),
            "街道汇总.csv",
            _at(21),  # after the villages' 17:30, before the township's 21:15
            receipts.UPLOAD,
            sender="clerk",
        ),
        settings,
        day=DAY,
    )
    alone = deposit(
        Arrival(_rows(("130902001012", "站西社区")), "站西.csv", _at(19), receipts.UPLOAD),
        settings,
        day=DAY,
    )
    before = _at(12)
    on_batch = upload_receipt(batch.path, DAY, settings, now=before)
    on_alone = upload_receipt(alone.path, DAY, settings, now=before)
    assert "deadline: 2026-11-26 21:15" in on_batch and "（按时 / on time）" in on_batch
    assert "deadline: 2026-11-26 17:30" in on_alone
    assert "（晚于截止时间 / after the deadline）" in on_alone

    ingest_day(DAY, settings)
    validate_day(DAY, settings)
    rollup_day(DAY, settings)
    done = pd.read_parquet(settings.run_dir(DAY) / frames.COMPLETENESS).set_index("unit_code")
    town = done.loc[TOWNSHIP]
    assert (town["reported_units"], town["on_time_units"], town["late_units"]) == (3, 2, 1)

    registry = registry_for(settings)
    # the township's workbook is closed by its villages' deadline, the county's by the
    # townships' batches: the deadlines the receipts named
    assert letterhead_for(TOWNSHIP, DAY, registry, settings).cutoff == "2026年11月26日17:30"
    assert letterhead_for(COUNTY, DAY, registry, settings).cutoff == "2026年11月26日21:15"
