"""A county's and a township's reports of the demo day, read back against the warehouse.

Every number of the workbook is compared with the published ``consolidated`` rows (and
the villages' with their ``report`` rows); the 情况汇报's figures with the same rows.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from huizong.catalogue import load_catalogue
from huizong.cli import main
from huizong.demo import generate_demo_day
from huizong.periods import parse_period
from huizong.pipeline import registry_for, run_day
from huizong.publish import unit_report
from huizong.publish.warehouse import read_table
from huizong.publish.workbook import CHANGE_LABEL, PREVIOUS_LABEL, TOTALS_LABEL, sheet_groups
from huizong.settings import Settings

DAY = date(2020, 1, 28)
COUNTY = "130921"  # 沧县
CAT = load_catalogue()
NUMERIC = [i.code for i in CAT.numeric]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("var")
    settings = Settings(home=home, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}")
    inbox = home / "inbox" / DAY.isoformat()
    generate_demo_day(DAY, inbox)
    run_day(DAY, settings, inbox)
    return settings


@pytest.fixture(scope="module")
def township(demo: Settings) -> str:
    cons = read_table(demo.warehouse, "consolidated", DAY)
    towns = cons[(cons["level"] == 4) & cons["unit_code"].str.startswith(COUNTY)]
    return str(towns["unit_code"].min())


def _tables(settings: Settings, unit: str, period: str = DAY.isoformat()):
    registry = registry_for(settings)
    return unit_report.load_unit_tables(
        settings.warehouse, unit, parse_period(period), registry, CAT
    ), registry


def _code_row(ws) -> int | None:
    """The hidden row of indicator codes of a level sheet (None: not a level sheet)."""
    return next((r for r in range(1, 12) if ws.cell(r, 1).value == "code"), None)


def _numbers(ws) -> dict[str, dict[str, float | None]]:
    """code → indicator → number (None for a blank cell) of a level sheet's unit rows and
    its totals row (``TOTAL:<code>``); the previous-period rows are left out."""
    header = _code_row(ws)
    codes = [c.value for c in ws[header]]
    out = {}
    for row in ws.iter_rows(min_row=header + 1, values_only=True):
        if not row[0] or not row[1] or str(row[1]).startswith((PREVIOUS_LABEL, CHANGE_LABEL)):
            continue  # legend and signature lines sit in merged cells of column A alone
        key = f"TOTAL:{row[0]}" if row[1] == TOTALS_LABEL else str(row[0])
        out[key] = {c: row[n] for n, c in enumerate(codes) if c in NUMERIC}
    return out


def _special(ws, label: str) -> dict[str, object]:
    """indicator → value of the row whose label starts with ``label`` (上期 / 较上期增减)."""
    codes = [c.value for c in ws[_code_row(ws)]]
    row = next(r for r in ws.iter_rows(values_only=True) if str(r[1] or "").startswith(label))
    return {c: row[n] for n, c in enumerate(codes) if c in NUMERIC}


@pytest.mark.parametrize("which", ["county", "township"])
def test_every_number_equals_the_warehouse(demo, township, tmp_path, which):
    unit = COUNTY if which == "county" else township
    tables, registry = _tables(demo, unit)
    path = unit_report.write_unit_workbook(tmp_path / f"{unit}.xlsx", tables, registry, CAT)
    book = openpyxl.load_workbook(path)
    cons = read_table(demo.warehouse, "consolidated", DAY)
    cons = cons[cons["unit_code"].str.startswith(unit)]
    want = {
        (r.unit_code, r.indicator): (None if r.status != "reported" else r.value)
        for r in cons.itertuples()
        if r.indicator in NUMERIC
    }
    report = read_table(demo.warehouse, "report", DAY, catalogue=CAT).set_index("unit_code")
    villages = registry.units[
        (registry.units["level"] == 5) & registry.units["code"].str.startswith(unit)
    ]["code"]
    seen_villages, checked = set(), 0
    per_level: dict[str, list[str]] = {}
    for name in book.sheetnames:
        ws = book[name]
        if _code_row(ws) is None:
            continue
        per_level.setdefault(name.split("·")[0], []).extend(c.value for c in ws[_code_row(ws)][3:])
        for code, values in _numbers(ws).items():
            for ind, got in values.items():
                got = None if got in (None, "不适用") else float(got)
                if code.startswith("TOTAL:"):
                    expect = want[(unit, ind)]
                    assert code == f"TOTAL:{unit}"
                elif len(code) == 12:
                    seen_villages.add(code)
                    raw = report[ind].get(code) if code in report.index else None
                    expect = None if raw is None or pd.isna(raw) else float(raw)
                else:
                    expect = want[(code, ind)]
                assert got == expect, (name, code, ind)
                checked += 1
    assert seen_villages == set(villages)  # every village has its row, reported or not
    assert checked >= len(NUMERIC) * (len(villages) + 1)  # villages and the totals row
    # across the split sheets every indicator is shown exactly once per level
    assert all(sorted(codes) == sorted(NUMERIC) for codes in per_level.values()), per_level
    assert "村社区" in per_level and (which == "township" or "乡镇街道" in per_level)


def test_a_week_of_one_published_day_equals_that_day(demo):
    day, _ = _tables(demo, COUNTY)
    week, _ = _tables(demo, COUNTY, "2020-W05")
    d = day.consolidated.set_index(["unit_code", "indicator"])  # villages' rows too
    w = week.consolidated.set_index(["unit_code", "indicator"])
    assert sorted(w.index) == sorted(d.index)
    pd.testing.assert_series_equal(
        w.loc[d.index, "value"], d["value"], check_names=False, check_index=False
    )
    assert (w["carried_units"] == 0).all()
    comp = week.completeness.set_index("unit_code").loc[COUNTY]
    assert comp["reporter_days_expected"] == comp["expected_units"] * 2  # 27 and 28 Jan
    assert comp["reporter_days_received"] == comp["reported_units"]  # only the 28th published


def test_a_week_says_it_is_a_week_and_how_many_of_its_days_are_in(demo, tmp_path):
    """Trial defect: a 周报 was titled 日报表 and showed the day's rate as the week's."""
    week, registry = _tables(demo, COUNTY, "2020-W05")
    path = unit_report.write_unit_workbook(tmp_path / "w.xlsx", week, registry, CAT)
    book = openpyxl.load_workbook(path)
    assert "周报" in str(book.properties.title) and "日报" not in str(book.properties.title)
    comp = week.completeness.set_index("unit_code").loc[COUNTY]
    text = unit_report.render_progress_text(unit_report.progress_context(week, registry, CAT, DAY))
    rate = f"{comp['reporter_days_received'] / comp['reporter_days_expected']:.1%}"
    assert f"本周7天，截至1月28日已发布{comp['days_published']}天，" in text
    assert comp["days_published"] == 1 and "本周共" not in text
    assert f"按单位·日计报送率{rate}" in text
    day, _ = _tables(demo, COUNTY)
    day_text = unit_report.render_progress_text(
        unit_report.progress_context(day, registry, CAT, DAY)
    )
    assert "按单位·日计" not in day_text  # a day has no reporter-days sentence


def test_progress_report_figures_equal_the_warehouse(demo, township, tmp_path):
    tables, registry = _tables(demo, township)
    context = unit_report.progress_context(tables, registry, CAT, DAY)
    own = read_table(demo.warehouse, "consolidated", DAY).set_index(["unit_code", "indicator"])
    for ind in CAT.numeric:
        row = own.loc[(township, ind.code)]
        assert context["figures"][ind.code] == unit_report.figure_text(
            row["value"], row["status"], ind.unit, ind.across_units
        )
    screened = own.loc[(township, "persons_screened"), "value"]
    text = unit_report.render_progress_text(context)
    assert f"排查登记人数{int(screened):,}人" in text
    # a min or max is not a total (trials misread it), said after the figure, where it reads
    assert re.search(r"口罩可保障天数[\d,]+天（各单位最低）", text)
    assert re.search(r"风险等级\(1低2中3高\)\d级（各单位最高）", text)
    county, _ = _tables(demo, COUNTY)
    county_text = unit_report.render_progress_text(
        unit_report.progress_context(county, registry, CAT, DAY)
    )
    problems = str(own.loc[(COUNTY, "problems"), "value_text"]).splitlines()
    assert len(problems) > 3  # the demo's villages wrote some, each "村名：问题"
    assert all(f". {line.strip()}" in county_text for line in problems if line.strip())
    path = unit_report.write_progress_report(tmp_path / "r.docx", text, "docx")
    body = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert f"排查登记人数{int(screened):,}人" in body and "存在问题" in body


def test_a_not_reported_figure_reads_weibao_never_zero(demo, township):
    tables, registry = _tables(demo, township)
    cons = tables.consolidated.copy()
    mine = (cons["unit_code"] == township) & (cons["indicator"] == "confirmed_new")
    cons.loc[mine, ["status", "value"]] = ["not_reported", float("nan")]
    tables = unit_report.UnitTables(
        tables.unit, tables.period, cons, tables.completeness, tables.quarantine
    )
    context = unit_report.progress_context(tables, registry, CAT, DAY)
    assert context["figures"]["confirmed_new"] == "未报"
    text = unit_report.render_progress_text(context)
    assert "新增确诊病例未报" in text and "新增确诊病例0" not in text
    assert unit_report.figure_text(0.0, "reported", "例") == "0例"  # a zero report stays 0


@pytest.mark.parametrize(
    ("period", "fmt"),
    [("2020-01-28", "xlsx"), ("2020-W05", "docx"), ("2020-01-3旬", "txt"), ("2020-01", "xlsx")],
)
def test_cli_report_writes_every_period_form(demo, tmp_path, monkeypatch, capsys, period, fmt):
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    out = tmp_path / f"r.{fmt}"
    assert main(["report", "--unit", COUNTY, "--period", period, "-o", str(out)]) == 0
    assert Path(capsys.readouterr().out.strip()) == out and out.stat().st_size > 0
    if fmt == "txt":
        assert out.read_text(encoding="utf-8").startswith("沧县疫情防控工作情况汇报")


def test_cli_report_refuses_an_unpublished_period(demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    rc = main(["report", "--unit", COUNTY, "--period", "2020-02", "-o", str(tmp_path / "x.xlsx")])
    assert rc == 2 and "没有已发布" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


# ---- the header and footer blocks, the previous period, the printed page ---------------


def test_cli_workbook_carries_the_contacts_and_the_cut_off(demo, tmp_path, monkeypatch, capsys):
    """HUIZONG_CONTACTS names the signers of each unit; the sources file's village
    deadline is a township's 统计截止时间."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "单位代码,单位负责人,统计负责人,填表人,联系电话\n"
        f"{COUNTY},张县长,李统计,王填表,0317-5551234\n",
        encoding="utf-8-sig",
    )
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    monkeypatch.setenv("HUIZONG_CONTACTS", str(contacts))
    out = tmp_path / "county.xlsx"
    assert main(["report", "--unit", COUNTY, "--period", DAY.isoformat(), "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    block = " ".join(str(c.value) for r in ws.iter_rows(max_row=3) for c in r if c.value)
    assert "制表机关：沧县" in block and "统计截止时间：2020年1月28日20:00" in block
    assert f"制表日期：{date.today().year}年" in block
    signed = ws.cell(ws.max_row, 1).value
    assert "单位负责人：张县长" in signed and "联系电话：0317-5551234" in signed
    notes = {r[0]: r[1] for r in openpyxl.load_workbook(out)["说明"].iter_rows(values_only=True)}
    assert notes["发布版本 Version 2020-01-28"].startswith("第1版，")  # the version read
    capsys.readouterr()

    sources = tmp_path / "sources.toml"
    sources.write_text('[deadlines]\nvillage = "18:00"\ntownship = "20:30"\n', encoding="utf-8")
    monkeypatch.setenv("HUIZONG_SOURCES", str(sources))
    town = "130921100"
    assert main(["report", "--unit", town, "--period", DAY.isoformat(), "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out).worksheets[0]
    block = " ".join(str(c.value) for r in ws.iter_rows(max_row=3) for c in r if c.value)
    assert "统计截止时间：2020年1月28日18:00" in block  # villages report into a township
    assert "单位负责人：__________" in ws.cell(ws.max_row, 1).value  # no entry: a line
    txt = tmp_path / "county.txt"
    assert main(["report", "--unit", COUNTY, "--period", DAY.isoformat(), "-o", str(txt)]) == 0
    assert "截止2020年1月28日20:30" in txt.read_text(encoding="utf-8")


def test_a_contacts_file_that_cannot_be_read_is_refused(demo, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "contacts.toml"
    bad.write_text("[unit.130921\nhead = 1", encoding="utf-8")
    monkeypatch.setenv("HUIZONG_HOME", str(demo.home))
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", demo.warehouse)
    monkeypatch.setenv("HUIZONG_CONTACTS", str(bad))
    out = tmp_path / "x.xlsx"
    assert main(["report", "--unit", COUNTY, "--period", DAY.isoformat(), "-o", str(out)]) == 2
    assert "联系人文件" in capsys.readouterr().err and not out.exists()


@pytest.fixture(scope="module")
def next_day(demo: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the demo warehouse with the following day published too."""
    import shutil

    home = tmp_path_factory.mktemp("var2")
    shutil.copy(Path(demo.warehouse.removeprefix("sqlite:///")), home / "warehouse.sqlite")
    settings = Settings(home=home, warehouse_url=f"sqlite:///{home / 'warehouse.sqlite'}")
    day = date(2020, 1, 29)
    inbox = home / "inbox" / day.isoformat()
    generate_demo_day(day, inbox)
    run_day(day, settings, inbox)
    return settings


def test_change_from_the_previous_day_equals_the_warehouse(next_day, tmp_path):
    registry = registry_for(next_day)
    tables = unit_report.load_unit_tables(
        next_day.warehouse, COUNTY, parse_period("2020-01-29"), registry, CAT
    )
    path = unit_report.write_unit_workbook(tmp_path / "c.xlsx", tables, registry, CAT)
    book = openpyxl.load_workbook(path)
    cons = read_table(next_day.warehouse, "consolidated")
    mine = cons[cons["unit_code"] == COUNTY].set_index(["period", "indicator"])
    seen = set()
    for group, name in zip(sheet_groups(CAT), book.sheetnames, strict=False):
        ws = book[name]
        assert name.startswith("乡镇街道·")
        before, change = _special(ws, PREVIOUS_LABEL), _special(ws, CHANGE_LABEL)
        assert "上期（2020-01-28）" in [r[1] for r in ws.iter_rows(values_only=True)]
        for ind in group.indicators:
            old, new = mine.loc[("2020-01-28", ind.code)], mine.loc[("2020-01-29", ind.code)]
            if old["status"] == "reported" and new["status"] == "reported":
                assert before[ind.code] == pytest.approx(old["value"])
                assert change[ind.code] == pytest.approx(new["value"] - old["value"])
                seen.add(ind.code)
            else:
                assert change[ind.code] is None
    assert len(seen) >= len(NUMERIC) - 2  # the demo's counties report nearly everything
    # the week before W05 was never published: its rows say so and stay blank
    week, _ = _tables(next_day, COUNTY, "2020-W05")
    assert week.previous is not None and week.previous.label == "2020-W04"
    assert not week.previous.published


def test_a_county_workbook_prints_legibly(demo, tmp_path):
    """The demo county's workbook through LibreOffice: A4 landscape pages of at most
    MAX_SHEET_COLUMNS numbers; its first page and first village page go to
    test-artifacts/ for a person to look at."""
    import os
    import shutil
    import subprocess

    if not (shutil.which("soffice") and shutil.which("pdftoppm")):
        if os.environ.get("HUIZONG_REQUIRE_OFFICE") == "1":
            pytest.fail("LibreOffice/poppler missing: make office")
        pytest.skip("needs LibreOffice and poppler: make office")
    tables, registry = _tables(demo, COUNTY)
    path = unit_report.write_unit_workbook(tmp_path / "county.xlsx", tables, registry, CAT)
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        timeout=400,
        env=env,
        capture_output=True,
    )
    pdf = tmp_path / "county.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    assert "沧县疫情防控工作日报表（2020年1月28日）" in pages[0] and "表号：汇综1表" in pages[0]
    assert all("第 " in p and " 页" in p for p in pages if p.strip())
    assert all(" 共 " not in p for p in pages)  # each sheet counts its own pages from 1
    village = next(n for n, p in enumerate(pages) if "村民委员会" in p)
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for page, stem in ((0, "county_workbook_page_1"), (village, "county_workbook_villages")):
        flags = ["-f", str(page + 1), "-l", str(page + 1), "-singlefile"]
        subprocess.run(
            ["pdftoppm", "-png", "-r", "90", *flags, str(pdf), str(artifacts / stem)],
            check=True,
            timeout=60,
        )
        assert (artifacts / f"{stem}.png").stat().st_size > 10_000


def test_a_township_that_reported_nothing_reads_weibao_everywhere(demo, tmp_path):
    """A min-aggregated stock (口罩可保障天数) and every other figure of a township none of
    whose villages reported read 未报 in the 情况汇报 and are blank in the workbook: never
    0天 / 0人."""
    comp = read_table(demo.warehouse, "completeness", DAY)
    silent = comp[(comp["level"] == 4) & (comp["reported_units"] == 0)]
    assert len(silent), "the demo day plants a township without any report"
    town = str(silent["unit_code"].iloc[0])
    tables, registry = _tables(demo, town)
    text = unit_report.render_progress_text(
        unit_report.progress_context(tables, registry, CAT, DAY)
    )
    for ind in CAT.numeric:
        assert f"{unit_report.figure_label(ind)}未报" in text, ind.code
    assert "口罩可保障天数未报" in text and "0天" not in text
    path = unit_report.write_unit_workbook(tmp_path / "t.xlsx", tables, registry, CAT)
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames:
        if _code_row(book[name]) is None:
            continue
        for code, values in _numbers(book[name]).items():
            assert all(v is None for v in values.values()), (name, code)


# ---- a week/旬/month shows the same levels as the day --------------------------------


def _by_rule(daily: pd.DataFrame, village: str, ind) -> float | None:
    """A village's period value by hand: the sum of the days it gave one (``sum``), or
    its value on the latest day it gave one (``last``); none given → blank."""
    rows = daily[daily["unit_code"] == village].sort_values("period")
    given = pd.to_numeric(rows[ind.code], errors="coerce").dropna() if ind.code in rows else []
    if not len(given):
        return None
    return float(given.sum()) if ind.across_time == "sum" else float(given.iloc[-1])


@pytest.mark.parametrize("period", ["2020-W05", "2020-01-3旬", "2020-01"])
def test_a_township_period_workbook_has_its_villages(next_day, tmp_path, period):
    """Trial defect: a township's 周报/旬报/月报 had one row (the township), no villages
    and no totals row. Its villages' values are their daily reports by each indicator's
    across_time rule; its totals row is its period_consolidated value."""
    from huizong.publish.warehouse import read_period_table

    town = "130921100"
    tables, registry = _tables(next_day, town, period)
    path = unit_report.write_unit_workbook(tmp_path / "t.xlsx", tables, registry, CAT)
    book = openpyxl.load_workbook(path)
    days = [date(2020, 1, 28), date(2020, 1, 29)]
    daily = pd.concat([read_table(next_day.warehouse, "report", d, catalogue=CAT) for d in days])
    p = parse_period(period)
    own = read_period_table(
        next_day.warehouse, "period_consolidated", p.type, p.start, units=[town]
    ).set_index("indicator")
    villages = set(
        registry.units.loc[
            (registry.units["level"] == 5) & (registry.units["parent_code"] == town), "code"
        ]
    )
    seen, totals, summed_over_two_days = set(), 0, 0
    for name in book.sheetnames:
        if _code_row(book[name]) is None:
            continue
        assert name.startswith("村社区·"), name
        labels = [str(r[1] or "") for r in book[name].iter_rows(values_only=True)]
        assert TOTALS_LABEL in labels and any(t.startswith(PREVIOUS_LABEL) for t in labels)
        for code, values in _numbers(book[name]).items():
            for ind_code, got in values.items():
                ind = CAT.indicator(ind_code)
                got = None if got in (None, "不适用") else float(got)
                if code == f"TOTAL:{town}":
                    row = own.loc[ind_code]
                    want = row["value"] if row["status"] == "reported" else None
                    assert got == (None if want is None else pytest.approx(want)), ind_code
                    totals += 1
                    continue
                seen.add(code)
                assert got == _by_rule(daily, code, ind), (code, ind_code)
                values_on = daily[daily["unit_code"] == code][ind_code].notna().sum()
                summed_over_two_days += ind.across_time == "sum" and values_on == 2
    assert seen == villages and totals == len(NUMERIC)
    assert summed_over_two_days > 0  # the sums really span both published days


def _carried_cells(book) -> dict[str, set[tuple[str, str]]]:
    """Level sheet → (unit, indicator) of its cells in the carried style (italic)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for ws in book.worksheets:
        header = _code_row(ws)
        if header is None:
            continue
        codes = [c.value for c in ws[header]]
        found[ws.title] = {
            (str(row[0].value), codes[n])
            for row in ws.iter_rows(min_row=header + 1)
            for n, cell in enumerate(row)
            if codes[n] in NUMERIC and cell.font.i
        }
    return found


def test_a_period_workbook_marks_carried_values_and_fills_its_completeness(next_day, tmp_path):
    """Trial defects: a village's stock carried from an earlier day of the week looked like
    that day's report, and 完整性 printed blank per-day columns (按时, 迟报, 名单) for a week.
    Now each carried cell is styled and explained under its table, and 完整性 shows the
    period's days and reporter-days, every cell filled."""
    from huizong.publish.warehouse import read_period_table

    town = "130921100"
    tables, registry = _tables(next_day, town, "2020-W05")
    book = openpyxl.load_workbook(
        unit_report.write_unit_workbook(tmp_path / "w.xlsx", tables, registry, CAT)
    )
    cons = tables.consolidated
    carried = cons[(cons["carried_units"] > 0) & (cons["kind"] == "village")]
    expected = set(zip(carried["unit_code"], carried["indicator"], strict=True))
    assert expected, "the demo's second day leaves some village stock blank"
    marked = _carried_cells(book)
    assert set().union(*marked.values()) == expected
    from huizong.publish.workbook import CARRIED_LEGEND

    for name, cells in marked.items():  # the legend under each sheet with a carried cell
        texts = [r[0] for r in book[name].iter_rows(values_only=True)]
        assert (CARRIED_LEGEND in texts) == bool(cells), name
    comp = book["完整性"]
    header = [c.value for c in comp[1]]
    assert {"已发布天数", "应报单位·日", "已报单位·日", "单位·日报送率"} <= set(header)
    assert "按时报送" not in header and "未报单位名单" not in header
    row = dict(zip(header, [c.value for c in comp[2]], strict=True))
    assert all(v is not None for v in row.values()), row
    p = parse_period("2020-W05")
    own = read_period_table(
        next_day.warehouse, "period_completeness", p.type, p.start, units=[town]
    ).iloc[0]
    assert (row["单位代码"], row["已发布天数"]) == (town, own["days_published"])
    assert row["已报单位·日"] == own["reporter_days_received"]
    assert row["单位·日报送率"] == pytest.approx(own["reporter_days_rate"])


def test_a_county_week_workbook_has_townships_and_villages(demo, tmp_path):
    tables, registry = _tables(demo, COUNTY, "2020-W05")
    path = unit_report.write_unit_workbook(tmp_path / "c.xlsx", tables, registry, CAT)
    levels = {n.split("·")[0] for n in openpyxl.load_workbook(path).sheetnames}
    assert {"乡镇街道", "村社区"} <= levels


def test_the_docx_report_is_a4_with_heading_styles(demo, township, tmp_path):
    """Trial defect: the .docx 情况汇报 was US Letter with the title and sections as
    plain bold runs: it must print on A4 and show its outline (navigation pane, TOC)."""
    from docx.shared import Mm

    tables, registry = _tables(demo, township)
    text = unit_report.render_progress_text(
        unit_report.progress_context(tables, registry, CAT, DAY)
    )
    path = unit_report.write_progress_report(tmp_path / "r.docx", text, "docx")
    document = docx.Document(str(path))
    for section in document.sections:
        assert abs(section.page_width - Mm(210)) < Mm(0.5)
        assert abs(section.page_height - Mm(297)) < Mm(0.5)
    styles = {p.text: p.style.name for p in document.paragraphs if p.text.strip()}
    title = text.splitlines()[0]
    assert styles[title] == "Heading 1"
    sections = [t for t, s in styles.items() if s == "Heading 2"]
    assert sections[0].startswith("一、") and any("存在问题" in t for t in sections)
    assert any("下步建议" in t for t in sections)
    assert len(sections) == len(re.findall(r"^[一二三四五六七八九十]+、", text, re.M))


def test_the_report_names_the_units_below_that_did_not_report(demo, tmp_path):
    """Trial defect: the 情况汇报 never said who did not report. A county names its silent
    townships with how many villages they lack; a township its silent villages, the
    first UNREPORTED_NAMED and “等M个”; the .docx says the same."""
    comp = read_table(demo.warehouse, "completeness", DAY)
    towns = comp[(comp["level"] == 4) & comp["unit_code"].str.startswith(COUNTY)]
    silent = towns[towns["reported_units"] == 0].sort_values("unit_code")
    assert len(silent), "the demo day plants a township without any report"
    county, registry = _tables(demo, COUNTY)
    text = unit_report.render_progress_text(
        unit_report.progress_context(county, registry, CAT, DAY)
    )
    named = "、".join(
        f"{r.unit_name}（{r.expected_units}个村全部未报）" for r in silent.itertuples()
    )
    assert f"未报单位：{named}。" in text  # few enough to name every one

    town = str(silent["unit_code"].iloc[0])
    tables, _ = _tables(demo, town)
    report = read_table(demo.warehouse, "report", DAY)
    villages = registry.units[
        (registry.units["parent_code"] == town) & (registry.units["kind"] != "department")
    ].sort_values("code")
    missing = villages[~villages["code"].isin(report["unit_code"])]
    assert len(missing) > unit_report.UNREPORTED_NAMED  # the bound is exercised
    first = "、".join(missing["name"].head(unit_report.UNREPORTED_NAMED))
    sentence = f"未报单位：{first}等{len(missing)}个。"
    town_text = unit_report.render_progress_text(
        unit_report.progress_context(tables, registry, CAT, DAY)
    )
    assert sentence in town_text
    path = unit_report.write_progress_report(tmp_path / "t.docx", town_text, "docx")
    assert sentence in "\n".join(p.text for p in docx.Document(str(path)).paragraphs)

    ok = str(towns[towns["missing_units"] == 0]["unit_code"].iloc[0])
    full, _ = _tables(demo, ok)
    assert "未报单位" not in unit_report.render_progress_text(
        unit_report.progress_context(full, registry, CAT, DAY)
    )


@pytest.mark.parametrize(
    ("period", "wording"),
    [
        ("2020-01-3旬", "本旬11天，截至1月28日已发布1天"),
        ("2020-01", "本月31天，截至1月28日已发布1天"),
    ],
)
def test_a_period_counts_all_its_days_and_those_published(demo, period, wording):
    """Trial defect: 下旬 of January read “共8天” (the days through the 28th): it has 11
    days (21–31); the sentence gives the period's days, the day it runs to, the days in."""
    tables, registry = _tables(demo, COUNTY, period)
    text = unit_report.render_progress_text(
        unit_report.progress_context(tables, registry, CAT, DAY)
    )
    assert wording in text


def _sheet_rows(ws) -> tuple[list[str], list[tuple]]:
    """(indicator codes by column, the rows below the header up to the legend)."""
    header = _code_row(ws)
    codes = [c.value for c in ws[header]]
    rows = []
    for row in ws.iter_rows(min_row=header + 1, values_only=True):
        if str(row[1] or "").startswith((PREVIOUS_LABEL, CHANGE_LABEL)):
            continue
        if not row[1]:
            break  # the note, legend and signature lines sit in merged cells of column A
        rows.append(row)
    return codes, rows


def _number(value) -> float:
    return 0.0 if value in (None, "不适用", "—") else float(value)


def test_the_city_workbook_adds_up_to_its_totals(demo):
    """Read back from the demo city's workbook: on every level sheet the listed units plus
    部门合计 (departments reporting straight to the city) give 合计 for every summed
    indicator, and each 部门 sheet has a totals row that is the sum of its departments."""
    from huizong.pipeline import workbook_day
    from huizong.publish.workbook import DEPARTMENT_TOTALS_LABEL, DEPARTMENTS_LABEL

    book = openpyxl.load_workbook(workbook_day(DAY, demo)["workbook"])
    summed = {i.code for i in CAT.numeric if i.across_units == "sum"}
    level_sheets = dep_sheets = 0
    for name in book.sheetnames:
        ws = book[name]
        if _code_row(ws) is None:
            continue
        codes, rows = _sheet_rows(ws)
        labels = [str(r[1]) for r in rows]
        if name.startswith("部门"):
            dep_sheets += 1
            assert labels[-1] == DEPARTMENT_TOTALS_LABEL, name
            listed, total = rows[:-1], rows[-1]
            assert len(listed) == len(registry_for(demo).reporters.query("kind == 'department'"))
        else:
            level_sheets += 1
            assert labels[-2:] == [DEPARTMENTS_LABEL, TOTALS_LABEL], (name, labels[-3:])
            listed, total = rows[:-1], rows[-1]
            notes = [c.value for c in ws["A"] if str(c.value or "").startswith("注：合计")]
            assert notes, name  # the sheet says what 合计 is made of
        checked = 0
        for n, code in enumerate(codes):
            if code not in summed:
                continue
            parts = sum(_number(r[n]) for r in listed)
            assert parts == pytest.approx(_number(total[n])), (name, code)
            checked += 1
        assert checked, name
    assert level_sheets and dep_sheets


def test_a_county_workbook_lists_each_missing_unit_on_its_own_row(demo, tmp_path):
    """A trial's county printed its 59 missing villages as one cell clipped at Excel's
    highest row; 未报名单 has one row per missing reporter of the warehouse, under a
    header repeated on every printed page, and 完整性 keeps only the counts."""
    tables, registry = _tables(demo, COUNTY)
    path = unit_report.write_unit_workbook(tmp_path / "county.xlsx", tables, registry, CAT)
    book = openpyxl.load_workbook(path)
    ws = book["未报名单"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["乡镇街道（部门的上级单位）", "未报单位名称", "单位代码"]
    assert ws.print_title_rows == "$1:$1"
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    missing = read_table(demo.warehouse, "missing_reporter", DAY)
    mine = missing[missing["county_code"] == COUNTY]
    assert len(mine) > 1
    assert sorted(r["单位代码"] for r in rows) == sorted(mine["unit_code"])
    names = registry.names_of(mine["township_code"])
    town_of = dict(zip(mine["unit_code"], mine["township_code"].map(names), strict=True))
    assert all(r["乡镇街道（部门的上级单位）"] == town_of[r["单位代码"]] for r in rows)
    county = next(r for r in book["完整性"].iter_rows(min_row=2, values_only=True))
    assert county[0] == COUNTY and county[5] == len(mine)  # 未报单位数
    assert "未报单位名单" not in [c.value for c in book["完整性"][1]]


def test_the_summary_and_the_totals_page_count_expected_reporters_differently_and_say_why(
    demo,
):
    """The run summary read 6099 expected reporters for 沧州市 and the totals page 6094:
    the day's reporters are villages/communities and departments; an indicator whose
    department figures are kept beside the total (catalogue ``department = "beside"``)
    expects the villages only. The summary names both parts, so 6094 is on the page."""
    from huizong.report import summarise

    registry = registry_for(demo)
    reporters = registry.reporters
    villages = int((reporters["kind"] != "department").sum())
    departments = int((reporters["kind"] == "department").sum())
    cons = read_table(demo.warehouse, "consolidated", DAY)
    root = cons[cons["unit_code"] == registry.root].set_index("indicator")["expected_units"]
    beside = next(i.code for i in CAT.numeric if i.department == "beside")
    added = next(i.code for i in CAT.numeric if i.department == "add")
    assert root[beside] == villages and root[added] == villages + departments
    text = summarise(DAY, demo)
    assert f"/{villages + departments} reporters" in text
    assert f"{villages} villages/communities + {departments} departments" in text
