"""The fill-in template: right rows per unit kind, validation, exact round trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from huizong.catalogue import load_catalogue
from huizong.ingest import read_submission
from huizong.ingest.template import TemplateError, write_template
from huizong.registry import load_registry

CAT = load_catalogue()
DAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _read(path: Path):
    return read_submission(
        path, CAT, file_id="t", file_name=path.name, received_at=pd.Timestamp(DAY, tz="UTC")
    )


def _township(registry) -> tuple[str, pd.DataFrame]:
    u = registry.units
    code = u.loc[u["level"] == 4, "code"].iloc[0]
    return code, u[(u["parent_code"] == code) & (u["level"] == 5)].sort_values("code")


def test_township_template_round_trips_exact_values(tmp_path: Path, registry) -> None:
    code, villages = _township(registry)
    path = write_template(tmp_path / "t.xlsx", code, DAY, CAT, registry)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert code not in str(ws["A1"].value)  # title names the unit, not its code
    assert DAY.isoformat() in ws["A1"].value
    # fill every indicator of every village with distinct values (texts for text columns)
    header = [c.value for c in ws[2]]
    expected: dict[tuple[int, str], object] = {}
    for i in range(len(villages)):
        for j, ind in enumerate(CAT.indicators):
            col = header.index(f"{ind.zh}({ind.code})") + 1
            value: object = (
                (i * 1000 + j * 7) % (ind.max or 10**6) if ind.is_numeric else f"第{i}行{ind.zh}"
            )
            ws.cell(row=3 + i, column=col, value=value)
            expected[(i, ind.code)] = value
    wb.save(path)
    sub = _read(path)
    rows = sub.rows
    assert rows["unit_code"].tolist() == villages["code"].tolist()
    assert rows["unit_name"].tolist() == villages["name"].tolist()
    assert (rows["period"] == DAY.isoformat()).all()
    assert rows["row_number"].tolist() == list(range(3, 3 + len(villages)))
    assert (rows["claimed_kind"] == "village").all()
    assert sub.extra_columns == [] and sub.form == CAT.form
    for (i, code_), value in expected.items():
        assert rows[code_][i] == value, (i, code_)
    assert (rows["cell_errors"] == "").all() and (rows["coercions"] == "").all()


def test_unfilled_template_reads_as_blank_not_zero(tmp_path: Path, registry) -> None:
    village = registry.units.loc[registry.units["level"] == 5].iloc[0]
    sub = _read(write_template(tmp_path / "v.xlsx", village["code"], DAY, CAT, registry))
    assert len(sub.rows) == 1
    assert sub.rows[list(CAT.codes)].isna().all(axis=None)


def test_department_template_claims_department(tmp_path: Path, registry) -> None:
    dep = registry.units.loc[registry.units["kind"] == "department"].iloc[0]
    sub = _read(write_template(tmp_path / "d.xlsx", dep["code"], DAY, CAT, registry))
    assert sub.claimed_kind == "department"
    assert sub.rows["claimed_kind"].tolist() == ["department"]
    assert sub.rows["unit_code"].tolist() == [dep["code"]]


def test_indicator_cells_carry_whole_number_validation(tmp_path: Path, registry) -> None:
    code, villages = _township(registry)
    ws = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", code, DAY, CAT, registry))
    sheet = ws.worksheets[0]
    dvs = sheet.data_validations.dataValidation
    assert len(dvs) == len(CAT.numeric)
    masks = CAT.indicator("masks_in_stock")
    dv = next(d for d in dvs if d.formula2 == str(masks.max))
    assert dv.type == "whole" and dv.formula1 == "0" and dv.showErrorMessage
    assert "整数" in dv.error
    assert str(dv.sqref).endswith(str(2 + len(villages)))
    assert sheet.freeze_panes == "D3"
    assert ws["_huizong"].sheet_state == "hidden"


@pytest.mark.parametrize("level", [2, 3])
def test_city_and_county_codes_are_refused(tmp_path: Path, registry, level: int) -> None:
    code = registry.units.loc[registry.units["level"] == level, "code"].iloc[0]
    with pytest.raises(TemplateError, match="do not report directly"):
        write_template(tmp_path / "c.xlsx", code, DAY, CAT, registry)


def test_unknown_code_is_refused(tmp_path: Path, registry) -> None:
    with pytest.raises(TemplateError, match="unknown unit code"):
        write_template(tmp_path / "u.xlsx", "999999999999", DAY, CAT, registry)
