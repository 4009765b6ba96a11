"""A file read once into memory gives exactly what reading it from its path gave.

Since issue 11 the reader takes a submission's bytes once (sniffing, the zip checks,
calamine, the formula check and CSV decoding read them); files over
``reader.IN_MEMORY_BYTES`` still go through the path at every step. Both routes must
agree on every kind of file: rows, notes and totals, or the same rejection.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.files import write_xlsx, zip_bomb
from huizong.catalogue import load_catalogue
from huizong.ingest import SubmissionRejected, read_submission, reader

CAT = load_catalogue()
AT = pd.Timestamp("2020-01-28T12:00:00", tz="UTC")
HEADER = ["单位代码", "单位名称", "日期", "排查登记人数", "入户走访户数"]


def _files(tmp: Path) -> dict[str, Path]:
    out = {
        "plain.xlsx": write_xlsx(
            tmp / "plain.xlsx",
            [
                ["XX镇疫情防控工作日报表"],
                HEADER,
                ["130902001001", "建北社区", "2020-01-28", 3, "１２"],
                ["合计", "", "2020-01-28", 3, 12],
                ["填报人：张三"],
            ],
        ),
        "formula.xlsx": write_xlsx(
            tmp / "formula.xlsx", [HEADER, ["130902001001", "建北社区", "2020-01-28", 3, "=D2*2"]]
        ),
    }
    csv = "XX镇日报\n" + ",".join(HEADER) + "\n130902001001,建北社区,2020-01-28,10,无\n"
    (tmp / "gbk.csv").write_bytes(csv.encode("gb18030"))
    (tmp / "csv_named.xlsx").write_bytes(csv.encode("utf-8"))
    (tmp / "page.xlsx").write_bytes(b"<html><table><tr><td>1</td></tr></table></html>")
    (tmp / "bomb.xlsx").write_bytes(zip_bomb())
    (tmp / "truncated.xlsx").write_bytes(out["plain.xlsx"].read_bytes()[:900])
    (tmp / "nosuffix").write_bytes(out["plain.xlsx"].read_bytes())
    _ods(tmp / "ods_named.xlsx")
    for name in (
        "gbk.csv",
        "csv_named.xlsx",
        "page.xlsx",
        "bomb.xlsx",
        "truncated.xlsx",
        "ods_named.xlsx",
    ):
        out[name] = tmp / name
    out["nosuffix"] = tmp / "nosuffix"
    return out


def _ods(path: Path) -> None:
    """An OpenDocument spreadsheet saved with an .xlsx name (a zip, but no OOXML package)."""
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row>'
        "<table:table-cell><text:p>单位代码</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)


def _read(path: Path) -> object:
    try:
        sub = read_submission(path, CAT, file_id="f1", file_name=path.name, received_at=AT)
    except SubmissionRejected as exc:
        return ("rejected", exc.message)
    totals = None if sub.totals is None else sub.totals.to_dict("list")
    return (sub.rows.to_dict("list"), sub.notes, totals, sub.extra_columns, sub.sheets)


@pytest.mark.parametrize(
    "name",
    [
        "plain.xlsx",
        "formula.xlsx",
        "gbk.csv",
        "csv_named.xlsx",
        "page.xlsx",
        "bomb.xlsx",
        "truncated.xlsx",
        "ods_named.xlsx",
        "nosuffix",
    ],
)
def test_in_memory_equals_from_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = _files(tmp_path)[name]
    in_memory = _read(path)
    monkeypatch.setattr(reader, "IN_MEMORY_BYTES", -1)  # every file through its path
    assert reader.file_bytes(path) is None
    assert _read(path) == in_memory
    if name in ("plain.xlsx", "formula.xlsx", "gbk.csv"):
        assert in_memory[0]["unit_code"] == ["130902001001"]  # it read something real
    if name == "ods_named.xlsx":  # refused both ways, with a reason a clerk can act on
        assert in_memory[0] == "rejected" and "不是Excel工作簿" in in_memory[1]
