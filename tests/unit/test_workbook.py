"""The consolidated workbook, read back with openpyxl: sheets, headers, values, blanks."""

from __future__ import annotations

from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest

from huizong import frames
from huizong.catalogue import load_catalogue
from huizong.publish.contacts import Contact
from huizong.publish.workbook import (
    CHANGE_LABEL,
    DEPARTMENTS_LABEL,
    LEGEND,
    MAX_SHEET_COLUMNS,
    NO_QUARANTINE,
    NOT_APPLICABLE,
    PREVIOUS_LABEL,
    TOTALS_LABEL,
    Letterhead,
    Previous,
    SheetGroup,
    sheet_groups,
    wrapped_height,
    write_workbook,
    zh_date,
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


CONTACT = Contact(head="张卫国", statistician="李统计", preparer="王填表", phone="0317-2021888")
HEAD = Letterhead(
    compiled_by="沧州市疫情防控指挥部",
    cutoff="2026年11月26日18:00",
    made_on=date(2026, 11, 27),
    contact=CONTACT,
)


@pytest.fixture(scope="module")
def previous(day_frames, registry) -> Previous:
    """The root's figures the day before: most reported (10 fewer), some not reported, one
    indicator absent (it was not published then)."""
    cons = day_frames[0]
    root = cons[(cons["unit_code"] == registry.root) & cons["indicator"].isin(CAT.codes)]
    prev = root[["indicator", "value", "status"]].iloc[1:].reset_index(drop=True)
    prev["value"] = prev["value"] - 10
    prev.loc[prev.index[::4], ["status", "value"]] = ["not_reported", np.nan]
    return Previous(label="2026-11-25", values=prev)


@pytest.fixture(scope="module")
def book_path(tmp_path_factory, registry, day_frames, previous):
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
        letterhead=HEAD,
        previous=previous,
    )
    assert written == path
    return path


@pytest.fixture(scope="module")
def book(book_path):
    return openpyxl.load_workbook(book_path)


def written(path, day_frames, registry, catalogue=CAT, **kwargs):
    """The synthetic day written to ``path`` and opened again."""
    cons, comp, quarantine = day_frames
    return openpyxl.load_workbook(
        write_workbook(
            path,
            DAY,
            consolidated=cons,
            completeness=comp,
            quarantine=quarantine,
            catalogue=catalogue,
            registry=registry,
            **kwargs,
        )
    )


def code_row(ws) -> int:
    """The (hidden) row of indicator codes: the headers end there, the units begin below."""
    return next(r for r in range(1, 12) if ws.cell(r, 1).value == "code")


def level_sheets(book, level: str) -> list:
    return [book[n] for n in book.sheetnames if n.startswith(f"{level}·")]


def _rows_by_code(ws) -> dict[str, tuple]:
    """Unit rows (totals, previous period and change rows excluded) by unit code."""
    start = code_row(ws) + 1
    return {
        r[0].value: r
        for r in ws.iter_rows(min_row=start)
        if r[0].value
        and r[1].value
        and r[1].value != TOTALS_LABEL
        and r[1].value[:2] != "上期"
        and r[1].value != CHANGE_LABEL
    }


def _special_row(ws, label: str) -> tuple:
    return next(r for r in ws.iter_rows() if str(r[1].value or "").startswith(label))


def _all_codes(sheets) -> list[str]:
    return [c.value for ws in sheets for c in ws[code_row(ws)][3:]]


def test_sheets_per_level_and_group_then_departments_completeness_quarantine(book):
    names = [g.name for g in sheet_groups(CAT)]
    assert book.sheetnames == [
        *[f"县区·{n}" for n in names],  # the root's own level is the totals rows below
        *[f"乡镇街道·{n}" for n in names],
        *[f"部门·{n}" for n in names],
        *["问题与建议", "完整性", "隔离区", "说明"],
    ]


def test_sheet_groups_are_whole_sections_in_order_and_narrow():
    groups = sheet_groups(CAT)
    assert [i.code for g in groups for i in g.indicators] == [i.code for i in CAT.numeric]
    assert all(1 <= len(g.indicators) <= MAX_SHEET_COLUMNS for g in groups)
    assert len(groups) >= 3  # some sixty columns no longer on one page
    for g in groups:  # a section is never split while it fits on one sheet
        secs = [i.section for i in g.indicators]
        assert secs == sorted(secs, key=secs.index)
    cut = sheet_groups(CAT, max_columns=3)
    assert all(len(g.indicators) <= 3 for g in cut)
    assert [i.code for g in cut for i in g.indicators] == [i.code for i in CAT.numeric]
    people = [i for i in CAT.numeric if i.unit == "人"][:3]
    assert SheetGroup(1, "x", people).unit == "人"
    assert SheetGroup(1, "x", CAT.numeric[:3]).unit is None


def test_headers_sections_labels_and_codes(book):
    for group, ws in zip(sheet_groups(CAT), level_sheets(book, "乡镇街道"), strict=True):
        codes = code_row(ws)
        assert [c.value for c in ws[codes - 1]][:3] == ["单位代码", "单位名称", "上级单位"]
        labels = [c.value for c in ws[codes - 1]][3:]
        # mixed units: each column header carries its own unit
        assert labels == [f"{i.zh}\n（{i.unit}）" for i in group.indicators]
        assert [c.value for c in ws[codes]][3:] == [i.code for i in group.indicators]
        assert not any(not i.is_numeric for i in group.indicators)  # text: 问题与建议 only
        merged = sorted((r.min_row, r.min_col, r.max_col) for r in ws.merged_cells.ranges)
        sections = [m for m in merged if m[0] == codes - 2]
        first = group.indicators[0]
        n_first = sum(1 for i in group.indicators if i.section == first.section)
        if n_first > 1:
            assert ws.cell(codes - 2, sections[0][1]).value == CAT.section(first.section).zh
            assert sections[0][2] - sections[0][1] + 1 == n_first
        else:
            assert ws.cell(codes - 2, 4).value == CAT.section(first.section).zh
        assert ws.freeze_panes == f"C{codes + 1}"
        assert ws.auto_filter.ref.startswith(f"A{codes - 1}:")
    assert "排查登记人数\n（人）" in [c.value for c in level_sheets(book, "乡镇街道")[0][5]]


def test_township_row_matches_consolidated_blank_zero_not_applicable(book, day_frames):
    cons, _, _ = day_frames
    townships = cons[cons["kind"] == "township"]
    seen = {"blank": 0, "zero": 0, "na": 0}
    for ws in level_sheets(book, "乡镇街道"):
        rows = _rows_by_code(ws)
        codes = [c.value for c in ws[code_row(ws)]]
        assert set(rows) == set(townships["unit_code"])
        for unit in townships["unit_code"].unique()[:25]:
            row = rows[unit]
            mine = townships[(townships["unit_code"] == unit) & townships["indicator"].isin(codes)]
            for rec in mine.itertuples():
                cell = row[codes.index(rec.indicator)]
                if rec.status == "not_applicable":
                    assert cell.value == NOT_APPLICABLE
                    seen["na"] += 1
                elif rec.status == "not_reported":
                    assert cell.value is None, (unit, rec.indicator)
                    seen["blank"] += 1
                else:
                    mean = CAT.indicator(rec.indicator).across_units == "mean"
                    assert cell.value == rec.value
                    assert cell.number_format == ("#,##0.0" if mean else "#,##0")
                    seen["zero"] += rec.value == 0
    assert all(seen.values()), seen  # every case was exercised
    assert set(_all_codes(level_sheets(book, "乡镇街道"))) == {i.code for i in CAT.numeric}


def test_totals_row_is_the_roots_own_value(book, day_frames, registry):
    cons, _, _ = day_frames
    root = cons[cons["unit_code"] == registry.root].set_index("indicator")
    checked = 0
    for ws in level_sheets(book, "县区") + level_sheets(book, "乡镇街道"):
        codes = [c.value for c in ws[code_row(ws)]]
        total = _special_row(ws, TOTALS_LABEL)
        assert total[0].value == registry.root
        for n, code in enumerate(codes[3:], start=3):
            status, value = root.loc[code, "status"], root.loc[code, "value"]
            expected = {"not_reported": None, "not_applicable": NOT_APPLICABLE}.get(status, value)
            assert total[n].value == expected, (ws.title, code)
            checked += 1
        # the filter stops above the totals row (and the 部门合计 row just above it)
        above = ws.cell(total[0].row - 1, 2).value
        last_unit = total[0].row - (2 if above == DEPARTMENTS_LABEL else 1)
        assert ws.auto_filter.ref.endswith(str(last_unit))
        # 上级单位 of the totals row: the root's own parent, never the root again
        assert total[2].value == "河北省", ws.title
    assert checked == 2 * len(CAT.numeric)
    assert "市" not in {n.split("·")[0] for n in book.sheetnames}
    for ws in level_sheets(book, "部门"):
        assert all(r[1].value != TOTALS_LABEL for r in ws.iter_rows())


def test_department_sheet_and_parent_names(book, day_frames, registry):
    cons, _, _ = day_frames
    rows = _rows_by_code(level_sheets(book, "部门")[0])
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


def test_an_empty_quarantine_sheet_says_so_in_one_line(tmp_path, registry, day_frames):
    """A day without quarantined rows printed a 隔离区 page of headers only: a clerk could
    not tell "none" from "page lost". The sheet now says so under its headers."""
    cons, comp, quarantine = day_frames
    book = written(tmp_path / "b.xlsx", (cons, comp, quarantine.iloc[0:0]), registry)
    q = book["隔离区"]
    assert [c.value for c in q[1]][:3] == ["文件名", "工作表", "行号"]
    assert q.max_row == 2 and q["A2"].value == NO_QUARANTINE
    assert "A2:L2" in {str(r) for r in q.merged_cells.ranges}  # one line across the page
    assert q.auto_filter.ref is None  # nothing to filter


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
    for ws in [*level_sheets(book, "县区"), *level_sheets(book, "部门"), book["问题与建议"]]:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.paperSize == 9  # A4: at most 14 numbers a sheet stay legible
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        # one page wide (1 is the OOXML default, so an absent attribute means 1), any height
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
        assert "沧州市" in ws.oddHeader.center.text and zh_date(DAY) in ws.oddHeader.center.text
        assert ws.oddFooter.right.text == "&A  第 &P 页"  # the sheet, its own page
        # each sheet's pages count from 1 (a trial saw 第 5 页 on a sheet's first page);
        # firstPageNumber absent means 1 (the OOXML default), as fitToWidth above
        assert ws.page_setup.useFirstPageNumber is True
        assert (ws.page_setup.firstPageNumber or 1) == 1
        assert ws.oddFooter.left.text.startswith(HEAD.compiled_by)
    ws = level_sheets(book, "县区")[0]
    codes = code_row(ws)
    assert ws.print_title_rows == f"${codes - 2}:${codes - 1}"  # sections and labels
    assert ws.oddFooter.left.text == f"{HEAD.compiled_by}  汇综1表"
    assert ws.row_dimensions[codes].hidden is True  # the indicator codes: hidden, still there
    assert ws.cell(codes, 4).value == sheet_groups(CAT)[0].indicators[0].code
    assert book["问题与建议"].print_title_rows == "$1:$1"


def test_header_block_on_every_level_sheet(book):
    for n, ws in enumerate(level_sheets(book, "乡镇街道"), start=1):
        top = [ws.cell(r, c).value for r in (1, 2, 3) for c in range(1, ws.max_column + 1)]
        text = " ".join(str(v) for v in top if v)
        assert "沧州市疫情防控工作日报表（2026年11月26日）" in text  # as huizong report writes it
        assert f"表号：汇综{n}表" in text and "制表机关：沧州市疫情防控指挥部" in text
        assert "统计截止时间：2026年11月26日18:00" in text and "制表日期：2026年11月27日" in text
        assert "计量单位：见各栏" in text  # mixed units: each header says its own
        assert "see each column" not in text  # an official form: Chinese only


def test_one_unit_of_measure_goes_to_the_header_block(tmp_path, registry, day_frames):
    """A sheet whose numbers all share one unit says it once (计量单位：人) and drops it
    from the column headers."""
    from dataclasses import replace

    people = tuple(i for i in CAT.indicators if i.unit == "人" or not i.is_numeric)
    cat = replace(CAT, indicators=people)
    ws = level_sheets(written(tmp_path / "people.xlsx", day_frames, registry, cat), "县区")[0]
    row3 = " ".join(str(c.value) for c in ws[3] if c.value)
    assert "计量单位：人" in row3
    labels = [c.value for c in ws[code_row(ws) - 1]][3:]
    assert labels == [i.zh for i in sheet_groups(cat)[0].indicators]


def test_signature_block_from_the_contacts_and_lines_to_sign(book, tmp_path, registry, day_frames):
    ws = level_sheets(book, "乡镇街道")[0]
    last = ws.cell(ws.max_row, 1).value
    assert last.startswith("单位负责人：张卫国") and "统计负责人：李统计" in last
    assert "填表人：王填表" in last and "联系电话：0317-2021888" in last
    assert "报出日期：______年____月____日" in last
    assert ws.cell(ws.max_row - 1, 1).value == LEGEND
    ws = level_sheets(written(tmp_path / "bare.xlsx", day_frames, registry), "乡镇街道")[0]
    last = ws.cell(ws.max_row, 1).value
    assert "单位负责人：__________" in last and "联系电话：__________" in last
    made = " ".join(str(c.value) for c in ws[3] if c.value)
    assert f"制表日期：{zh_date(date.today())}" in made and "2026年11月26日20:00" in made


def test_previous_period_and_change_under_the_totals_row(book, day_frames, registry, previous):
    """较上期增减 = this period's total − the previous one, where both are reported numbers;
    blank (never 0) where the previous period had no value."""
    cons = day_frames[0]
    now = cons[cons["unit_code"] == registry.root].set_index("indicator")
    before = previous.values.set_index("indicator")
    seen = {"change": 0, "blank": 0}
    for ws in level_sheets(book, "乡镇街道"):
        codes = [c.value for c in ws[code_row(ws)]]
        total = _special_row(ws, TOTALS_LABEL)
        prev_row = _special_row(ws, PREVIOUS_LABEL)
        change = _special_row(ws, CHANGE_LABEL)
        assert prev_row[1].value == "上期（2026-11-25）"
        assert prev_row[0].row == total[0].row + 1 and change[0].row == total[0].row + 2
        for n, code in enumerate(codes[3:], start=3):
            was = before.loc[code] if code in before.index else None
            reported_then = was is not None and was["status"] == "reported"
            reported_now = now.loc[code, "status"] == "reported"
            if reported_then and reported_now:
                assert prev_row[n].value == pytest.approx(was["value"])
                assert change[n].value == pytest.approx(now.loc[code, "value"] - was["value"])
                assert change[n].number_format.startswith("+")
                seen["change"] += 1
            else:
                assert change[n].value is None, code
                seen["blank"] += 1
            if was is None or was["status"] == "not_reported":
                assert prev_row[n].value is None
    assert all(seen.values()), seen


def test_a_previous_period_not_published_reads_so_and_stays_blank(tmp_path, registry, day_frames):
    never = Previous("2026-11-25", pd.DataFrame(columns=["indicator", "value", "status"]))
    book = written(tmp_path / "first.xlsx", day_frames, registry, previous=never)
    ws = level_sheets(book, "县区")[0]
    assert _special_row(ws, PREVIOUS_LABEL)[1].value == "上期（2026-11-25 未发布）"
    change = _special_row(ws, CHANGE_LABEL)
    assert all(c.value is None for c in change[3:])


def test_notes_legend_and_one_issue_row_per_unit(book, day_frames):
    notes = [[c.value for c in r] for r in book["说明"].iter_rows()]
    assert notes[0][:2] == ["图例 Legend", LEGEND]
    listed = {str(r[0]).strip() for r in notes if r[0]}
    assert {n for n in book.sheetnames if "·" in n} <= listed  # every level sheet explained
    assert ["制表机关 Compiled by", HEAD.compiled_by] in [r[:2] for r in notes]
    assert any(r[1] == "persons_screened" and "相加" in r[3] for r in notes if r[1])
    issues = book["问题与建议"]
    cons = day_frames[0]
    towns = cons[(cons["level"] == 4) & cons["indicator"].isin([i.code for i in CAT.text])]
    with_text = towns.groupby("unit_code")["value_text"].apply(lambda s: s.notna().any())
    got = [r[0].value for r in issues.iter_rows(min_row=2)]
    assert [c.value for c in issues[1]] == ["单位代码", "单位名称", *[i.zh for i in CAT.text]]
    assert sorted(c for c in got if c and c[:1].isdigit() and len(c) == 9) == sorted(
        with_text[with_text].index
    )
    assert max(len(str(c.value or "")) for r in issues.iter_rows() for c in r) < 32_767


def test_printed_pages_render_to_png(tmp_path, book_path):
    """LibreOffice prints the workbook to PDF, poppler makes its first two pages PNGs in
    test-artifacts/ for a person to look at: A4 landscape, a readable number of columns,
    the header block, the page numbers, the signature block with the contacts' names."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    if not (shutil.which("soffice") and shutil.which("pdftoppm")):
        if os.environ.get("HUIZONG_REQUIRE_OFFICE") == "1":
            pytest.fail("LibreOffice/poppler missing: make office")
        pytest.skip("needs LibreOffice and poppler: make office")
    env = {**os.environ, "HOME": str(tmp_path)}  # LibreOffice's profile stays in tmp
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), book_path],
        check=True,
        timeout=300,
        env=env,
        capture_output=True,
    )
    pdf = tmp_path / "huizong_1309.pdf"
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for page, stem in ((1, "workbook_page"), (2, "workbook_page_2")):
        pages = ["-f", str(page), "-l", str(page), "-singlefile"]
        subprocess.run(
            ["pdftoppm", "-png", "-r", "90", *pages, str(pdf), str(artifacts / stem)],
            check=True,
            timeout=60,
        )
        assert (artifacts / f"{stem}.png").stat().st_size > 10_000
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    width, height = (
        float(x) for x in info.stdout.split("Page size:")[1].split("pts")[0].split("x")
    )
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    pages = int(info.stdout.split("Pages:")[1].split()[0])
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "表号：汇综1表" in first and "制表机关：沧州市疫情防控指挥部" in first
    assert first_page_of_each_sheet(pdf) == openpyxl.load_workbook(book_path).sheetnames
    assert "排查登记人数" in first and "合计/上级汇总" in first
    whole = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "单位负责人：张卫国" in whole and "较上期增减" in whole
    assert " 共 " not in whole and pages > len(openpyxl.load_workbook(book_path).sheetnames)


def first_page_of_each_sheet(pdf) -> list[str]:
    """The sheets whose pages read 第 1 页 in the footer, in print order: every sheet once
    when each sheet counts its own pages (a trial saw 第 5 页 on a sheet's first page)."""
    import re
    import subprocess

    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    found = []
    for page in text.split("\f"):
        footer = [line for line in page.splitlines() if re.search(r"第 \d+ 页\s*$", line)]
        if footer:
            sheet, number = re.search(r"(\S+) 第 (\d+) 页\s*$", footer[-1]).groups()
            if number == "1":
                found.append(sheet)
    return found


def _cells(book) -> dict[str, list[tuple]]:
    """Every sheet's cells: value, number format, bold, fill, border and wrap."""
    return {
        ws.title: [
            (
                c.coordinate,
                c.value,
                c.number_format,
                c.font.b,
                c.fill.fgColor.rgb,
                c.border.top.style,
                c.alignment.wrap_text,
            )
            for row in ws.iter_rows()
            for c in row
        ]
        for ws in book.worksheets
    }


def test_streamed_and_in_memory_workbooks_hold_the_same_cells(
    tmp_path, monkeypatch, book, registry, day_frames, previous
):
    """Above IN_MEMORY_CELLS the workbook streams (constant_memory): same sheets, same cells."""
    from huizong.publish import workbook

    monkeypatch.setattr(workbook, "IN_MEMORY_CELLS", 0)
    streamed = written(
        tmp_path / "s.xlsx", day_frames, registry, letterhead=HEAD, previous=previous
    )
    assert streamed.sheetnames == book.sheetnames
    assert _cells(streamed) == _cells(book)
    for name in book.sheetnames:
        assert sorted(map(str, streamed[name].merged_cells.ranges)) == sorted(
            map(str, book[name].merged_cells.ranges)
        )


def test_wrapped_text_gets_the_height_it_needs():
    """A trial saw a county's 59 missing names and the 说明 texts drawn over the rows below."""
    assert wrapped_height("短", 60) == 15.0
    assert wrapped_height("崔庄村、" * 59, 60) == pytest.approx(8 * 14.5)  # 472 columns
    assert wrapped_height("a\nb", 60) == pytest.approx(2 * 14.5)
    assert wrapped_height("长" * 100_000, 60) == 409.0  # Excel's highest row


def test_long_texts_wrap_inside_their_own_rows(book):
    comp = book["完整性"]
    header = [c.value for c in comp[1]]
    col = header.index("未报单位名单") + 1
    for r in range(2, comp.max_row + 1):
        text = comp.cell(r, col).value
        if text:
            assert (comp.row_dimensions[r].height or 15.0) == wrapped_height(text, 60)
    notes = book["说明"]
    assert "B1:D1" in {str(m) for m in notes.merged_cells.ranges}
    for r in (2, 3):
        label, text = notes.cell(r, 1).value, notes.cell(r, 2).value
        expected = max(wrapped_height(label, 26), wrapped_height(text, 82))
        assert (notes.row_dimensions[r].height or 15.0) == expected
    assert notes.row_dimensions[2].height > 15


def test_notes_name_the_department_sheet_only_when_there_is_one(
    book, tmp_path, registry, day_frames
):
    def sheets_note(wb) -> str:
        return next(r[1] for r in wb["说明"].iter_rows(values_only=True) if r[0] == "各表 Sheets")

    assert "部门：部门报表" in sheets_note(book)
    cons, comp, quarantine = day_frames
    geo = (cons[cons["kind"] != "department"], comp[comp["kind"] != "department"], quarantine)
    without = written(tmp_path / "geo.xlsx", geo, registry)
    assert not any(n.startswith("部门") for n in without.sheetnames)
    assert "部门" not in sheets_note(without)


def test_missing_units_are_one_row_each_with_county_and_township(tmp_path, day_frames, registry):
    """Given the day's missing reporters, 未报名单 lists each on its own row (a city's
    workbook names the county too); without any, it says so instead of an empty page."""
    reporters = registry.reporters
    villages = reporters[reporters["code"].str.startswith("130903")].head(3)
    dep = reporters[reporters["kind"] == "department"].head(1)
    gone = pd.concat([villages, dep])
    missing = pd.DataFrame(
        {
            "period": DAY.isoformat(),
            "unit_code": gone["code"],
            "unit_name": gone["name"],
            "kind": gone["kind"],
            "parent_code": gone["parent_code"],
            "township_code": [*villages["parent_code"], ""],
            "county_code": [*villages["code"].str[:6], dep["parent_code"].iloc[0][:6]],
            "city_code": "1309",
        },
        columns=frames.MISSING_COLUMNS,
    )
    book = written(tmp_path / "m.xlsx", day_frames, registry, missing=missing)
    ws = book["未报名单"]
    header = [c.value for c in ws[1]]
    assert header[0] == "县区" and ws.print_title_rows == "$1:$1"
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [r["单位代码"] for r in rows] == sorted(gone["code"])
    names = registry.names_of([*villages["parent_code"], "130903", dep["parent_code"].iloc[0]])
    for r in rows:
        if r["单位代码"] in set(villages["code"]):
            code = r["单位代码"]
            assert r["县区"] == names["130903"] and r["类别"] == "村社区"
            assert r["乡镇街道（部门的上级单位）"] == names[code[:9]]
        else:
            assert r["类别"] == "部门"
            assert r["乡镇街道（部门的上级单位）"] == names[dep["parent_code"].iloc[0]]
    assert "未报单位名单" not in [c.value for c in book["完整性"][1]]
    none = written(tmp_path / "n.xlsx", day_frames, registry, missing=missing.iloc[:0])
    assert none["未报名单"].cell(2, 1).value == "无未报单位 / every unit reported"


def test_corrections_print_each_indicator_in_its_own_number_format(tmp_path, day_frames, registry):
    """更正说明 printed a corrected follow-up rate 97.5 → 98.25 as 98 and 98: each row's
    values take the format its indicator has on the level sheets (a rate, catalogue
    ``decimals`` 1, to one decimal; a count whole), the difference signed."""
    from huizong.publish.change_report import REPORT_COLUMNS

    rate = next(i for i in CAT.numeric if i.decimals)
    count = next(i for i in CAT.numeric if not i.decimals and i.across_units == "sum")
    corrections = pd.DataFrame(
        {
            "county_code": "130903",
            "unit_code": "130903",
            "unit_name": "运河区",
            "level": 3,
            "indicator": [rate.code, count.code],
            "indicator_label": [rate.zh, count.zh],
            "old_value": [97.5, 12.0],
            "new_value": [98.25, 15.0],
            "difference": [0.75, 3.0],
            "change": "changed",
            "versions": "2",
            "cause": "审核更正",
        },
        columns=REPORT_COLUMNS,
    )
    book = written(tmp_path / "c.xlsx", day_frames, registry, corrections=corrections)
    ws = book["更正说明"]
    header = [c.value for c in ws[1]]
    cols = [header.index(h) + 1 for h in ("原值（第1版）", "新值（现版）", "增减")]
    rate_row, count_row = 2, 3
    assert ws.cell(rate_row, 3).value == rate.zh
    assert [ws.cell(rate_row, c).number_format for c in cols] == [
        "#,##0.0",
        "#,##0.0",
        "+#,##0.0;-#,##0.0;0",
    ]
    assert [ws.cell(count_row, c).number_format for c in cols] == [
        "#,##0",
        "#,##0",
        "+#,##0;-#,##0;0",
    ]
    assert ws.cell(rate_row, cols[1]).value == pytest.approx(98.25)
