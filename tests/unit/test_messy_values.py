"""Messy cell values, read through ``read_submission``: each one parses to an exact value
(with the coercion recorded) or is an exact cell error. See docs/coercions.md."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from huizong.catalogue import load_catalogue
from huizong.ingest import read_submission
from huizong.ingest.values import FORMULA_EN, FORMULA_ZH, parse_counts

CAT = load_catalogue()
AT = pd.Timestamp("2020-01-28T12:00:00", tz="UTC")
#: Columns used: units 人, 户, 平方米, %, 级 (see the catalogue).
COLS = ["persons_screened", "households_visited", "disinfected_area", "followup_rate", "risk_level"]
HEADER = ["单位代码", "单位名称", "日期", *[CAT.indicator(c).zh for c in COLS]]


def _read(path: Path):
    return read_submission(path, CAT, file_id="f1", file_name=path.name, received_at=AT)


def _csv_one(tmp_path: Path, column: str, cell: str, period: str = "2020-01-28") -> pd.Series:
    """A one-row CSV with ``cell`` in ``column`` (the others blank); the parsed row."""
    cells = ["" for _ in COLS]
    cells[COLS.index(column)] = cell
    line = ",".join(["130902001001", "建北社区", period, *(_quote(c) for c in cells)])
    path = tmp_path / "v.csv"
    path.write_text(",".join(HEADER) + "\n" + line + "\n", encoding="utf-8")
    rows = _read(path).rows
    assert len(rows) == 1
    return rows.iloc[0]


def _quote(cell: str) -> str:
    return f'"{cell}"' if "," in cell else cell


def _events(row: pd.Series, name: str) -> list[dict]:
    return json.loads(row[name]) if row[name] else []


UNIT_ZH = "单位“{u}”与该指标的单位“{w}”不符，请按“{w}”填写数字"
UNIT_EN = "unit '{u}' does not match the indicator's unit '{w}': give the number in {w}"
APPROX = (
    "约数不是统计数据，请填写确切数字",
    "an approximate value is not data: give the exact count",
)
RANGE = ("填写的是范围，请填写确切数字", "a range is not a count: give the exact number")
CN_AMBIG = (
    "中文数字写法有歧义（如“三百五”），请填写阿拉伯数字",
    "a Chinese numeral that is not unambiguous (e.g. 三百五): write the digits",
)

#: (column, cell as typed, value or None, coercion rule or None)
COERCED = [
    ("persons_screened", "１２３", 123, "fullwidth"),
    ("persons_screened", "1,234", 1234, "thousands"),
    ("persons_screened", "1，234", 1234, "fullwidth+thousands"),
    ("persons_screened", "12,345,678", 12345678, "thousands"),
    ("persons_screened", "56人", 56, "unit"),
    ("persons_screened", "56 名", 56, "unit"),
    ("persons_screened", "５６人", 56, "fullwidth+unit"),
    ("persons_screened", "1,200人", 1200, "unit+thousands"),
    ("disinfected_area", "27660平方米", 27660, "unit"),
    ("disinfected_area", "500㎡", 500, "fullwidth+unit"),
    ("followup_rate", "85%", 85, "unit"),
    ("persons_screened", "无", 0, "none_is_zero"),
    ("persons_screened", "零", 0, "chinese_numeral"),
    ("persons_screened", "十二", 12, "chinese_numeral"),
    ("persons_screened", "一百零五", 105, "chinese_numeral"),
    ("persons_screened", "两千", 2000, "chinese_numeral"),
    ("persons_screened", "一万零一十", 10010, "chinese_numeral"),
    ("persons_screened", "十二人", 12, "unit+chinese_numeral"),
    ("persons_screened", "3.0", 3, None),
    ("persons_screened", "-4", -4, None),  # parsed; validation quarantines the real value
    ("persons_screened", "+7", 7, None),
]


@pytest.mark.parametrize(("column", "cell", "value", "rule"), COERCED, ids=[c[1] for c in COERCED])
def test_coerced_values(tmp_path: Path, column: str, cell: str, value: int, rule: str) -> None:
    row = _csv_one(tmp_path, column, cell)
    assert row[column] == value
    assert row["cell_errors"] == ""
    expected = [{"column": column, "raw": cell, "value": value, "rule": rule}] if rule else []
    assert _events(row, "coercions") == expected


#: (column, cell, zh, en): the cell is NA and this is its cell error.
REJECTED = [
    ("persons_screened", "56户", UNIT_ZH.format(u="户", w="人"), UNIT_EN.format(u="户", w="人")),
    (
        "persons_screened",
        "12人次",
        UNIT_ZH.format(u="人次", w="人"),
        UNIT_EN.format(u="人次", w="人"),
    ),
    (
        "households_visited",
        "56人",
        UNIT_ZH.format(u="人", w="户"),
        UNIT_EN.format(u="人", w="户"),
    ),
    ("persons_screened", "约50", *APPROX),
    ("persons_screened", "大约50人", *APPROX),
    ("persons_screened", "50左右", *APPROX),
    ("persons_screened", "50余人", *APPROX),
    ("persons_screened", "100多", *APPROX),
    ("persons_screened", "3-5", *RANGE),
    ("persons_screened", "3~5人", *RANGE),
    ("persons_screened", "3至5", *RANGE),
    ("persons_screened", "三百五", *CN_AMBIG),
    ("persons_screened", "一二三", *CN_AMBIG),
    ("persons_screened", "3.5", "应为整数", "must be a whole number"),
    ("persons_screened", "1,2", "无法识别为数字", "not a number"),
    ("persons_screened", "很多", "无法识别为数字", "not a number"),
    (
        "risk_level",
        "无",
        "“无”对单位为“级”的指标含义不明确，请填写数字或“不适用”",
        "'无' is ambiguous for an indicator in '级': write a number or 不适用",
    ),
]


@pytest.mark.parametrize(("column", "cell", "zh", "en"), REJECTED, ids=[c[1] for c in REJECTED])
def test_rejected_values(tmp_path: Path, column: str, cell: str, zh: str, en: str) -> None:
    row = _csv_one(tmp_path, column, cell)
    assert pd.isna(row[column])
    assert _events(row, "cell_errors") == [{"column": column, "raw": cell, "zh": zh, "en": en}]
    assert row["coercions"] == "" and row["not_applicable"] == ""


#: Placeholders: (cell, blank | not_applicable). Blank ones are recorded as coercions.
PLACEHOLDERS = [
    ("☆", "blank"),
    ("★", "blank"),
    ("空", "blank"),
    ("—", "blank"),
    ("-", "blank"),
    ("－", "blank"),  # full-width hyphen: NFKC makes it "-"
    ("/", "not_applicable"),
    ("不适用", "not_applicable"),
]


@pytest.mark.parametrize(("cell", "meaning"), PLACEHOLDERS, ids=[p[0] for p in PLACEHOLDERS])
def test_placeholders(tmp_path: Path, cell: str, meaning: str) -> None:
    row = _csv_one(tmp_path, "persons_screened", cell)
    assert pd.isna(row["persons_screened"])
    assert row["cell_errors"] == ""
    if meaning == "blank":
        assert row["not_applicable"] == ""
        assert _events(row, "coercions") == [
            {"column": "persons_screened", "raw": cell, "value": None, "rule": "placeholder_blank"}
        ]
    else:
        assert row["not_applicable"] == "persons_screened"
        assert row["coercions"] == ""


PERIODS = [
    ("2020-1-28", "2020-01-28"),
    ("2020/01/28", "2020-01-28"),
    ("2020.1.28", "2020-01-28"),
    ("2020年1月28日", "2020-01-28"),
    ("２０２０年１月２８日", "2020-01-28"),
    ("20200128", "2020-01-28"),
    ("43858", "2020-01-28"),  # an Excel serial number typed as text
    ("2020-02-30", None),
    ("1月28日", None),  # no year, and no full date above the header: unparsed
]


@pytest.mark.parametrize(("cell", "iso"), PERIODS, ids=[p[0] for p in PERIODS])
def test_period_text_forms(tmp_path: Path, cell: str, iso: str | None) -> None:
    row = _csv_one(tmp_path, "persons_screened", "1", period=cell)
    assert (None if pd.isna(row["period"]) else row["period"]) == iso
    assert row["period_raw"] == cell


def test_period_without_year_takes_the_year_of_the_filing_date_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "XX镇疫情防控工作日报表\n填报日期：2020年1月28日\n"
        + ",".join(HEADER)
        + "\n130902001001,建北社区,1月27日,5,,,,\n",
        encoding="utf-8",
    )
    row = _read(path).rows.iloc[0]
    assert row["period"] == "2020-01-27" and row["period_raw"] == "1月27日"
    assert _events(row, "coercions") == [
        {
            "column": "period",
            "raw": "1月27日",
            "value": "2020-01-27",
            "rule": "period_year_from_title",
        }
    ]


def test_excel_date_cells_and_serial_numbers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["130902001001", "a", datetime(2020, 1, 28, 9, 30), 1])
    ws.append(["130902001002", "b", date(2020, 1, 28), 2])
    ws.append(["130902001003", "c", 43858, 3])
    ws.append(["130902001004", "d", 43858.0, 4])
    wb.save(tmp_path / "d.xlsx")
    rows = _read(tmp_path / "d.xlsx").rows
    assert rows["period"].tolist() == ["2020-01-28"] * 4
    assert rows["persons_screened"].tolist() == [1, 2, 3, 4]


def test_excel_numbers_decimals_and_negatives(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["130902001001", "a", "2020-01-28", 3.0, 3.5, -2, "1,234", "☆"])
    wb.save(tmp_path / "n.xlsx")
    row = _read(tmp_path / "n.xlsx").rows.iloc[0]
    assert row["persons_screened"] == 3 and row["disinfected_area"] == -2
    assert row["households_visited"] is pd.NA
    assert _events(row, "cell_errors") == [
        {
            "column": "households_visited",
            "raw": "3.5",
            "zh": "应为整数",
            "en": "must be a whole number",
        }
    ]
    assert [(c["column"], c["rule"]) for c in _events(row, "coercions")] == [
        ("followup_rate", "thousands"),
        ("risk_level", "placeholder_blank"),
    ]


def test_formula_without_cached_value_is_a_cell_error(tmp_path: Path) -> None:
    """openpyxl writes formulas without results; Excel would have computed them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["130902001001", "a", "2020-01-28", 5, "=D2*2"])
    wb.save(tmp_path / "f.xlsx")
    row = _read(tmp_path / "f.xlsx").rows.iloc[0]
    assert row["persons_screened"] == 5 and row["households_visited"] is pd.NA
    assert _events(row, "cell_errors") == [
        {"column": "households_visited", "raw": "=D2*2", "zh": FORMULA_ZH, "en": FORMULA_EN}
    ]


def test_formula_with_cached_value_uses_the_value(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["130902001001", "a", "2020-01-28", 5])
    ws.write_formula(1, 4, "=D2*2", None, 10)
    wb.close()
    row = _read(path).rows.iloc[0]
    assert row["households_visited"] == 10 and row["cell_errors"] == ""


_FULLWIDTH = str.maketrans("0123456789,-", "０１２３４５６７８９，－")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=20))
def test_any_integer_written_fullwidth_or_grouped_parses_back(numbers: list[int]) -> None:
    for text in (
        [str(n).translate(_FULLWIDTH) for n in numbers],
        [f"{n:,}".replace(",", "，") for n in numbers],
        [f"{n:,}人" for n in numbers],
    ):
        got = parse_counts(pd.Series(text, dtype=object), "persons_screened", "人")
        assert got.values.tolist() == numbers
        assert got.errors == []


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**8 - 1))
def test_standard_chinese_numerals_parse_back(n: int) -> None:
    from huizong.ingest.values import _to_chinese

    got = parse_counts(pd.Series([_to_chinese(n)], dtype=object), "persons_screened", "人")
    assert got.values.tolist() == [n]
