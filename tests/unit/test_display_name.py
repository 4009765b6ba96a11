"""File names as the ledger shows them: UTF-8 and GBK names, and the two mixed in one path."""

from __future__ import annotations

import os
from pathlib import Path

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
