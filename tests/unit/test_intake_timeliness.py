"""Timeliness comes from arrival (the receipt book), never from a file's mtime."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from huizong import frames
from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, deposit, reporting_day_of, safe_file_name
from huizong.intake.config import load_sources
from huizong.intake.deadlines import deadline_of
from huizong.pipeline import ingest_day, rollup_day, validate_day
from huizong.settings import Settings

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")
HEADER = "单位代码,单位名称,日期,排查登记人数,入户走访户数,新增返乡人员"
TOWNSHIP = "130902001"


def _csv(code: str, name: str) -> bytes:
    return f"{HEADER}\n{code},{name},{DAY.isoformat()},1,2,3\n".encode()


def _local(hour: int, day: int = 26) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=TZ)


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_a_file_copied_with_an_old_mtime_is_late_and_counts_match_receipts(tmp_path) -> None:
    settings = _settings(tmp_path)
    inbox = settings.inbox_for(DAY)
    # on time by its receipt (10:00), although its mtime says the next week
    on_time = deposit(
        Arrival(_csv("130902001001", "建北社区"), "建北.csv", _local(10), receipts.MAIL), settings
    )
    os.utime(on_time.path, (1_796_000_000, 1_796_000_000))
    # late by its receipt (next morning 08:00, the night before the run)
    deposit(
        Arrival(_csv("130902001002", "院东社区"), "院东.csv", _local(1, 27), receipts.MAIL),
        settings,
    )
    # copied by hand today with the mtime of the reporting day 09:00 (cp -p): not evidence
    copied = inbox / "站西.csv"
    copied.write_bytes(_csv("130902001012", "站西社区"))
    old = _local(9).timestamp()
    os.utime(copied, (old, old))

    ingest_day(DAY, settings)
    validate_day(DAY, settings)
    rollup_day(DAY, settings)
    run = settings.run_dir(DAY)
    ledger = pd.read_parquet(run / frames.ACCOUNTED_LEDGER).set_index("file_name")
    assert ledger.loc["站西.csv", "received_at"] > pd.Timestamp(
        copied.stat().st_mtime, unit="s", tz="UTC"
    )
    assert ledger.loc["站西.csv", "channel"] == "folder"
    assert ledger.loc["建北.csv", "received_at"] == pd.Timestamp(_local(10))
    assert ledger.loc["建北.csv", "channel"] == "mail"

    # the counts equal a computation from the receipt times alone
    deadline = pd.Timestamp(deadline_of(DAY, "village", load_sources(settings.sources)))
    book = receipts.read_book(receipts.book_path(inbox))
    on_time_by_book = sum(r.timestamp <= deadline for r in book.values())
    done = pd.read_parquet(run / frames.COMPLETENESS).set_index("unit_code").loc[TOWNSHIP]
    assert (done["reported_units"], done["on_time_units"], done["late_units"]) == (3, 1, 2)
    assert done["on_time_units"] == on_time_by_book

    # a re-run keeps the first-seen time of the hand-copied file
    first = ledger.loc["站西.csv", "received_at"]
    ingest_day(DAY, settings)
    again = pd.read_parquet(run / frames.LEDGER).set_index("file_name")
    assert again.loc["站西.csv", "received_at"] == first


def test_arrivals_before_the_night_run_belong_to_the_day_before() -> None:
    assert reporting_day_of(_local(23)) == DAY
    assert reporting_day_of(_local(1, 27)) == DAY  # before the 02:00 run
    assert reporting_day_of(_local(2, 27)) == date(2026, 11, 27)


def test_the_same_bytes_through_one_channel_on_one_day_are_kept_once(tmp_path) -> None:
    settings = _settings(tmp_path)
    data = _csv("130902001001", "建北社区")
    first = deposit(Arrival(data, "a.csv", _local(10), receipts.MAIL, ref="<1@x>"), settings)
    second = deposit(Arrival(data, "b.csv", _local(11), receipts.MAIL, ref="<2@x>"), settings)
    assert first.new and not second.new and second.path == first.path
    book = receipts.read_book(receipts.book_path(settings.inbox_for(DAY)))
    assert [r.ref for r in book.values()] == ["<1@x>"]


def test_sender_file_names_cannot_leave_their_folder() -> None:
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("..\\..\\报表.xlsx") == "报表.xlsx"
    assert safe_file_name("..") == "attachment"
    assert safe_file_name("a\x00b.csv") == "ab.csv"
    long = safe_file_name("村" * 200 + ".xlsx")
    assert long.endswith(".xlsx") and len(long.encode()) <= 180


def test_a_temp_file_left_by_a_crash_is_not_taken_for_a_deposit(tmp_path) -> None:
    settings = _settings(tmp_path)
    data = _csv("130902001001", "建北社区")
    arrival = Arrival(data, "a.csv", _local(10), receipts.MAIL)
    folder = settings.inbox_for(DAY) / "_mail" / arrival.sha256[:16]
    folder.mkdir(parents=True)
    (folder / ".incoming-crashed").write_bytes(data[:5])
    done = deposit(arrival, settings)
    assert done.new and done.path == folder / "a.csv" and done.path.read_bytes() == data


@given(st.text(max_size=400))
def test_any_sender_name_becomes_one_harmless_path_component(name: str) -> None:
    safe = safe_file_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and len(safe.encode("utf-8")) <= 180
    assert Path(safe).name == safe
