"""Messy files, read through ``read_submission``: encodings, header layouts, sheets,
template versions, total and footer rows. Each case parses exactly or is rejected with an
exact message."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from helpers.files import write_xlsx
from huizong.catalogue import load_catalogue
from huizong.ingest import SubmissionRejected, read_submission
from huizong.ingest.reader import decode_text

CAT = load_catalogue()
AT = pd.Timestamp("2020-01-28T12:00:00", tz="UTC")
CODES = ["persons_screened", "households_visited", "masks_in_stock"]
LABELS = [CAT.indicator(c).zh for c in CODES]
HEADER = ["单位代码", "单位名称", "日期", *LABELS]
CSV_TEXT = (
    "XX镇疫情防控工作日报表\n"
    + ",".join(HEADER)
    + "\n130902001001,建北社区,2020-01-28,10,0,500\n130902001002,院东社区,2020-01-28,3,4,☆\n"
)


def _read(path: Path, **kw):
    return read_submission(path, CAT, file_id="f1", file_name=path.name, received_at=AT, **kw)


def _check_csv_rows(rows: pd.DataFrame) -> None:
    assert rows["row_number"].tolist() == [3, 4]
    assert rows["unit_name"].tolist() == ["建北社区", "院东社区"]
    assert rows["persons_screened"].tolist() == [10, 3]
    assert rows["masks_in_stock"][0] == 500 and rows["masks_in_stock"].isna()[1]


# ---- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("gb18030", b""),
        ("gbk", b""),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16le-bom", "utf16be-bom"],
)
def test_csv_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(bom + CSV_TEXT.encode(encoding))
    sub = _read(path)
    _check_csv_rows(sub.rows)
    assert sub.notes == []


def test_misdeclared_encoding_is_read_as_the_bytes_say_with_a_note(tmp_path: Path) -> None:
    """The first line claims UTF-8, the bytes are GBK: the declaration is never trusted."""
    path = tmp_path / "c.csv"
    path.write_bytes(("encoding=utf-8\n" + CSV_TEXT).encode("gbk"))
    sub = _read(path)
    assert sub.rows["unit_name"].tolist() == ["建北社区", "院东社区"]
    assert sub.notes == [
        "文件声明编码为 utf-8，但内容是 GB18030，已按 GB18030 读取 / "
        "the file declares utf-8 but its bytes are GB18030; read as GB18030"
    ]


def test_a_declaration_that_matches_the_bytes_is_not_noted(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(("charset=GBK\n" + CSV_TEXT).encode("gb18030"))
    sub = _read(path)
    assert sub.notes == [] and len(sub.rows) == 2


def test_utf16_without_bom_is_told_apart_by_its_nul_bytes() -> None:
    """(The file gate in huizong.ingest.safety refuses such files before they get here;
    the decoder still reads them right.)"""
    text, encoding, notes = decode_text(CSV_TEXT.encode("utf-16-le"))
    assert (text, encoding, notes) == (CSV_TEXT, "utf-16-le", [])
    text, encoding, _ = decode_text(CSV_TEXT.encode("utf-16-be"))
    assert (text, encoding) == (CSV_TEXT, "utf-16-be")


def test_undecodable_csv_is_rejected_naming_the_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"unit_code,unit_name\n\x81\xff\xfe,x\n")
    with pytest.raises(SubmissionRejected) as info:
        _read(path)
    assert info.value.message_zh == (
        "无法识别文件编码（应为UTF-8或GB18030）：按UTF-8解码，第21个字节（0x81）无效；"
        "按GB18030解码，第21个字节（0x81）无效；请另存为“CSV UTF-8”后重报"
    )
    assert info.value.message_en == (
        "unknown text encoding (expected UTF-8 or GB18030): as UTF-8, byte offset 20 (0x81) "
        "is invalid; as GB18030, byte offset 20 (0x81) is invalid; save as 'CSV UTF-8' and "
        "resubmit"
    )


def test_utf16_bom_with_broken_content_is_rejected_with_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad16.csv"
    path.write_bytes(b"\xff\xfe" + "单位".encode("utf-16-le") + b"\x00\xd8\x41\x00")
    with pytest.raises(SubmissionRejected) as info:
        _read(path)
    assert "as UTF-16-LE, byte offset 6 (0x00) is invalid" in info.value.message_en


# ---- header layouts ----------------------------------------------------------------------


def test_title_rows_above_the_header(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["XX镇疫情防控工作日报表"],
            ["填报单位：XX镇（盖章）", None, "填报日期：2020年1月28日"],
            [],
            HEADER,
            ["130902001001", "建北社区", "2020-01-28", 1, 2, 3],
        ],
    )
    rows = _read(path).rows
    assert rows["row_number"].tolist() == [5]
    assert rows[CODES].iloc[0].tolist() == [1, 2, 3]


def test_merged_two_level_header(tmp_path: Path) -> None:
    """Row 1: meta labels merged down over rows 1-2, section names merged across; row 2:
    indicator labels, some short ("新增") that only read with their section name."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位代码", "单位名称", "日期", "排查与返乡人员", None, None, "防疫物资", None])
    ws.append([None, None, None, "排查登记人数", "新增", "累计", "口罩库存", "备注"])
    for col in "ABC":
        ws.merge_cells(f"{col}1:{col}2")
    ws.merge_cells("D1:F1")
    ws.merge_cells("G1:H1")
    ws.append(["130902001001", "建北社区", "2020-01-28", 7, 1, 9, 100, "好"])
    wb.save(tmp_path / "m.xlsx")
    sub = _read(tmp_path / "m.xlsx")
    row = sub.rows.iloc[0]
    assert row["row_number"] == 3 and row["unit_code"] == "130902001001"
    assert row["persons_screened"] == 7 and row["masks_in_stock"] == 100
    # "新增"/"累计" under the section "排查与返乡人员" are not catalogue labels: kept as extras
    assert sub.extra_columns == ["新增", "累计", "备注"]
    assert json.loads(sub.extra[0]) == {"新增": "1", "累计": "9", "备注": "好"}


def test_short_labels_under_a_section_join_to_catalogue_labels(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["单位代码", "单位名称", "日期", "返乡人员", None])
    ws.append([None, None, None, "新增", "累计"])
    ws.merge_cells("D1:E1")
    ws.append(["130902001001", "建北社区", "2020-01-28", 4, 40])
    wb.save(tmp_path / "s.xlsx")
    sub = _read(tmp_path / "s.xlsx")
    assert sub.rows[["returnees_new", "returnees_total"]].iloc[0].tolist() == [4, 40]
    assert sub.extra_columns == []


def test_labels_with_spaces_and_fullwidth_brackets(tmp_path: Path) -> None:
    header = [
        "单位 代码",
        "单位名称（全称）",
        " 日 期 ",
        "排查登记 人数（人）",
        "入户走访户数（户）",
    ]
    path = write_xlsx(
        tmp_path / "b.xlsx", [header, ["130902001001", "建北社区", "2020-01-28", 1, 2]]
    )
    sub = _read(path)
    assert sub.rows[["persons_screened", "households_visited"]].iloc[0].tolist() == [1, 2]
    assert sub.rows["unit_name"].tolist() == ["建北社区"]
    assert sub.extra_columns == []


def test_unknown_columns_are_named_and_their_cells_kept(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "x.xlsx",
        [
            [*HEADER, "备注", "联系电话"],
            ["130902001001", "a", "2020-01-28", 1, 1, 1, "已核实", 13800000000],
            ["130902001002", "b", "2020-01-28", 2, 2, 2, None, None],
        ],
    )
    sub = _read(path)
    assert sub.extra_columns == ["备注", "联系电话"]
    assert sub.extra.tolist() == [
        json.dumps({"备注": "已核实", "联系电话": "13800000000"}, ensure_ascii=False),
        "",
    ]


def test_missing_required_columns_reject_the_file_with_the_list(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "m.xlsx", [["单位名称", *LABELS], ["建北社区", 1, 2, 3]])
    with pytest.raises(SubmissionRejected) as info:
        _read(path)
    assert info.value.message_zh == "工作表“日报”缺少必需的列：单位代码(unit_code)、日期(period)"
    assert info.value.message_en == "sheet '日报' lacks required columns: unit_code, period"


# ---- sheets and template versions --------------------------------------------------------


def test_hidden_sheets_skipped_visible_ones_read_notes_sheet_ignored(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    one = wb.active
    one.title = "一村"
    for r in (HEADER, ["130902001001", "一村", "2020-01-28", 1, 1, 1]):
        one.append(r)
    notes = wb.create_sheet("填报说明")
    notes.append(["请于每日16时前报送"])
    two = wb.create_sheet("二村")
    for r in (HEADER, ["130902001002", "二村", "2020-01-28", 2, 2, 2]):
        two.append(r)
    hidden = wb.create_sheet("旧数据")
    for r in (HEADER, ["130902001003", "三村", "2020-01-27", 3, 3, 3]):
        hidden.append(r)
    hidden.sheet_state = "hidden"
    wb.save(tmp_path / "s.xlsx")
    sub = _read(tmp_path / "s.xlsx")
    assert sub.sheets == ["一村", "二村"]
    assert sub.rows["persons_screened"].tolist() == [1, 2]
    assert sub.notes == [
        "隐藏工作表“旧数据”未读取 / hidden sheet '旧数据' not read",
        "工作表“填报说明”没有表头，按说明页忽略 / sheet '填报说明' has no header row; "
        "ignored as a notes sheet",
    ]


def test_older_template_version_labels(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "v0.xlsx",
        [
            ["单位代码", "单位名称", "日期", "口罩库存数", "武汉返乡人员", "体温检测人次"],
            ["130902001001", "建北社区", "2020-01-28", 300, 2, 150],
        ],
    )
    sub = _read(path)
    assert sub.extra_columns == []
    got = sub.rows[["masks_in_stock", "returnees_key_area_total", "temperature_checks"]]
    assert got.iloc[0].tolist() == [300, 2, 150]


# ---- rows that are not village reports ---------------------------------------------------


def test_total_rows_are_returned_apart_with_the_township_code(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "z.xlsx",
        [
            HEADER,
            ["130902001001", "建北社区", "2020-01-28", 1, 2, 3],
            ["130902001002", "院东社区", "2020-01-28", 4, 5, 6],
            ["合 计", None, "2020-01-28", 5, 7, 9],
            ["130902001", "建设北街街道", "2020-01-28", 5, 7, 9],
        ],
    )
    sub = _read(path)
    assert sub.rows["unit_code"].tolist() == ["130902001001", "130902001002"]
    totals = sub.totals
    assert totals["row_number"].tolist() == [4, 5]
    assert totals["unit_code"].tolist() == ["130902001", "130902001"]
    assert totals[CODES].to_numpy().tolist() == [[5, 7, 9], [5, 7, 9]]
    assert totals["period"].tolist() == ["2020-01-28"] * 2
    assert sub.notes == [
        "合计行 2 行单独保存，不计入村级数据 / 2 total row(s) kept apart from the village rows"
    ]


def test_total_row_by_name_and_township_code_ending_000(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "z.xlsx",
        [
            HEADER,
            ["130902001001", "建北社区", "2020-01-28", 1, 2, 3],
            [None, "全街道合计", "2020-01-28", 1, 2, 3],
            ["130902001000", "建设北街街道", "2020-01-28", 1, 2, 3],
        ],
    )
    sub = _read(path)
    assert sub.rows["row_number"].tolist() == [2]
    assert sub.totals["row_number"].tolist() == [3, 4]
    assert sub.totals["unit_code"].tolist() == ["130902001", "130902001"]


def test_signature_and_note_lines_under_the_table_are_skipped(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "f.xlsx",
        [
            HEADER,
            ["130902001001", "建北社区", "2020-01-28", 1, 2, 3],
            [None, "无代码村", "2020-01-28", 4, 4, 4],  # a report without a code: kept
            ["填报人：张三", None, "审核人：李四", "联系电话：13800000000"],
            ["注：本表数据截至当日16时", None, None],
            [None, "（本页完）", None],
        ],
    )
    sub = _read(path)
    assert sub.rows["row_number"].tolist() == [2, 3]
    assert sub.rows["unit_code"].isna().tolist() == [False, True]
    assert sub.totals is None
    assert sub.notes == [
        "工作表“日报”第4,5行是签字/说明行，不是村级报表，已跳过 / "
        "sheet '日报' row 4,5: a signature or note line, not a report; skipped",
        "工作表“日报”第6行是无代码的说明行，不是村级报表，已跳过 / "
        "sheet '日报' row 6: a signature or note line, not a report; skipped",
    ]
