"""The consolidated workbook, read back with openpyxl: sheets, headers, values, blanks."""

from __future__ import annotations

from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.publish.workbook import (
    LEGEND,
    NOT_APPLICABLE,
    TOTALS_LABEL,
    header_label,
    ordered_indicators,
    write_workbook,
)
from huizong.registry import load_registry

DAY = date(2026, 11, 26)
CAT = load_catalogue()
LONG_TEXT = "甲村: 口罩紧缺\n乙村: 测温枪不足"


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def day_frames(registry):
    """Consolidated rows for the root, its counties, townships and departments."""
    units = registry.units
    shown = units[(units["level"].between(2, 4)) & units["code"].str.startswith(registry.root)]
    rng = np.random.default_rng(7)
    n_units, n_ind = len(shown), len(CAT.indicators)
    unit_rep = np.repeat(np.arange(n_units), n_ind)
    ind_rep = np.tile(np.arange(n_ind), n_units)
    status = rng.choice(
        ["reported", "not_reported", "not_applicable"], size=len(unit_rep), p=[0.7, 0.2, 0.1]
    )
    value = rng.integers(0, 100_000, size=len(unit_rep)).astype("float64")
    value[rng.random(len(unit_rep)) < 0.15] = 0.0  # real zero reports
    value[status != "reported"] = np.nan
    codes = np.array(CAT.codes)[ind_rep]
    text_codes = [i.code for i in CAT.text]
    is_text = np.isin(codes, text_codes)
    value[is_text] = np.nan
    value_text = np.where(is_text & (status == "reported"), LONG_TEXT, None)
    cons = pd.DataFrame(
        {
            "period": DAY.isoformat(),
            "unit_code": shown["code"].to_numpy()[unit_rep],
            "unit_name": shown["name"].to_numpy()[unit_rep],
            "level": shown["level"].to_numpy()[unit_rep],
            "kind": shown["kind"].to_numpy()[unit_rep],
            "parent_code": shown["parent_code"].to_numpy()[unit_rep],
            "indicator": codes,
            "value": value,
            "value_text": pd.array(value_text, dtype="str"),
            "status": status,
            "reporting_units": 1,
            "expected_units": 1,
        },
        columns=frames.CONSOLIDATED_COLUMNS,
    )
    comp = (
        cons[["period", "unit_code", "unit_name", "level", "kind"]]
        .drop_duplicates("unit_code")
        .assign(
            expected_units=10,
            reported_units=8,
            missing_units=2,
            reporting_rate=0.8,
            on_time_units=7,
            late_units=1,
            missing_list="130903001001 甲村; 130903001002 乙村",
        )
    )
    quarantine = pd.DataFrame(
        {
            "period": DAY.isoformat(),
            "file_id": ["a" * 64, "b" * 64],
            "file_name": ["水月寺街道.xlsx", "=HYPERLINK(x).csv"],
            "sheet": ["Sheet1", ""],
            "row_number": [7, 3],
            "unit_code": ["130903001001", pd.NA],
            "unit_name": ["甲村", ""],
            "column": ["masks_in_stock", pd.NA],
            "value": ["9999999", "2026/13/45"],
            "rule": ["max:masks_in_stock", "period_parsed"],
            "severity": "error",
            "message_zh": ["口罩库存超过上限", "日期无法识别"],
            "message_en": ["masks in stock above the maximum", "period not recognised"],
        },
        columns=frames.ISSUE_COLUMNS,
    )
    return cons, comp, quarantine


@pytest.fixture(scope="module")
def book(tmp_path_factory, registry, day_frames):
    cons, comp, quarantine = day_frames
    path = tmp_path_factory.mktemp("out") / "sub" / "huizong_1309.xlsx"
    written = write_workbook(
        path,
        DAY,
        consolidated=cons,
        completeness=comp,
        quarantine=quarantine,
        catalogue=CAT,
        registry=registry,
    )
    assert written == path
    return openpyxl.load_workbook(path)


def _rows_by_code(ws) -> dict[str, tuple]:
    """Unit rows (the totals row excluded) by unit code."""
    return {
        r[0].value: r for r in ws.iter_rows(min_row=5) if r[0].value and r[1].value != TOTALS_LABEL
    }


def test_sheets_one_per_level_then_departments_completeness_quarantine(book):
    assert book.sheetnames == [
        *["市", "县区", "乡镇街道", "部门"],
        *["问题与建议", "完整性", "隔离区", "说明"],
    ]


def test_headers_sections_labels_and_codes(book):
    ws = book["乡镇街道"]
    inds = ordered_indicators(CAT)
    assert [c.value for c in ws[3]][:3] == ["单位代码", "单位名称", "上级单位"]
    assert [c.value for c in ws[3]][3:] == [header_label(i) for i in inds]
    assert [c.value for c in ws[4]][3:] == [i.code for i in inds]
    assert "排查登记人数（人）" in [c.value for c in ws[3]]
    # sections: a merged cell over each section's indicators, in catalogue order
    merged = sorted((r.min_row, r.min_col, r.max_col) for r in ws.merged_cells.ranges)
    section_ranges = [m for m in merged if m[0] == 2]
    first = section_ranges[0]
    assert ws.cell(2, first[1]).value == CAT.section(inds[0].section).zh
    n_first = sum(1 for i in inds if i.section == inds[0].section)
    assert first[2] - first[1] + 1 == n_first
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref.startswith("A4:")


def test_township_row_matches_consolidated_blank_zero_not_applicable(book, day_frames):
    cons, _, _ = day_frames
    ws = book["乡镇街道"]
    rows = _rows_by_code(ws)
    codes = [c.value for c in ws[4]]
    townships = cons[cons["kind"] == "township"]
    assert set(rows) == set(townships["unit_code"])
    seen = {"blank": 0, "zero": 0, "na": 0, "text": 0}
    for unit in townships["unit_code"].unique()[:25]:
        row = rows[unit]
        for rec in townships[townships["unit_code"] == unit].itertuples():
            cell = row[codes.index(rec.indicator)]
            if rec.status == "not_applicable":
                assert cell.value == NOT_APPLICABLE
                seen["na"] += 1
            elif rec.status == "not_reported":
                assert cell.value is None, (unit, rec.indicator)
                seen["blank"] += 1
            elif pd.notna(rec.value_text):
                assert cell.value == rec.value_text and cell.alignment.wrap_text
                seen["text"] += 1
            else:
                mean = CAT.indicator(rec.indicator).across_units == "mean"
                assert cell.value == rec.value
                assert cell.number_format == ("#,##0.0" if mean else "#,##0")
                seen["zero"] += rec.value == 0
    assert all(seen.values()), seen  # every case was exercised


def test_totals_row_is_the_roots_own_value(book, day_frames, registry):
    cons, _, _ = day_frames
    root = cons[cons["unit_code"] == registry.root].set_index("indicator")
    for sheet in ("县区", "乡镇街道"):
        ws = book[sheet]
        codes = [c.value for c in ws[4]]
        last = ws[ws.max_row]
        assert last[1].value == TOTALS_LABEL and last[0].value == registry.root
        for ind in CAT.numeric:
            cell = last[codes.index(ind.code)]
            status, value = root.loc[ind.code, "status"], root.loc[ind.code, "value"]
            expected = {"not_reported": None, "not_applicable": NOT_APPLICABLE}.get(status, value)
            assert cell.value == expected, (sheet, ind.code)
        # the filter stops above the totals row
        assert ws.auto_filter.ref.endswith(str(ws.max_row - 1))
    assert book["市"].max_row == 5  # the root alone, no totals row of its own
    assert book["部门"]["B5"].value != TOTALS_LABEL


def test_department_sheet_and_parent_names(book, day_frames, registry):
    cons, _, _ = day_frames
    rows = _rows_by_code(book["部门"])
    deps = cons.loc[cons["kind"] == "department", "unit_code"].unique()
    assert set(rows) == set(deps)
    assert rows["130903D01"][2].value == "运河区"


def test_completeness_and_quarantine_sheets(book, day_frames):
    _, comp, quarantine = day_frames
    ws = book["完整性"]
    assert ws.max_row == len(comp) + 1
    header = [c.value for c in ws[1]]
    assert {"按时报送", "迟报", "未报单位名单", "报送率"} <= set(header)
    first = [c.value for c in ws[2]]
    assert first[header.index("报送率")] == pytest.approx(0.8)
    assert ws.cell(2, header.index("报送率") + 1).number_format == "0.0%"
    q = book["隔离区"]
    qh = [c.value for c in q[1]]
    assert q.max_row == len(quarantine) + 1
    body = [[c.value for c in r] for r in q.iter_rows(min_row=2)]
    zh = {r[qh.index("问题说明")] for r in body}
    en = {r[qh.index("Message")] for r in body}
    assert zh == set(quarantine["message_zh"]) and en == set(quarantine["message_en"])
    # text that looks like a formula stays text
    assert "=HYPERLINK(x).csv" in {r[qh.index("文件名")] for r in body}
    assert {r[qh.index("行号")] for r in body} == {7, 3}


def test_atomic_write_keeps_the_previous_file_on_failure(tmp_path, registry, day_frames):
    cons, comp, quarantine = day_frames
    path = tmp_path / "book.xlsx"
    args = dict(consolidated=cons, quarantine=quarantine, catalogue=CAT, registry=registry)
    write_workbook(path, DAY, completeness=comp, **args)
    before = path.read_bytes()
    with pytest.raises(KeyError):
        write_workbook(path, DAY, completeness=comp.drop(columns=["level"]), **args)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_print_settings_on_the_saved_file(book):
    ws = book["县区"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 8  # A3
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    # one page wide (1 is the OOXML default, so an absent attribute means 1), any height
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$3"
    assert "沧州市" in ws.oddHeader.center.text and DAY.isoformat() in ws.oddHeader.center.text
    assert ws.oddFooter.right.text == "第 &P 页 共 &N 页"
    assert "单位负责人" in ws.oddFooter.left.text and "报出日期" in ws.oddFooter.left.text
    assert ws.row_dimensions[4].hidden is True  # the indicator codes: hidden, still there
    assert ws.cell(4, 4).value == ordered_indicators(CAT)[0].code


def test_notes_legend_and_one_issue_row_per_unit(book, day_frames):
    notes = [[c.value for c in r] for r in book["说明"].iter_rows()]
    assert notes[0][:2] == ["图例 Legend", LEGEND]
    assert any(r[1] == "persons_screened" and "相加" in r[3] for r in notes if r[1])
    issues = book["问题与建议"]
    cons = day_frames[0]
    towns = cons[(cons["level"] == 4) & cons["indicator"].isin([i.code for i in CAT.text])]
    with_text = towns.groupby("unit_code")["value_text"].apply(lambda s: s.notna().any())
    got = [r[0].value for r in issues.iter_rows(min_row=2)]
    assert sorted(c for c in got if c and c[:1].isdigit() and len(c) == 9) == sorted(
        with_text[with_text].index
    )
    assert max(len(str(c.value or "")) for r in issues.iter_rows() for c in r) < 32_767


def test_a_printed_page_renders_to_png(tmp_path, registry, day_frames):
    """LibreOffice prints the county sheet to PDF, poppler makes page 1 a PNG in
    test-artifacts/ for a person to look at; the page is A3 landscape."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    if not (shutil.which("soffice") and shutil.which("pdftoppm")):
        if os.environ.get("HUIZONG_REQUIRE_OFFICE") == "1":
            pytest.fail("LibreOffice/poppler missing: make office")
        pytest.skip("needs LibreOffice and poppler: make office")
    cons, comp, quarantine = day_frames
    path = write_workbook(
        tmp_path / "huizong_1309.xlsx",
        DAY,
        consolidated=cons,
        completeness=comp,
        quarantine=quarantine,
        catalogue=CAT,
        registry=registry,
    )
    env = {**os.environ, "HOME": str(tmp_path)}  # LibreOffice's profile stays in tmp
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        timeout=180,
        env=env,
        capture_output=True,
    )
    pdf = tmp_path / "huizong_1309.pdf"
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    stem = artifacts / "workbook_page"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
        timeout=60,
    )
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    width, height = (
        float(x) for x in info.stdout.split("Page size:")[1].split("pts")[0].split("x")
    )
    assert (round(width), round(height)) == (1191, 842)  # A3 landscape, in points
    assert (artifacts / "workbook_page.png").stat().st_size > 10_000
