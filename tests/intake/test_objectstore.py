"""A shared drive as a source, through Airflow's ObjectStoragePath on a real folder
(``file://``): taken once, timed when first seen (not by mtime), never moved or deleted;
a file overwritten with a correction is a new arrival; an unmounted share fails clearly."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from helpers.reports import report_xlsx, zipped_gb18030_csv
from huizong import frames
from huizong.intake.arrivals import reporting_day_of
from huizong.intake.objectstore import StoreUnavailable
from huizong.intake.pull import pull_sources
from huizong.pipeline import ingest_day, validate_day
from huizong.settings import Settings

#: first seen now: the reporting day of a pull is today's (before 02:00, yesterday's)
TODAY = reporting_day_of(datetime.now(UTC))
DAY = date(2026, 11, 26)  # a past day, for a store whose own write time is used
OLD = datetime(2026, 11, 26, 1, 0, tzinfo=UTC).timestamp()  # 09:00 local on DAY


def _xlsx(code: str, name: str, screened: int, day: date = TODAY) -> bytes:
    return report_xlsx(code, name, day, screened)


def _settings(tmp_path: Path, share: Path, received: str = "first_seen") -> Settings:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[store]]\nname = "share"\nurl = "file://{share}/"\nreceived = "{received}"\n',
        encoding="utf-8",
    )
    return Settings(home=tmp_path / "home", sources_file=sources)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))  # copied with cp -p: an mtime that proves nothing


def test_a_shared_folder_is_taken_once_timed_when_seen_and_left_as_it_is(tmp_path) -> None:
    share = tmp_path / "share"
    _write(share / "新华区" / "建北社区.xlsx", _xlsx("130902001001", "建北社区", 1))
    _write(share / "院东.zip", zipped_gb18030_csv(TODAY))
    _write(share / "说明.txt", "不是报表".encode())
    settings = _settings(tmp_path, share)
    before = pd.Timestamp.now(tz="UTC")

    first = pull_sources(settings)["share"]
    after = pd.Timestamp.now(tz="UTC")
    assert (first["files_new"], first["files_again"]) == (2, 0)
    assert pull_sources(settings)["share"]["files_new"] == 0  # taken once
    assert sorted(p.name for p in share.rglob("*") if p.is_file()) == [
        "建北社区.xlsx",
        "说明.txt",
        "院东.zip",
    ]  # nothing moved or deleted there

    # a correction written over the same path is a new arrival; it supersedes at night
    _write(share / "新华区" / "建北社区.xlsx", _xlsx("130902001001", "建北社区", 7))
    assert pull_sources(settings)["share"]["files_new"] == 1
    ingest_day(TODAY, settings)
    validate_day(TODAY, settings)
    run = settings.run_dir(TODAY)
    ledger = pd.read_parquet(run / frames.ACCOUNTED_LEDGER)
    assert set(ledger["channel"]) == {"store"}
    assert sorted(ledger["status"]) == ["accepted", "accepted", "superseded"]
    seen = pd.to_datetime(ledger["received_at"], utc=True)
    assert ((seen >= before) & (seen > pd.Timestamp(OLD, unit="s", tz="UTC"))).all()
    assert (seen <= pd.Timestamp.now(tz="UTC")).all() and (seen <= after).sum() == 2
    accepted = pd.read_parquet(run / frames.ACCEPTED).set_index("unit_code")
    assert int(accepted.loc["130902001001", "persons_screened"]) == 7
    assert accepted.loc["130902001002", "unit_name"] == "院东社区"  # GB18030 inside the zip


def test_received_modified_uses_the_stores_own_time(tmp_path) -> None:
    share = tmp_path / "share"
    _write(share / "建北社区.xlsx", _xlsx("130902001001", "建北社区", 1, DAY))
    settings = _settings(tmp_path, share, received="modified")
    pull_sources(settings)
    ingest_day(DAY, settings)
    ledger = pd.read_parquet(settings.run_dir(DAY) / frames.LEDGER)
    assert pd.Timestamp(ledger["received_at"].iloc[0]) == pd.Timestamp(OLD, unit="s", tz="UTC")


def test_an_unmounted_share_fails_the_pull_clearly(tmp_path) -> None:
    settings = _settings(tmp_path, tmp_path / "not-mounted")
    with pytest.raises(StoreUnavailable, match=r"共享位置“share”.*could not be read"):
        pull_sources(settings)
    assert not (tmp_path / "home" / "intake").exists()  # nothing marked as taken
