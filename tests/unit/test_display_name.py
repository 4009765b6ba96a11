"""File names as the ledger shows them: UTF-8 and GBK names, and the two mixed in one path."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from huizong.ingest.inbox import _scan, display_name


def test_a_gbk_file_in_a_utf8_folder_keeps_both_names(tmp_path: Path) -> None:
    folder = tmp_path / "沧县"
    folder.mkdir()
    gbk = os.path.join(os.fsencode(folder), "东关村日报.csv".encode("gb18030"))
    with open(gbk, "wb") as f:
        f.write(b"x")
    (source,) = [e.source for e in _scan(tmp_path)]
    assert source == "沧县/东关村日报.csv"


def test_names_in_one_encoding() -> None:
    assert display_name("建北社区.xlsx") == "建北社区.xlsx"
    gbk = os.fsdecode("院东社区.csv".encode("gb18030"))
    assert display_name(gbk) == "院东社区.csv"
    broken = os.fsdecode(b"\xff\xfe.csv")
    assert display_name(broken) == "\ufffd\ufffd.csv"


def test_a_receipt_recorded_under_the_whole_path_name_still_times_the_file(
    tmp_path: Path,
) -> None:
    """Receipts were keyed by the whole path decoded as one string until names were decoded
    per component: such a file's recorded arrival must survive a re-run, not be reset to
    now (it would turn late, and change which report supersedes which)."""
    from huizong.ingest import receipts
    from huizong.ingest.inbox import _stamp_receipts, _whole_name

    folder = tmp_path / "inbox" / "沧县"
    folder.mkdir(parents=True)
    rel = "沧县/".encode() + "东关村日报.csv".encode("gb18030")
    with open(os.path.join(os.fsencode(tmp_path / "inbox"), rel), "wb") as f:
        f.write(b"x")
    (entry,) = _scan(tmp_path / "inbox")
    old_key = _whole_name(rel)
    assert entry.legacy_source == old_key != entry.source
    entry.sha256 = "ab" * 32
    book = tmp_path / "receipts.jsonl"
    receipts.append(
        book,
        [receipts.Receipt(old_key, entry.sha256, "2026-11-26T08:00:00+00:00", receipts.FOLDER)],
    )
    _stamp_receipts([entry], book)
    assert entry.received_at == pd.Timestamp("2026-11-26T08:00:00Z")
    # re-keyed under today's name, so the next run finds it directly
    assert (entry.source, entry.sha256) in receipts.read_book(book)
