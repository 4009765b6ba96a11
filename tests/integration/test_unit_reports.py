"""A county's and a township's reports of the demo day, read back against the warehouse.

Every number of the workbook is compared with the published ``consolidated`` rows (and
the villages' with their ``report`` rows); the 情况汇报's figures with the same rows.
"""

from __future__ import annotations

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
from huizong.publish.workbook import TOTALS_LABEL
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


def _numbers(ws) -> dict[str, dict[str, float | None]]:
    """code → indicator → number (None for a blank cell) of a level sheet's unit rows."""
    codes = [c.value for c in ws[4]]
    out = {}
    for row in ws.iter_rows(min_row=5, values_only=True):
        if not row[0]:
            continue
        key = f"TOTAL:{row[0]}" if row[1] == TOTALS_LABEL else str(row[0])
        out[key] = {c: row[n] for n, c in enumerate(codes) if c in NUMERIC}
    return out


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
    for name in book.sheetnames:
        ws = book[name]
        if ws.cell(4, 1).value != "code":
            continue
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
    assert checked >= len(NUMERIC) * (len(villages) + 2)  # villages, own row, totals row


def test_a_week_of_one_published_day_equals_that_day(demo):
    day, _ = _tables(demo, COUNTY)
    week, _ = _tables(demo, COUNTY, "2020-W05")
    d = day.consolidated[day.consolidated["level"] <= 4].set_index(["unit_code", "indicator"])
    w = week.consolidated.set_index(["unit_code", "indicator"])
    assert sorted(w.index) == sorted(d.index)
    pd.testing.assert_series_equal(
        w.loc[d.index, "value"], d["value"], check_names=False, check_index=False
    )
    assert (w["carried_units"] == 0).all()
    comp = week.completeness.set_index("unit_code").loc[COUNTY]
    assert comp["reporter_days_expected"] == comp["expected_units"] * 2  # 27 and 28 Jan
    assert comp["reporter_days_received"] == comp["reported_units"]  # only the 28th published


def test_progress_report_figures_equal_the_warehouse(demo, township, tmp_path):
    tables, registry = _tables(demo, township)
    context = unit_report.progress_context(tables, registry, CAT, DAY)
    own = read_table(demo.warehouse, "consolidated", DAY).set_index(["unit_code", "indicator"])
    for ind in CAT.numeric:
        row = own.loc[(township, ind.code)]
        assert context["figures"][ind.code] == unit_report.figure_text(
            row["value"], row["status"], ind.unit
        )
    screened = own.loc[(township, "persons_screened"), "value"]
    text = unit_report.render_progress_text(context)
    assert f"排查登记人数{int(screened):,}人" in text
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
