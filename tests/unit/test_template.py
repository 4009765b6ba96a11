"""The fill-in template: right rows per unit kind, validation, exact round trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from huizong.catalogue import load_catalogue
from huizong.ingest import read_submission
from huizong.ingest.template import NOT_APPLICABLE_MARKS, TemplateError, write_template
from huizong.ingest.values import NOT_APPLICABLE_TOKENS
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
    dv = next(d for d in dvs if f"<={masks.max})" in d.formula1)
    assert dv.showErrorMessage and dv.allow_blank
    assert "整数" in dv.error
    assert str(dv.sqref).endswith(str(2 + len(villages)))
    assert sheet.freeze_panes == "D3"
    assert ws["_huizong"].sheet_state == "hidden"


def test_validation_accepts_not_applicable_and_states_the_three_states(
    tmp_path: Path, registry
) -> None:
    """Whole numbers from the minimum up, or a not-applicable mark; blank = not reported."""
    code, _villages = _township(registry)
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", code, DAY, CAT, registry))
    sheet = wb.worksheets[0]
    header = [c.value for c in sheet[2]]
    masks = CAT.indicator("masks_in_stock")
    letter = openpyxl.utils.get_column_letter(header.index(f"{masks.zh}({masks.code})") + 1)
    dv = next(d for d in sheet.data_validations.dataValidation if str(d.sqref).startswith(letter))
    cell = f"{letter}3"
    assert dv.type == "custom"
    assert dv.formula1 == (
        f"OR(AND(ISNUMBER({cell}),{cell}=INT({cell}),{cell}>={masks.min},"
        f"{cell}<={masks.max}),"
        + ",".join(f'{cell}="{mark}"' for mark in ("不适用", "/", "N/A", "无此项", "不涉及"))
        + ")"
    )
    for text in (dv.error, dv.prompt):
        assert "备注" not in text
    instructions = " ".join(str(c.value) for c in sheet[1] if c.value)
    for state in ("空白", "未报", "not reported", "0", "零报告", "不适用", "/", "not applicable"):
        assert state in instructions, state
    assert "不适用" in dv.error and "/" in dv.error and "空白" in dv.prompt
    assert {m.lower() for m in NOT_APPLICABLE_MARKS} <= NOT_APPLICABLE_TOKENS
    # the instructions row is not taken for the header, and a clerk's marks read back
    sheet[f"{letter}3"] = "不适用"
    sheet[f"{letter}4"] = "/"
    sheet[f"{letter}5"] = 0
    wb.save(tmp_path / "t.xlsx")
    rows = _read(tmp_path / "t.xlsx").rows
    assert rows["row_number"].tolist()[:3] == [3, 4, 5]
    assert rows["not_applicable"].tolist()[:2] == ["masks_in_stock", "masks_in_stock"]
    assert rows["masks_in_stock"].tolist()[2] == 0


@pytest.mark.parametrize("level", [2, 3])
def test_city_and_county_codes_are_refused(tmp_path: Path, registry, level: int) -> None:
    code = registry.units.loc[registry.units["level"] == level, "code"].iloc[0]
    with pytest.raises(TemplateError, match="do not report directly"):
        write_template(tmp_path / "c.xlsx", code, DAY, CAT, registry)


def test_unknown_code_is_refused(tmp_path: Path, registry) -> None:
    with pytest.raises(TemplateError, match="unknown unit code"):
        write_template(tmp_path / "u.xlsx", "999999999999", DAY, CAT, registry)
