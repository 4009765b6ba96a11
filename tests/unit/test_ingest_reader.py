"""Reading one submission: header detection, header styles, encodings, rejections."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from helpers.files import write_xlsx
from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.ingest import SubmissionRejected, read_submission

CAT = load_catalogue()
AT = pd.Timestamp("2026-11-26T12:00:00", tz="UTC")
CODES = ["persons_screened", "households_visited", "returnees_new"]
LABELS = [CAT.indicator(c).zh for c in CODES]


def _read(path: Path, **kw):
    return read_submission(path, CAT, file_id="f1", file_name=path.name, received_at=AT, **kw)


def test_title_rows_above_header_are_skipped_and_row_numbers_match_excel(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["XX镇疫情防控工作日报表"],
            ["填报单位：XX镇", None, "2026年11月26日"],
            ["单位代码", "单位名称", "填报日期", *LABELS],
            ["130902001001", "建北社区", "2026年11月26日", 10, 0, None],
            [None, None, None, None, None, None],
            ["130902001002", "院东社区", "2026-11-26", "1,200", 3, "不适用"],
        ],
    )
    sub = _read(path)
    rows = sub.rows
    assert list(rows.columns) == [*frames.RECEIVED_META, *CAT.codes]
    assert rows["row_number"].tolist() == [4, 6]  # the blank row 5 is not a data row
    assert rows["unit_code"].tolist() == ["130902001001", "130902001002"]
    assert rows["period"].tolist() == ["2026-11-26", "2026-11-26"]
    assert rows["period_raw"].tolist() == ["2026年11月26日", "2026-11-26"]
    assert rows["persons_screened"].tolist() == [10, 1200]
    assert rows["households_visited"].tolist() == [0, 3]
    assert rows["returnees_new"].isna().tolist() == [True, True]
    assert rows["not_applicable"].tolist() == ["", "returnees_new"]
    assert rows["coercions"][0] == ""
    assert json.loads(rows["coercions"][1])[0]["rule"] == "thousands"
    assert (rows["disposition"] == "candidate").all()
    assert rows["sheet"].tolist() == ["日报", "日报"]
    # indicators not in the file are blank, not zero
    assert rows["temperature_checks"].isna().all()
    assert rows["problems"].dtype == "str"


@pytest.mark.parametrize(
    "header",
    [
        ["unit_code", "unit_name", "period", *CODES],
        ["单位代码", "单位名称", "日期", *LABELS],
        [
            "单位代码(unit_code)",
            "单位名称（unit_name）",
            "日期 (period)",
            *[f"{z}({c})" for z, c in zip(LABELS, CODES, strict=True)],
        ],
        [
            "单位代码",
            "单位名称",
            "日期",
            "排查登记人数（人）",
            " 入户走访 户数（户）",
            "新增返乡人员",
        ],
    ],
    ids=["codes", "chinese", "combined", "units-fullwidth-spaces"],
)
def test_header_styles(tmp_path: Path, header: list[str]) -> None:
    path = write_xlsx(
        tmp_path / "h.xlsx", [header, ["130902001001", "建北社区", "2026-11-26", 1, 2, 3]]
    )
    sub = _read(path)
    assert sub.extra_columns == []
    assert sub.rows[CODES].iloc[0].tolist() == [1, 2, 3]


def test_risk_level_label_with_brackets_and_code(tmp_path: Path) -> None:
    label = CAT.indicator("risk_level").zh  # 风险等级(1低2中3高)
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["单位代码", "单位名称", "日期", label, f"{label}(risk_level)"],
            ["130902001001", "建北社区", "2026-11-26", 2, 2],
        ],
    )
    sub = _read(path)
    assert sub.rows["risk_level"].tolist() == [2]
    assert sub.extra_columns == [f"{label}(risk_level)"]  # second copy of the same field


def test_unknown_columns_are_reported(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "x.xlsx",
        [
            ["单位代码", "单位名称", "日期", *LABELS, "备注"],
            ["1309", "x", "2026-11-26", 1, 1, 1, "hi"],
        ],
    )
    assert _read(path).extra_columns == ["备注"]


def test_missing_required_column_is_rejected_and_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "m.xlsx", [["单位名称", *LABELS], ["建北社区", 1, 2, 3]])
    with pytest.raises(SubmissionRejected) as info:
        _read(path)
    assert "单位代码" in info.value.message_zh and "日期" in info.value.message_zh
    assert "unit_code" in info.value.message_en and "period" in info.value.message_en
    assert "unit_name" not in info.value.message_en


def test_no_header_at_all_is_rejected(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "n.xlsx", [["hello"], ["world", 1]])
    with pytest.raises(SubmissionRejected, match="no header"):
        _read(path)


def test_broken_xlsx_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(SubmissionRejected) as info:
        _read(path)
    assert "Excel" in info.value.message_zh


def test_every_visible_sheet_with_a_header_counts_hidden_ones_do_not(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "一村"
    ws.append(["单位代码", "单位名称", "日期", *LABELS])
    ws.append(["130902001001", "一村", "2026-11-26", 1, 1, 1])
    notes = wb.create_sheet("说明")
    notes.append(["请按时填报"])
    two = wb.create_sheet("二村")
    two.append(["单位代码", "单位名称", "日期", *LABELS])
    two.append(["130902001002", "二村", "2026-11-26", 2, 2, 2])
    hidden = wb.create_sheet("旧数据")
    hidden.append(["单位代码", "单位名称", "日期", *LABELS])
    hidden.append(["130902001003", "三村", "2026-11-26", 3, 3, 3])
    hidden.sheet_state = "hidden"
    wb.save(tmp_path / "s.xlsx")
    sub = _read(tmp_path / "s.xlsx")
    assert sub.rows["sheet"].tolist() == ["一村", "二村"]
    assert sub.rows["persons_screened"].tolist() == [1, 2]
    assert sub.sheets == ["一村", "二村"]
    assert _read(tmp_path / "s.xlsx", sheet_hint="二村").rows["unit_code"].tolist() == [
        "130902001002"
    ]


def test_numeric_unit_codes_and_excel_dates(tmp_path: Path) -> None:
    from datetime import date

    path = write_xlsx(
        tmp_path / "d.xlsx",
        [
            ["单位代码", "单位名称", "日期", *LABELS],
            [130902001001, "建北社区", date(2026, 11, 26), 5, 6, 7],
        ],
    )
    rows = _read(path).rows
    assert rows["unit_code"].tolist() == ["130902001001"]
    assert rows["period"].tolist() == ["2026-11-26"]


def test_claimed_kind_from_code(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "k.xlsx",
        [
            ["单位代码", "单位名称", "日期", *LABELS],
            ["130903D01", "运河区教育局", "2026-11-26", 1, 1, 1],
            ["130902001001", "建北社区", "2026-11-26", 1, 1, 1],
        ],
    )
    assert _read(path).rows["claimed_kind"].tolist() == ["department", "village"]


CSV_TEXT = (
    "XX镇疫情防控工作日报表\n"
    "单位代码,单位名称,日期," + ",".join(LABELS) + ",存在问题\n"
    "130902001001,建北社区,2026/11/26,10,0,不适用,缺少口罩\n"
    "130902001002,院东社区,2026/11/26,,3,abc,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_and_title_line(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    rows = _read(path).rows
    assert rows["sheet"].tolist() == ["", ""]
    assert rows["row_number"].tolist() == [3, 4]
    assert rows["unit_name"].tolist() == ["建北社区", "院东社区"]
    assert rows["persons_screened"].isna().tolist() == [False, True]
    assert rows["persons_screened"][0] == 10 and rows["households_visited"].tolist() == [0, 3]
    assert rows["not_applicable"].tolist() == ["returnees_new", ""]
    errors = json.loads(rows["cell_errors"][1])
    assert errors == [
        {"column": "returnees_new", "raw": "abc", "zh": "无法识别为数字", "en": "not a number"}
    ]
    assert rows["problems"][0] == "缺少口罩" and pd.isna(rows["problems"][1])


def test_csv_in_unknown_encoding_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe\x00\x00" + bytes(range(128, 256)) * 3)
    with pytest.raises(SubmissionRejected):
        _read(path)


def test_header_only_file_has_no_rows_but_right_columns(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("单位代码,单位名称,日期," + ",".join(LABELS) + "\n", encoding="utf-8")
    rows = _read(path).rows
    assert rows.empty and list(rows.columns) == [*frames.RECEIVED_META, *CAT.codes]
    assert rows["persons_screened"].dtype == "Int64"


def test_suffixless_store_copies_are_sniffed(tmp_path: Path) -> None:
    xlsx = write_xlsx(
        tmp_path / "a.xlsx",
        [
            ["单位代码", "单位名称", "日期", *LABELS],
            ["130902001001", "建北社区", "2026-11-26", 1, 2, 3],
        ],
    )
    csv = tmp_path / "b.csv"
    csv.write_text(CSV_TEXT, encoding="utf-8")
    for src in (xlsx, csv):
        bare = tmp_path / f"store-{src.stem}"
        bare.write_bytes(src.read_bytes())
        got = read_submission(bare, CAT, file_id="f1", file_name=src.name, received_at=AT)
        assert len(got.rows) > 0
        pd.testing.assert_frame_equal(got.rows, _read(src).rows)


def test_csv_row_wider_than_header_is_read_not_rejected(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        "单位代码,单位名称,日期,"
        + ",".join(LABELS)
        + "\n"
        + "\n".join(f"1309020010{i + 10:02d},村{i},2026-11-26,{i},1,1" for i in range(12))
        + "\n130902001099,某村,2026-11-26,5,5,5,,\n",
        encoding="utf-8",
    )
    rows = _read(path).rows
    assert len(rows) == 13 and rows["persons_screened"].iloc[-1] == 5
    assert rows["row_number"].iloc[-1] == 14
