"""`huizong validate FILE` on each messy file: the exact lines a clerk reads.

File-level refusals print one line with the file name and the reason (Chinese | English);
row problems print the file, sheet, row and column. Every file is generated here.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from helpers.files import zip_bomb
from huizong.settings import Settings
from huizong.validate.files import validate_files

DAY = date(2026, 11, 26)
LABELS = ["单位代码", "单位名称", "日期", "排查登记人数", "入户走访户数", "新增返乡人员"]
MIB = 1024 * 1024


def _csv(rows: list[str]) -> bytes:
    return ("\n".join([",".join(LABELS), *rows]) + "\n").encode("utf-8")


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "日报表"
    ws.append(["建设北街街道疫情防控工作日报表"])  # a title row above the header
    ws.append(LABELS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _run(tmp_path: Path, name: str, data: bytes, **kw) -> tuple[int, list[str]]:
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    rc = validate_files([path], DAY, Settings(home=tmp_path / "home", **kw), out)
    return rc, out.getvalue().splitlines()


def test_empty_file(tmp_path):
    assert _run(tmp_path, "空.xlsx", b"") == (
        1,
        ["[错误 error] 文件 空.xlsx: 空文件（0字节），请重新导出后上报 | "
         "empty file (0 bytes); export it again"],
    )  # fmt: skip


def test_file_over_the_size_limit(tmp_path):
    data = _csv(["130902001001,建北社区居民委员会,2026-11-26,9,8,1"])
    limit = len(data) - 1
    assert _run(tmp_path, "大 文件.csv", data, max_file_bytes=limit) == (
        1,
        [
            f"[错误 error] 文件 大 文件.csv: 文件过大（{len(data)} 字节，上限 {limit} 字节），"
            f"未读取 | file too large ({len(data)} bytes, limit {limit}); not read"
        ],
    )


def test_xlsx_that_is_csv_prints_a_note_and_checks_the_rows(tmp_path):
    data = _csv(["130902001001,建北社区居民委员会,2026-11-26,9,8,1"])
    assert _run(tmp_path, "导出.xlsx", data) == (
        0,
        [
            "[提示 note] 文件 导出.xlsx: 扩展名为.xlsx但内容是CSV，已按.csv读取 | "
            "named .xlsx but the content is CSV; read as .csv",
            "文件 导出.xlsx（2026-11-26）: 1 行，通过 1 行，有错误 0 行，提示 0 条 | "
            "1 rows, 1 pass, 0 with errors, 0 warnings",
        ],
    )


def test_html_named_xls(tmp_path):
    html = b"<html><body><table><tr><td>1</td></tr></table></body></html>"
    assert _run(tmp_path, "系统导出.xls", html) == (
        1,
        [
            "[错误 error] 文件 系统导出.xls: 文件“系统导出.xls”扩展名为.xls，但内容是网页（HTML）"
            "表格（一些系统导出的“Excel”其实是网页）：请用Excel打开，“另存为”Excel工作簿（.xlsx）"
            "后重报 | 系统导出.xls is named .xls but is an HTML page (some systems export "
            "'Excel' as HTML): open it in Excel, 'Save As' Excel Workbook (.xlsx) and resubmit"
        ],
    )


def test_damaged_workbook(tmp_path):
    data = _xlsx([["130902001001", "建北社区居民委员会", "2026-11-26", "9", "8", "1"]])
    assert _run(tmp_path, "坏.xlsx", data[:400]) == (
        1,
        [
            "[错误 error] 文件 坏.xlsx: 文件已损坏：“坏.xlsx”无法作为Excel工作簿打开（可能下载或"
            "复制不完整），请重新导出后上报 | the file is damaged: 坏.xlsx cannot be opened as "
            "an Excel workbook (perhaps an incomplete download or copy); export it again"
        ],
    )


def test_decompression_bomb(tmp_path):
    data = zip_bomb()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.infolist()[0]
    ratio = f"{info.file_size / info.compress_size:.0f}"
    assert _run(tmp_path, "bomb.xlsx", data) == (
        1,
        [
            f"[错误 error] 文件 bomb.xlsx: 文件“bomb.xlsx”的部件 xl/worksheets/sheet1.xml "
            f"压缩比异常（{ratio}:1，上限 250:1），疑似“压缩炸弹”，未读取；如确为正常报表，"
            f"请删除空白行列后重新保存 | bomb.xlsx: part xl/worksheets/sheet1.xml is "
            f"compressed {ratio}:1 (limit 250:1), a likely decompression bomb; not read. If it "
            "is a genuine report, delete empty rows and columns and save it again"
        ],
    )


def test_identity_problems_in_a_township_workbook(tmp_path):
    d = "2026-11-26"
    rows = [
        ["130902001001", "建北社区居民委员会", d, "9", "8", "1"],
        ["130902001002", "院东社区居民委员会", d, "9", "8", "1"],
        ["130902001031", "古楼社区居民委员会", d, "9", "8", "1"],
        ["130902002004", "欣怡社区居民委员会", d, "9", "8", "1"],
        ["130902001014", "北环中路社区居民委员会", "2026-11-27", "9", "8", "1"],
        ["130902001001", "建北社区居民委员会", d, "9", "8", "1"],
    ]
    rc, lines = _run(tmp_path, "建设北街街道 日报.xlsx", _xlsx(rows))
    where = "[错误 error] 文件 建设北街街道 日报.xlsx / 工作表 日报表"
    dup = (
        "单位 130902001001 在 2026-11-26 有 2 行数据（建设北街街道 日报.xlsx（工作表 日报表）"
        "第3、8行），无法确定以哪一行为准，请只保留一行后重报 | Unit 130902001001 has 2 rows "
        "for 2026-11-26 (建设北街街道 日报.xlsx (sheet 日报表) rows 3, 8): it is unclear "
        "which counts; keep one row and resubmit"
    )
    assert rc == 1
    assert lines == [
        f"{where} / 第3行: {dup}",
        f"{where} / 第5行 / 列 单位代码(unit_code): 单位代码 130902001031（古楼社区居民委员会）"
        "不在区划代码表中，是否为 130902001013 古楼社区居民委员会？请核对代码后重报 | Unit code "
        "130902001031 (古楼社区居民委员会) is not in the division register; did you mean "
        "130902001013 古楼社区居民委员会? Check the code and resubmit.",
        f"{where} / 第6行 / 列 单位代码(unit_code): 该村不属于本乡镇：130902002004 "
        "欣怡社区居民委员会 属于 130902002 车站街道，而本文件是 130902001 建设北街街道 的报表；"
        "请由该村所属乡镇上报，或更正单位代码后重报 | 130902002004 欣怡社区居民委员会 belongs to "
        "township 130902002 车站街道, but this file is the report of township 130902001 "
        "建设北街街道: have its own township report it, or correct the unit code, and resubmit",
        f"{where} / 第7行 / 列 日期(period): 报告日期为 2026-11-27，晚于本次汇总的日期 "
        "2026-11-26（未来的日期），不是本次汇总的日期，请核实日期后重报 | The report date "
        "2026-11-27 is in the future (after the reporting day 2026-11-26): check the date and "
        "resubmit",
        f"{where} / 第8行: {dup}",
        "文件 建设北街街道 日报.xlsx（2026-11-26）: 6 行，通过 1 行，有错误 5 行，提示 0 条 | "
        "6 rows, 1 pass, 5 with errors, 0 warnings",
    ]


@pytest.mark.parametrize("name", ["missing.csv"])
def test_a_path_that_does_not_exist(tmp_path, name):
    out = io.StringIO()
    rc = validate_files([tmp_path / name], DAY, Settings(home=tmp_path / "home"), out)
    assert (rc, out.getvalue().splitlines()) == (
        1,
        [f"[错误 error] 文件 {name}: 无法读取文件 | cannot be read: No such file or directory"],
    )


def test_a_gbk_encoded_file_name_is_printed_in_chinese(tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), "空报表.xlsx".encode("gb18030"))
    path = Path(os.fsdecode(raw))
    path.write_bytes(b"")
    out = io.StringIO()
    rc = validate_files([path], DAY, Settings(home=tmp_path / "home"), out)
    assert (rc, out.getvalue().splitlines()) == (
        1,
        [
            "[错误 error] 文件 空报表.xlsx: 空文件（0字节），请重新导出后上报 | "
            "empty file (0 bytes); export it again"
        ],
    )


def test_old_xls_or_password_protected_workbook(tmp_path):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert _run(tmp_path, "加密.xlsx", ole2) == (
        1,
        [
            "[错误 error] 文件 加密.xlsx: 文件“加密.xlsx”是旧版Excel（.xls）或设置了打开密码的"
            "工作簿：请取消密码，“另存为”Excel工作簿（.xlsx）后重报 | 加密.xlsx is an old Excel "
            "(.xls) file or a password-protected workbook: remove the password, 'Save As' Excel "
            "Workbook (.xlsx) and resubmit"
        ],
    )
