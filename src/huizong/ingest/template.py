"""The workbook a reporting unit fills in, pre-filled so reading it back is unambiguous.

Headers carry both the Chinese label and the code ("排查登记人数(persons_screened)"):
clerks read the label, the reader matches the code even if the label is retyped. Unit
codes, names and the date are pre-filled as text; indicator cells carry Excel data
validation (whole numbers within the catalogue's bounds, or a not-applicable mark) so
most typos never leave the clerk's desk, and the row above the header says what blank,
0 and 不适用 mean. A hidden sheet ``_huizong`` records form, unit and kind for the reader.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.ingest.cells import MARKER_SHEET
from huizong.ingest.headers import column_labels
from huizong.registry import Registry

#: Marks the template accepts for "does not apply to us"; the reader knows them all
#: (``NOT_APPLICABLE_TOKENS``; Excel compares text without case, so N/A is also n/a).
NOT_APPLICABLE_MARKS = ("不适用", "/", "N/A", "无此项", "不涉及")

#: The three states of a count cell, written above the header (never mapped as one).
INSTRUCTIONS = (
    "填报说明：空白 = 未报；0 = 零报告（没有发生，也算已报）；不适用 或 / = 本单位不适用 | "
    "blank = not reported; 0 = a zero report (counts as reported); "
    "不适用 or / = not applicable"
)


def count_cell_rule(cell: str, low: int, high: int) -> str:
    """Excel validation formula for a count cell (relative to its range's first cell):
    a whole number between the bounds, or one of the not-applicable marks."""
    number = f"AND(ISNUMBER({cell}),{cell}=INT({cell}),{cell}>={low},{cell}<={high})"
    marks = ",".join(f'{cell}="{mark}"' for mark in NOT_APPLICABLE_MARKS)
    return f"OR({number},{marks})"


class TemplateError(ValueError):
    """The unit cannot have a template (unknown, or a county/city that does not report)."""


def template_rows(unit_code: str, registry: Registry) -> tuple[pd.Series, pd.DataFrame, str]:
    """(the unit, the rows to pre-fill, kind written in the marker) for ``unit_code``."""
    units = registry.units
    hit = units[units["code"] == unit_code]
    if hit.empty:
        raise TemplateError(f"未知的单位代码 {unit_code} / unknown unit code {unit_code}")
    unit = hit.iloc[0]
    if unit["kind"] == "department":
        return unit, hit, "department"
    if unit["level"] == 5:
        return unit, hit, "village"
    if unit["level"] == 4:
        villages = units[(units["parent_code"] == unit_code) & (units["level"] == 5)]
        if villages.empty:
            raise TemplateError(
                f"{unit_code} {unit['name']} 下没有村/社区 / has no villages or communities"
            )
        return unit, villages.sort_values("code"), "village"
    raise TemplateError(
        f"{unit_code} {unit['name']} 是{unit['kind']}级单位，不直接填报；"
        "请为村/社区、乡镇街道或部门生成模板 / "
        f"{unit['kind']} units do not report directly; "
        "make templates for villages, townships or departments"
    )


def write_template(
    path: Path, unit_code: str, day: date, catalogue: Catalogue, registry: Registry
) -> Path:
    """Write the fill-in workbook for a village, a township (one row per village) or a
    department; raise TemplateError for counties, cities and unknown codes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    unit, rows, kind = template_rows(unit_code, registry)
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = catalogue.title_zh[:31]

    meta = ["unit_code", "unit_name", "period"]
    labels = column_labels(catalogue)
    headers = [labels[c] for c in (*meta, *catalogue.codes)]
    ws.cell(row=1, column=1, value=f"{unit['name']} {catalogue.title_zh} {day.isoformat()}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.cell(row=1, column=len(meta) + 1, value=INSTRUCTIONS).alignment = Alignment(
        wrap_text=False, vertical="center"
    )
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for j, text in enumerate(headers, start=1):
        c = ws.cell(row=2, column=j, value=text)
        c.font = Font(bold=True)
        c.fill = head_fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
    first = 3
    last = first + len(rows) - 1
    for i, r in enumerate(rows.itertuples(index=False), start=first):
        for j, value in enumerate((r.code, r.name, day.isoformat()), start=1):
            c = ws.cell(row=i, column=j, value=value)
            c.number_format = "@"  # keep codes as text: Excel would round 12-digit numbers
    for j, ind in enumerate(catalogue.indicators, start=len(meta) + 1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = 14 if ind.is_numeric else 40
        if not ind.is_numeric:
            continue
        upper = ind.max if ind.max is not None else 2_000_000_000
        dv = DataValidation(
            type="custom",
            formula1=count_cell_rule(f"{letter}{first}", ind.min, upper),
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorTitle="数值无效",
            error=f"{ind.zh}应为{ind.min}到{upper}之间的整数（单位：{ind.unit}）；"
            "没有发生请填0（零报告）；本单位不适用请填“不适用”或“/”",
            promptTitle=ind.zh[:32],
            prompt=f"整数，单位：{ind.unit}；0 = 零报告（没有发生）；"
            "不适用 或 / = 不适用；空白 = 未报"[:255],
        )
        dv.add(f"{letter}{first}:{letter}{last}")
        ws.add_data_validation(dv)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 12
    ws.row_dimensions[2].height = 45
    ws.freeze_panes = ws.cell(row=first, column=len(meta) + 1)

    marker = wb.create_sheet(MARKER_SHEET)
    for key, value in (
        ("form", catalogue.form),
        ("version", str(catalogue.version)),
        ("unit_code", unit_code),
        ("kind", kind),
        ("period", day.isoformat()),
    ):
        marker.append([key, value])
    marker.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
