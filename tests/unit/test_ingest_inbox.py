"""A day's inbox → RECEIVED + LEDGER: duplicates, revisions, rejections, accounting."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.ingest import ingest_inbox
from huizong.registry import load_registry
from huizong.settings import Settings

CAT = load_catalogue()
DAY = date(2026, 11, 26)
LABELS = ["排查登记人数", "入户走访户数", "新增返乡人员"]
HEADER = "单位代码,单位名称,日期," + ",".join(LABELS)
BASE = 1_795_000_000  # an mtime in late 2026; files get BASE + offset seconds


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _csv(inbox: Path, name: str, lines: list[str], at: int) -> Path:
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    os.utime(path, (BASE + at, BASE + at))
    return path


def _ingest(inbox: Path, tmp_path: Path, registry, **kw):
    settings = Settings(home=tmp_path / "home", **kw)
    return ingest_inbox(inbox, DAY, CAT, registry, settings)[:2], settings


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_missing_inbox_gives_empty_typed_frames(tmp_path: Path, registry) -> None:
    (received, ledger), _ = _ingest(tmp_path / "nope", tmp_path, registry)
    assert received.empty and ledger.empty
    assert list(received.columns) == [*frames.RECEIVED_META, *CAT.codes]
    assert list(ledger.columns) == frames.LEDGER_COLUMNS
    assert received["persons_screened"].dtype == "Int64"
    assert str(received["received_at"].dtype) == "datetime64[us, UTC]"
    assert ledger["rows_received"].dtype == "int64"


def test_files_are_read_stored_and_accounted(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    a = _csv(
        inbox,
        "镇A/a.csv",
        ["130902001001,建北社区,2026-11-26,1,2,3", "130902001002,院东社区,2026-11-26,4,5,6"],
        at=10,
    )
    b = _csv(inbox, "b.csv", ["130902001003,某社区,2026-11-26,7,8,9"], at=20)
    before = pd.Timestamp.now(tz="UTC")
    (received, ledger), settings = _ingest(inbox, tmp_path, registry)
    assert ledger["source"].tolist() == ["镇A/a.csv", "b.csv"]  # same scan: by mtime
    assert ledger["file_id"].tolist() == [_sha(a), _sha(b)]
    assert ledger["status"].tolist() == ["read", "read"]
    assert ledger["size_bytes"].tolist() == [a.stat().st_size, b.stat().st_size]
    # received = first seen by the ledger (both in this scan), not the mtimes
    assert ledger["received_at"].nunique() == 1
    assert before <= ledger["received_at"].iloc[0] <= pd.Timestamp.now(tz="UTC")
    assert ledger["channel"].tolist() == ["folder", "folder"]
    assert (ledger["period"] == "2026-11-26").all()
    assert ledger["units"].tolist() == ["130902001001,130902001002", "130902001003"]
    # accounting: per file, rows_received equals the rows RECEIVED holds for it
    per_file = received.groupby("file_id").size()
    for fid, n in zip(ledger["file_id"], ledger["rows_received"], strict=True):
        assert per_file.get(fid, 0) == n
    assert received["persons_screened"].tolist() == [1, 4, 7]
    # the originals are kept, content-addressed
    for path in (a, b):
        assert (settings.store_dir / _sha(path)).read_bytes() == path.read_bytes()


def test_same_bytes_twice_counts_once(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    first = _csv(inbox, "x/report.csv", ["130902001001,建北社区,2026-11-26,1,2,3"], at=10)
    second = inbox / "y" / "report copy.csv"
    second.parent.mkdir()
    shutil.copyfile(first, second)
    os.utime(second, (BASE + 30, BASE + 30))
    (received, ledger), _ = _ingest(inbox, tmp_path, registry)
    sha = _sha(first)
    assert ledger["status"].tolist() == ["read", "duplicate"]
    assert ledger["file_id"].tolist() == [sha, f"{sha}:y/report copy.csv"]
    assert pd.isna(ledger["duplicate_of"][0]) and ledger["duplicate_of"][1] == sha
    assert ledger["rows_received"].tolist() == [1, 0]
    assert "x/report.csv" in ledger["message"][1]
    assert len(received) == 1 and received["file_id"].tolist() == [sha]
    assert ledger["file_id"].is_unique


def test_later_revision_supersedes_only_its_units(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    batch = _csv(
        inbox,
        "township.csv",
        [
            "130902001001,建北社区,2026-11-26,1,1,1",
            "130902001002,院东社区,2026-11-26,2,2,2",
            "130902001003,某社区,2026-11-26,3,3,3",
        ],
        at=10,
    )
    fix = _csv(inbox, "fix.csv", ["130902001002,院东社区,2026/11/26,20,20,20"], at=50)
    (received, ledger), _ = _ingest(inbox, tmp_path, registry)
    b, f = _sha(batch), _sha(fix)
    rows = received.set_index(["file_id", "unit_code"])
    assert rows.loc[(b, "130902001002"), "disposition"] == "superseded"
    assert rows.loc[(b, "130902001002"), "superseded_by"] == f
    assert "fix.csv" in rows.loc[(b, "130902001002"), "superseded_reason"]
    for code in ("130902001001", "130902001003"):
        assert rows.loc[(b, code), "disposition"] == "candidate"
        assert pd.isna(rows.loc[(b, code), "superseded_by"])
    assert rows.loc[(f, "130902001002"), "disposition"] == "candidate"
    led = ledger.set_index("file_id")
    assert led.loc[b, "rows_superseded"] == 1 and led.loc[b, "status"] == "read"
    assert led.loc[f, "rows_superseded"] == 0
    assert led.loc[b, "rows_received"] == 3  # superseded rows are still accounted


def test_whole_file_superseded_and_same_file_duplicates_left_for_validation(
    tmp_path: Path, registry
) -> None:
    inbox = tmp_path / "inbox"
    old = _csv(inbox, "old.csv", ["130902001001,建北社区,2026-11-26,1,1,1"], at=10)
    new = _csv(
        inbox,
        "new.csv",
        [
            "130902001001,建北社区,2026-11-26,2,2,2",
            "130902001001,建北社区,2026-11-26,3,3,3",
            ",无代码,2026-11-26,4,4,4",
        ],
        at=20,
    )
    (received, ledger), _ = _ingest(inbox, tmp_path, registry)
    led = ledger.set_index("file_id")
    assert led.loc[_sha(old), "status"] == "superseded"
    assert led.loc[_sha(new), "status"] == "read"
    mine = received[received["file_id"] == _sha(new)]
    assert (mine["disposition"] == "candidate").all() and len(mine) == 3


def test_same_mtime_orders_by_source(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    _csv(inbox, "b.csv", ["130902001001,建北社区,2026-11-26,2,2,2"], at=10)
    a = _csv(inbox, "a.csv", ["130902001001,建北社区,2026-11-26,1,1,1"], at=10)
    (received, ledger), _ = _ingest(inbox, tmp_path, registry)
    assert ledger["source"].tolist() == ["a.csv", "b.csv"]  # order: time, then path
    # the same instant: neither file is the later one, so neither supersedes the other
    # (validation quarantines both rows as unique_unit_day, naming both files)
    assert received["disposition"].tolist() == ["candidate", "candidate"]
    assert received["file_id"].tolist() == [_sha(a), _sha(inbox / "b.csv")]


def test_unsupported_unreadable_and_oversized_files_are_rejected(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "report.doc").write_bytes(b"word document")
    (inbox / "~$ok.xlsx").write_bytes(b"lock")
    (inbox / "bad.csv").write_text("名称,备注\nx,y\n", encoding="utf-8")
    big = _csv(inbox, "big.csv", [f"13090200100{i},某,2026-11-26,1,1,1" for i in range(9)], at=5)
    ok = _csv(inbox, "ok.csv", ["130902001001,建北社区,2026-11-26,1,1,1"], at=1)
    limit = big.stat().st_size - 1
    assert ok.stat().st_size <= limit
    (received, ledger), settings = _ingest(inbox, tmp_path, registry, max_file_bytes=limit)
    led = ledger.set_index("source")
    assert led.loc["report.doc", "status"] == "rejected"
    assert "不支持的文件类型 .doc" in led.loc["report.doc", "message"]
    assert "unsupported file type" in led.loc["report.doc", "message"]
    assert led.loc["~$ok.xlsx", "status"] == "rejected"
    assert "lock file" in led.loc["~$ok.xlsx", "message"]
    assert led.loc["bad.csv", "status"] == "rejected"
    assert "no header" in led.loc["bad.csv", "message"]
    assert led.loc["big.csv", "status"] == "rejected"
    assert "too large" in led.loc["big.csv", "message"]
    assert not (settings.store_dir / _sha(big)).exists()
    assert led.loc["ok.csv", "status"] == "read"
    assert ledger.loc[ledger["status"] == "rejected", "rows_received"].eq(0).all()
    assert set(received["file_id"]) == {_sha(ok)}


def test_rerun_is_deterministic(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    _csv(inbox, "a.csv", ["130902001001,建北社区,2026-11-26,1,x,1"], at=10)
    _csv(inbox, "b.csv", ["130902001001,建北社区,2026-11-26,1,1,不适用"], at=20)
    (r1, l1), _ = _ingest(inbox, tmp_path, registry)
    (r2, l2), _ = _ingest(inbox, tmp_path, registry)
    pd.testing.assert_frame_equal(r1, r2)
    pd.testing.assert_frame_equal(l1, l2)


def test_frames_survive_parquet(tmp_path: Path, registry) -> None:
    inbox = tmp_path / "inbox"
    _csv(inbox, "a.csv", ["130902001001,建北社区,2026-11-26,1,,不适用"], at=10)
    (received, ledger), _ = _ingest(inbox, tmp_path, registry)
    received.to_parquet(tmp_path / "r.parquet", index=False)
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back["persons_screened"].dtype == "Int64"
    assert back["households_visited"].isna().all()
    assert back["not_applicable"].tolist() == ["returnees_new"]
    ledger.to_parquet(tmp_path / "l.parquet", index=False)
    assert len(pd.read_parquet(tmp_path / "l.parquet")) == 1


def test_pipeline_ingest_step_writes_both_files(tmp_path: Path) -> None:
    from huizong.pipeline import ingest_day

    settings = Settings(home=tmp_path / "home", inbox_root=tmp_path / "inbox")
    inbox = settings.inbox_for(DAY)
    _csv(inbox, "a.csv", ["130902001001,建北社区,2026-11-26,1,2,3"], at=10)
    summary = ingest_day(DAY, settings)
    no_late = {"day": "2026-11-26", "late_days": [], "late_files": 0}  # routed at the merge
    assert summary == {
        "day": "2026-11-26",
        "files": 1,
        "parts": 1,
        "rows_received": 1,
        "late": no_late,
    }
    run = settings.run_dir(DAY)
    assert len(pd.read_parquet(run / frames.RECEIVED)) == 1
    assert pd.read_parquet(run / frames.LEDGER)["status"].tolist() == ["read"]


def test_pipeline_ingest_step_refuses_a_missing_or_empty_inbox(tmp_path: Path) -> None:
    """The DAG's ingest task calls this: an empty day only with ``allow_empty``."""
    from huizong.pipeline import EmptyInbox, ingest_day

    settings = Settings(home=tmp_path / "home", inbox_root=tmp_path / "inbox")
    with pytest.raises(EmptyInbox, match="does not exist"):
        ingest_day(DAY, settings)
    settings.inbox_for(DAY).mkdir(parents=True)
    (settings.inbox_for(DAY) / "_corrections").mkdir()  # folders alone are no files
    with pytest.raises(EmptyInbox, match="holds no files"):
        ingest_day(DAY, settings)
    assert not settings.run_dir(DAY).exists()
    summary = ingest_day(DAY, settings, allow_empty=True)
    assert summary == {
        "day": "2026-11-26",
        "files": 0,
        "parts": 1,
        "rows_received": 0,
        "late": {"day": "2026-11-26", "late_days": [], "late_files": 0},
    }


def test_scan_lists_nested_entries_links_and_odd_names_as_lstat_sees_them(
    tmp_path: Path,
) -> None:
    """The scan (plain ``os`` strings since it was sped up) names each entry by its path
    under the inbox, with '/' between folders, a GBK name decoded, links not followed."""
    from huizong.ingest.inbox import _scan

    inbox = tmp_path / "inbox"
    (inbox / "县" / "乡").mkdir(parents=True)
    (inbox / "a.xlsx").write_bytes(b"a")
    (inbox / "县" / "乡" / "b.xlsx").write_bytes(b"bb")
    gbk = os.fsdecode("村报表.xlsx".encode("gb18030"))
    (inbox / gbk).write_bytes(b"ccc")
    (inbox / "to_file").symlink_to(inbox / "a.xlsx")
    (inbox / "to_dir").symlink_to(inbox / "县")
    os.mkfifo(inbox / "县" / "pipe")
    os.utime(inbox / "a.xlsx", ns=(0, 1_600_000_000_123_456_789))

    got = {e.source: e for e in _scan(inbox)}

    assert set(got) == {"a.xlsx", "县/乡/b.xlsx", "村报表.xlsx", "to_file", "to_dir", "县/pipe"}
    kinds = {s: e.kind for s, e in got.items()}
    assert kinds["to_file"] == kinds["to_dir"] == "symlink"
    assert kinds["县/pipe"] == "special"
    assert kinds["县/乡/b.xlsx"] == "file"
    for entry in got.values():
        st = os.lstat(entry.path)
        assert entry.size == st.st_size
        assert entry.mtime == pd.Timestamp(st.st_mtime_ns, unit="ns", tz="UTC").as_unit("us")
        assert entry.mtime.unit == "us"
    assert got["村报表.xlsx"].path == inbox / gbk
    assert _scan(tmp_path / "absent") == []
