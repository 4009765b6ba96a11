"""Messy files in the inbox: what each one is, and the exact ledger outcome.

Every file is generated here. Each test runs the real ingest (no GX: fast) on an inbox
holding the case and a clean file beside it, and asserts the ledger row of the case.
"""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from huizong.catalogue import load_catalogue
from huizong.ingest import SubmissionRejected, ingest_inbox
from huizong.ingest.receipts import book_path
from huizong.ingest.safety import Limits, check_zip, guard_file
from huizong.registry import load_registry
from huizong.settings import Settings

CAT = load_catalogue()
DAY = date(2026, 11, 26)
LABELS = ["单位代码", "单位名称", "日期", "排查登记人数", "入户走访户数", "新增返乡人员"]
ROW = ["130902001001", "建北社区居民委员会", "2026-11-26", "7", "8", "9"]
BASE = 1_795_000_000
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _csv_bytes(rows: list[list[str]] | None = None) -> bytes:
    lines = [",".join(LABELS), *(",".join(r) for r in rows or [ROW])]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xlsx_bytes(rows: list[list[str]] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "日报表"
    ws.append(LABELS)
    for r in rows or [ROW]:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _put(inbox: Path, name: str, data: bytes, at: int = 10) -> Path:
    path = inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (BASE + at, BASE + at))
    return path


def _ingest(inbox: Path, home: Path, registry, **kw):
    settings = Settings(home=home, **kw)
    received, ledger, _ = ingest_inbox(inbox, DAY, CAT, registry, settings)
    return received, ledger.set_index("source"), settings


def _one(tmp_path: Path, registry, name: str, data: bytes, **kw):
    inbox = tmp_path / "inbox"
    _put(inbox, name, data)
    received, ledger, settings = _ingest(inbox, tmp_path / "home", registry, **kw)
    return received, ledger.loc[name], settings


def _bomb(size: int, *, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A small zip whose one member unpacks to ``size`` bytes of zeros (written streamed)."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open(name, "w", force_zip64=True) as member,
    ):
        chunk = b"0" * MIB
        for _ in range(size // MIB):
            member.write(chunk)
    return buf.getvalue()


def test_empty_file_is_rejected(tmp_path, registry):
    inbox = tmp_path / "inbox"
    _put(inbox, "村报表.xlsx", b"")
    _put(inbox, "another.csv", b"", at=11)
    _, ledger, _ = _ingest(inbox, tmp_path / "home", registry)
    empty = hashlib.sha256(b"").hexdigest()
    assert ledger["status"].tolist() == ["rejected", "rejected"]
    assert (
        ledger["message"].tolist()
        == ["空文件（0字节），请重新导出后上报 / empty file (0 bytes); export it again"] * 2
    )
    assert ledger["file_id"].tolist() == [f"{empty}:村报表.xlsx", f"{empty}:another.csv"]
    assert ledger["rows_received"].tolist() == [0, 0]


def test_xlsx_that_is_csv_is_read_as_csv_with_a_note(tmp_path, registry):
    received, row, _ = _one(tmp_path, registry, "导出.xlsx", _csv_bytes())
    assert row["status"] == "read"
    assert row["message"] == (
        "扩展名为.xlsx但内容是CSV，已按.csv读取 / named .xlsx but the content is CSV; read as .csv"
    )
    assert received[["unit_code", "persons_screened", "returnees_new"]].values.tolist() == [
        ["130902001001", 7, 9]
    ]


def test_xls_that_is_a_real_xlsx_is_read_with_a_note(tmp_path, registry):
    received, row, _ = _one(tmp_path, registry, "导出.xls", _xlsx_bytes())
    assert row["status"] == "read"
    assert row["message"] == (
        "扩展名为.xls但内容是Excel工作簿，已按.xlsx读取 / named .xls but the content is an "
        "Excel workbook; read as .xlsx"
    )
    assert received["persons_screened"].tolist() == [7]


HTML = (
    "<html><head><meta charset='utf-8'></head><body><table>"
    "<tr><td>单位代码</td><td>单位名称</td><td>日期</td></tr>"
    "<tr><td>130902001001</td><td>建北社区居民委员会</td><td>2026-11-26</td></tr>"
    "</table></body></html>"
).encode()


@pytest.mark.parametrize("name", ["系统导出.xlsx", "系统导出.xls"])
def test_html_table_named_excel_is_rejected_with_save_as_advice(tmp_path, registry, name):
    _, row, _ = _one(tmp_path, registry, name, b"\xef\xbb\xbf  " + HTML)
    suffix = Path(name).suffix
    assert row["status"] == "rejected"
    assert row["message"] == (
        f"文件“{name}”扩展名为{suffix}，但内容是网页（HTML）表格（一些系统导出的“Excel”"
        "其实是网页）：请用Excel打开，“另存为”Excel工作簿（.xlsx）后重报 / "
        f"{name} is named {suffix} but is an HTML page (some systems export 'Excel' as "
        "HTML): open it in Excel, 'Save As' Excel Workbook (.xlsx) and resubmit"
    )


def test_old_xls_or_encrypted_workbook_is_rejected(tmp_path, registry):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
    _, row, _ = _one(tmp_path, registry, "加密.xlsx", ole2)
    assert row["status"] == "rejected"
    assert row["message"].startswith("文件“加密.xlsx”是旧版Excel（.xls）或设置了打开密码的工作簿")


def test_truncated_workbook_is_rejected_as_damaged(tmp_path, registry):
    data = _xlsx_bytes()
    _, row, _ = _one(tmp_path, registry, "下载一半.xlsx", data[: len(data) // 2])
    assert row["status"] == "rejected"
    assert row["message"] == (
        "文件已损坏：“下载一半.xlsx”无法作为Excel工作簿打开（可能下载或复制不完整），"
        "请重新导出后上报 / the file is damaged: 下载一半.xlsx cannot be opened as an Excel "
        "workbook (perhaps an incomplete download or copy); export it again"
    )


def test_binary_junk_named_xlsx_is_rejected_as_damaged(tmp_path, registry):
    _, row, _ = _one(tmp_path, registry, "乱码.xlsx", b"\x00\x01\x02garbage" * 10)
    assert row["status"] == "rejected"
    assert row["message"].startswith("文件已损坏：“乱码.xlsx”既不是Excel工作簿也不是CSV表格")


def test_bomb_over_the_unpacked_limit_is_refused_before_reading(tmp_path, registry, monkeypatch):
    monkeypatch.setenv("HUIZONG_MAX_UNPACKED_BYTES", str(8 * MIB))
    monkeypatch.setenv("HUIZONG_MAX_COMPRESSION_RATIO", "100000")  # the size limit decides
    _, row, _ = _one(tmp_path, registry, "bomb.xlsx", _bomb(16 * MIB))
    assert row["status"] == "rejected"
    assert row["message"] == (
        "文件“bomb.xlsx”解压后超过 8 MiB（至少 16777216 字节），疑似“压缩炸弹”或异常巨大的工作簿，"
        "未读取；请只保留报表数据后重新保存 / bomb.xlsx unpacks to more than 8 MiB (at least "
        "16777216 bytes): a likely decompression bomb or an abnormally large workbook; not "
        "read. Keep only the report's data and save it again"
    )


def test_bomb_by_compression_ratio_is_refused_at_default_limits(tmp_path, registry):
    data = _bomb(64 * MIB)
    assert len(data) < 200_000  # tiny on disk
    _, row, _ = _one(tmp_path, registry, "bomb.xlsx", data)
    assert row["status"] == "rejected"
    assert row["message"].startswith("文件“bomb.xlsx”的部件 xl/worksheets/sheet1.xml 压缩比异常（")
    assert "疑似“压缩炸弹”，未读取" in row["message"]


def test_bomb_that_lies_about_its_sizes_is_stopped_in_bounded_memory(tmp_path):
    data = bytearray(_bomb(64 * MIB))
    # forge the declared uncompressed size (local header and central directory) to 1 KiB
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(sig) + offset
        data[at : at + 4] = (1024).to_bytes(4, "little")
    path = tmp_path / "liar.xlsx"
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        with pytest.raises(SubmissionRejected) as info:
            # 8 MiB: the compressed size x 1032 could exceed it, so the members are streamed
            guard_file(path, ".xlsx", limits=Limits(max_unpacked_bytes=8 * MIB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.message_zh.startswith("文件已损坏：“liar.xlsx”")
    assert peak < 8 * MIB


def test_unpacked_limit_is_inclusive_to_the_byte(tmp_path):
    path = tmp_path / "two.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", b"1" * (3 * MIB))
        zf.writestr("b.xml", b"2" * (3 * MIB))
    check_zip(path, Limits(max_unpacked_bytes=6 * MIB, max_ratio=1e9))  # exactly at the limit
    with pytest.raises(SubmissionRejected) as info:
        check_zip(path, Limits(max_unpacked_bytes=6 * MIB - 1, max_ratio=1e9))
    assert "解压后超过" in info.value.message_zh


def test_file_over_max_file_bytes_is_refused_and_one_at_the_limit_is_read(tmp_path, registry):
    inbox = tmp_path / "inbox"
    ok = _put(inbox, "at_limit.csv", _csv_bytes())
    rows = [[f"13090200101{i}", "某社区", "2026-11-26", "1", "1", "1"] for i in range(5)]
    big = _put(inbox, "big.csv", _csv_bytes(rows), at=20)
    limit = ok.stat().st_size
    assert big.stat().st_size > limit
    _, ledger, settings = _ingest(inbox, tmp_path / "home", registry, max_file_bytes=limit)
    assert ledger.loc["at_limit.csv", ["status", "rows_received"]].tolist() == ["read", 1]
    assert ledger.loc["big.csv", "status"] == "rejected"
    size = big.stat().st_size
    assert ledger.loc["big.csv", "message"] == (
        f"文件过大（{size} 字节，上限 {limit} 字节），未读取 / "
        f"file too large ({size} bytes, limit {limit}); not read"
    )
    assert ledger.loc["big.csv", "file_id"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert not (settings.store_dir / ledger.loc["big.csv", "file_id"]).exists()


LONG = "沧州市新华区建设北街街道建北社区居民委员会疫情防控工作日报表" * 2 + "最终版"


@pytest.mark.parametrize(
    "name",
    [
        "建北 社区 日报 2026-11-26.csv",
        "..%2F..%2Fetc%2Fpasswd.csv",
        "..报表.xlsx",
        ".建北社区.csv",
        f"{LONG}.xlsx",
        "a\\..\\..\\b.csv",
    ],
    ids=["spaces", "encoded_traversal", "leading_dots_xlsx", "leading_dot", "long", "backslash"],
)
def test_odd_names_are_read_and_nothing_is_written_outside_home(tmp_path, registry, name):
    data = _xlsx_bytes() if name.endswith(".xlsx") else _csv_bytes()
    received, row, settings = _one(tmp_path, registry, name, data)
    assert row["status"] == "read" and row["rows_received"] == 1
    assert row["file_name"] == name
    assert received["file_name"].tolist() == [name]
    sha = hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in settings.store_dir.iterdir()) == [sha]
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    outside = {p for p in written if not p.is_relative_to(settings.home)}
    # the file itself, and the day's receipt book beside the day's folder (a fixed name)
    assert outside == {tmp_path / "inbox" / name, book_path(tmp_path / "inbox")}


@pytest.mark.parametrize("name", ["~$日报.xlsx", ".~lock.日报.xlsx#", "._日报.xlsx", ".DS_Store"])
def test_editor_and_system_junk_is_rejected(tmp_path, registry, name):
    _, row, _ = _one(tmp_path, registry, name, b"lock")
    assert row["status"] == "rejected"
    assert row["message"] == (
        "临时文件或系统文件（如Excel打开时生成的 ~$ 文件），不是报表 / "
        "temporary or system file (e.g. an Excel lock file), not a report"
    )


def test_symlinks_in_the_inbox_are_never_followed(tmp_path, registry):
    outside = tmp_path / "secret"
    outside.mkdir()
    target = outside / "other_county.csv"
    target.write_bytes(_csv_bytes())
    inbox = tmp_path / "inbox"
    _put(inbox, "real.csv", _csv_bytes([["130902001002", "院东社区居民委员会", *ROW[2:]]]))
    (inbox / "link.csv").symlink_to(target)
    (inbox / "linked_dir").symlink_to(outside, target_is_directory=True)
    received, ledger, settings = _ingest(inbox, tmp_path / "home", registry)
    message = (
        "不读取链接文件（符号链接可能指向收件箱以外），请上传文件本身 / links are not read "
        "(a symbolic link may point outside the inbox); upload the file itself"
    )
    for source in ("link.csv", "linked_dir"):
        assert ledger.loc[source, ["status", "message", "file_id"]].tolist() == [
            "rejected",
            message,
            f"symlink:{source}",
        ]
    assert ledger.loc["real.csv", "status"] == "read"
    assert received["unit_code"].tolist() == ["130902001002"]
    target_sha = hashlib.sha256(target.read_bytes()).hexdigest()
    assert not (settings.store_dir / target_sha).exists()


def test_every_messy_case_together_keeps_one_ledger_row_each(tmp_path, registry):
    inbox = tmp_path / "inbox"
    cases = {
        "empty.csv": b"",
        "csv.xlsx": _csv_bytes(),
        "html.xls": HTML,
        "cut.xlsx": _xlsx_bytes()[:300],
        "good.xlsx": _xlsx_bytes([["130902001002", "院东社区居民委员会", *ROW[2:]]]),
    }
    for i, (name, data) in enumerate(cases.items()):
        _put(inbox, name, data, at=i)
    received, ledger, _ = _ingest(inbox, tmp_path / "home", registry)
    assert ledger["status"].to_dict() == {
        "empty.csv": "rejected",
        "csv.xlsx": "read",
        "html.xls": "rejected",
        "cut.xlsx": "rejected",
        "good.xlsx": "read",
    }
    assert ledger["message"].str.len().gt(0).sum() == 4  # every rejection and the note
    assert received.groupby("file_name").size().to_dict() == {"csv.xlsx": 1, "good.xlsx": 1}
    assert isinstance(received["received_at"].iloc[0], pd.Timestamp)


def test_gbk_file_name_from_a_zip_unpacked_on_linux_is_shown_as_chinese(tmp_path, registry):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    raw_name = "建北社区日报.csv".encode("gb18030")  # not UTF-8: a surrogate-escaped str
    path = Path(os.fsdecode(os.path.join(os.fsencode(inbox), raw_name)))
    path.write_bytes(_csv_bytes())
    received, ledger, _ = _ingest(inbox, tmp_path / "home", registry)
    assert ledger.index.tolist() == ["建北社区日报.csv"]
    assert ledger["file_name"].tolist() == ["建北社区日报.csv"]
    assert ledger["status"].tolist() == ["read"]
    assert received["file_name"].tolist() == ["建北社区日报.csv"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_text_is_text_not_a_damaged_file(tmp_path, encoding):
    path = tmp_path / "unicode.csv"
    path.write_bytes(_csv_bytes().decode("utf-8").encode(encoding))
    assert guard_file(path, ".csv") == ".csv"
