"""更正说明: a unit workbook of a day with a correction lists its subtree's changes since
version 1 (or since the version the reader last had), old → new and cause, exactly the
change report's rows; a day with one version, or a reader already on the latest, has none."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from helpers.corrections import correct_planted_value
from huizong.catalogue import load_catalogue
from huizong.demo import generate_demo_day
from huizong.periods import parse_period
from huizong.pipeline import registry_for, run_day
from huizong.publish import unit_report
from huizong.publish.warehouse import read_changes
from huizong.publish.workbook import CORRECTIONS_SHEET
from huizong.settings import Settings

pytestmark = pytest.mark.e2e

DAY = date(2020, 1, 28)
CAT = load_catalogue()


def _workbook(settings: Settings, unit: str, path, since: int = 1):
    registry = registry_for(settings)
    tables = unit_report.load_unit_tables(
        settings.warehouse, unit, parse_period(DAY.isoformat()), registry, CAT, since_version=since
    )
    unit_report.write_unit_workbook(path, tables, registry, CAT, settings=settings)
    return openpyxl.load_workbook(path, read_only=True)


def test_a_corrected_day_gets_a_correction_sheet(tmp_path) -> None:
    settings = Settings(
        home=tmp_path / "var",
        inbox_root=tmp_path / "inbox",
        warehouse_url=f"sqlite:///{tmp_path / 'wh.sqlite'}",
    )
    generate_demo_day(DAY, settings.inbox_for(DAY))
    run_day(DAY, settings, trigger="nightly")
    issue = correct_planted_value(settings, DAY)
    county = str(issue["unit_code"])[:6]
    before = _workbook(settings, county, tmp_path / "v1.xlsx")
    assert CORRECTIONS_SHEET not in before.sheetnames  # one version: nothing to explain

    assert run_day(DAY, settings, trigger="correction")["publish"]["version"] == 2
    book = _workbook(settings, county, tmp_path / "v2.xlsx")
    assert CORRECTIONS_SHEET in book.sheetnames
    rows = list(book[CORRECTIONS_SHEET].iter_rows(values_only=True))
    head, body = rows[0], [r for r in rows[1:] if any(c is not None for c in r)]
    assert head[:6] == ("单位代码", "单位名称", "指标", "原值（第1版）", "新值（现版）", "增减")
    changes = read_changes(settings.warehouse, DAY, 2)
    mine = changes[changes["unit_code"].str.startswith(county)]
    label = {i.code: i.zh for i in CAT.indicators}
    expected = {
        (r.unit_code, label[r.indicator], r.old_value, r.new_value) for r in mine.itertuples()
    }
    got = {(r[0], r[2], r[3], r[4]) for r in body}
    assert got == expected and len(body) == len(mine)
    assert all(r[5] == r[4] - r[3] for r in body)
    assert all("第2版" in r[7] and "审核更正" in r[7] for r in body)

    other = next(c for c in ("130902", "130903", "130921") if c != county)
    elsewhere = _workbook(settings, other, tmp_path / "other.xlsx")
    lines = list(elsewhere[CORRECTIONS_SHEET].iter_rows(values_only=True))
    assert any("无变化" in str(c) for r in lines for c in r if c)

    current = _workbook(settings, county, tmp_path / "since2.xlsx", since=2)
    assert CORRECTIONS_SHEET not in current.sheetnames  # the reader has the latest
