"""Each piece of the reader on its own: text decoding, workbook cells, layout, row collection.

The messy-input tests go through ``read_submission`` (the whole reader); these call one
piece with the input it takes, so a piece can be changed and checked alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers.files import write_xlsx
from huizong.catalogue import load_catalogue
from huizong.ingest import cells, layout, rows, text
from huizong.ingest.rejected import SubmissionRejected

CAT = load_catalogue()
AT = pd.Timestamp("2026-11-26T12:00:00", tz="UTC")
LABELS = [CAT.indicator(c).zh for c in ("persons_screened", "households_visited")]
HEADER = ["单位代码", "单位名称", "填报日期", *LABELS]


def test_text_csv_rows_are_cells_as_written_in_the_encoding_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("标题\n单位代码,单位名称\n130902001001,建北社区\n".encode("gb18030"))
    got, notes = text.csv_rows(path)
    assert got == [["标题", ""], ["单位代码", "单位名称"], ["130902001001", "建北社区"]]
    assert notes == []
    assert text.decode_text("编码：UTF-8\n建北".encode("gb18030"))[1] == "gb18030"


def test_text_rejects_bytes_of_no_encoding_naming_the_byte() -> None:
    with pytest.raises(SubmissionRejected, match="0x81"):
        text.decode_text(b"abc\x81\xff\xfe")


def test_cells_reads_visible_sheets_and_the_marker_skips_hidden(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [HEADER, ["130902001001", "建北社区", "2026-11-26", 5]])
    wb = openpyxl.load_workbook(path)
    hidden = wb.create_sheet("旧表")
    hidden.sheet_state = "hidden"
    marker = wb.create_sheet(cells.MARKER_SHEET)
    marker.append(["kind", "village"])
    wb.save(path)
    sheets, got_marker, notes = cells.xlsx_sheets(path, None)
    assert [name for name, _ in sheets] == ["日报"]
    assert sheets[0][1][1][:4] == ["130902001001", "建北社区", "2026-11-26", 5.0]
    assert got_marker == {"kind": "village"}
    assert notes == ["隐藏工作表“旧表”未读取 / hidden sheet '旧表' not read"]


def test_layout_finds_the_header_and_tells_totals_signatures_and_reports_apart() -> None:
    sheet = [
        ["XX镇日报", "", "", "", ""],
        HEADER,
        ["130902001001", "建北社区", "2026-11-26", "3", ""],
        ["合计", "", "2026-11-26", "3", ""],
        ["填报人：张三", "", "", "", ""],
    ]
    (found,), notes = layout.sheet_layouts([("日报", sheet)], CAT)
    assert (found.header_row, found.mapped[:3]) == (1, ["unit_code", "unit_name", "period"])
    assert notes == []
    grid = layout.grid(sheet[2:], 5)
    taken = {f: j for j, f in enumerate(found.mapped) if f}
    kinds = layout.row_kinds(grid, taken, CAT, np.ones(3, bool))
    assert kinds.tolist() == [layout.DATA, layout.TOTAL, layout.SIGNATURE]


def test_layout_rejects_a_sheet_without_a_required_column() -> None:
    with pytest.raises(SubmissionRejected, match="日期"):
        layout.sheet_layouts([("日报", [["单位代码", "单位名称", *LABELS]])], CAT)


def test_rows_collects_reports_and_totals_apart_with_excel_row_numbers() -> None:
    sheet = [
        HEADER,
        ["130902001001", "建北社区", "2026-11-26", "3", ""],
        ["130902001002", "院东社区", "2026-11-26", "4", ""],
        ["合计", "", "2026-11-26", "7", ""],
    ]
    layouts, _ = layout.sheet_layouts([("日报", sheet)], CAT)
    raw = rows.collect_rows(
        layouts, {}, CAT, file_id="f", file_name="a.xlsx", received_at=AT, notes=["n"]
    )
    assert raw.row_number.tolist() == [2, 3]
    assert raw.columns["persons_screened"].tolist() == ["3", "4"]  # as written: not parsed
    assert raw.totals is not None and raw.totals.row_number.tolist() == [4]
    assert raw.totals.columns["unit_code"].tolist() == ["130902001"]
    assert raw.notes[0] == "n" and "合计行 1 行" in raw.notes[1]
