"""Any unit's consolidated report for any period: its workbook and its 情况汇报.

Reads only what the warehouse published (daily tables for a day, ``period_*`` for a
week/旬/month), keeps the unit's subtree, and writes the same 综合表 workbook the night
writes for the root, or the progress report from an editable Jinja2 wording template
(``HUIZONG_REPORT_TEMPLATE``, default the shipped ``templates/progress_report.txt.j2``)
as plain text or .docx. A figure not reported reads 未报, never 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.periods import Period
from huizong.registry import Registry

NOT_REPORTED = "未报"
NOT_APPLICABLE = "不适用"
TEMPLATE = Path(__file__).with_name("templates") / "progress_report.txt.j2"
_ORDINALS = "一二三四五六七八九十"
#: period_completeness columns → the daily completeness columns the workbook shows
_PERIOD_COMPLETENESS = {"reporters_reported": "reported_units"}


@dataclass(frozen=True)
class UnitTables:
    """A unit's subtree for one period, in the daily tables' columns."""

    unit: str
    period: Period
    consolidated: pd.DataFrame
    completeness: pd.DataFrame
    quarantine: pd.DataFrame


def subtree(registry: Registry, unit: str) -> pd.Index:
    """The unit, every unit below it, and the departments attached to any of them."""
    codes = registry.subtree_codes(unit)
    if not len(codes):
        raise ValueError(f"单位代码“{unit}”不在名录中 / unit {unit!r} is not in the registry")
    u = registry.units
    deps = u.loc[(u["kind"] == "department") & u["parent_code"].isin(codes), "code"]
    return codes.union(pd.Index(deps))


def load_unit_tables(
    url: str, unit: str, period: Period, registry: Registry, catalogue: Catalogue
) -> UnitTables:
    """The published rows of ``unit``'s subtree for ``period``; refuses an unpublished one."""
    from huizong.publish.warehouse import read_day_range, read_period_table, read_table

    codes = subtree(registry, unit)
    if period.type == "day":
        cons = read_table(url, "consolidated", period.start)
        comp = read_table(url, "completeness", period.start)
    else:
        cons = read_period_table(url, "period_consolidated", period.type, period.start)
        comp = read_period_table(url, "period_completeness", period.type, period.start)
        comp = comp.rename(columns=_PERIOD_COMPLETENESS)
        for col in ("on_time_units", "late_units", "missing_list"):
            comp[col] = pd.NA
        cons["period"] = cons["through"]
    if not (cons["unit_code"] == unit).any():
        raise FileNotFoundError(
            f"{unit} 在 {period.label} 没有已发布的汇总数据 / nothing published for {unit} "
            f"in {period.label}"
        )
    end = period.end if period.type == "day" else date.fromisoformat(cons["through"].iloc[0])
    quar = read_day_range(url, "quarantine", period.start, end)
    cons = cons[cons["unit_code"].isin(codes)]
    level = int(cons.loc[cons["unit_code"] == unit, "level"].iloc[0])
    if period.type == "day" and level >= VILLAGE_ROWS_FROM_LEVEL:
        report = read_table(url, "report", period.start, catalogue=catalogue)
        cons = pd.concat([cons, village_rows(report, registry, codes, catalogue)])
    return UnitTables(
        unit=unit,
        period=period,
        consolidated=cons.reset_index(drop=True),
        completeness=comp[comp["unit_code"].isin(codes)].reset_index(drop=True),
        quarantine=quar[quar["unit_code"].isin(codes)].reset_index(drop=True),
    )


#: County and township workbooks carry their villages' own rows (a city's would be
#: thousands of rows: its counties and townships are what a city prints).
VILLAGE_ROWS_FROM_LEVEL = 3


def village_rows(
    report: pd.DataFrame, registry: Registry, codes: pd.Index, catalogue: Catalogue
) -> pd.DataFrame:
    """Every village of ``codes`` as consolidated-like rows from its accepted report of
    the day: its value, 不适用 where it marked so, and blank (未报) where it gave none or
    did not report at all."""
    u = registry.units
    villages = u[(u["level"] == 5) & u["code"].isin(codes)].sort_values("code")
    rows = report.set_index("unit_code").reindex(villages["code"])
    marks = rows["not_applicable"].fillna("").astype(str).str.split(",")
    parts = []
    for ind in catalogue.indicators:
        col = rows[ind.code] if ind.code in rows.columns else pd.Series(pd.NA, index=rows.index)
        given = col.notna() & (col.astype("str").str.strip().str.len() > 0)
        marked = marks.map(lambda m, code=ind.code: code in [c.strip() for c in m])
        status = pd.Series("not_reported", index=rows.index, dtype="str")
        status[marked & ~given] = "not_applicable"
        status[given] = "reported"
        numeric = pd.to_numeric(col, errors="coerce") if ind.is_numeric else None
        parts.append(
            pd.DataFrame(
                {
                    "period": report["period"].iloc[0] if len(report) else pd.NA,
                    "unit_code": villages["code"].to_numpy(),
                    "unit_name": villages["name"].to_numpy(),
                    "level": 5,
                    "kind": villages["kind"].to_numpy(),
                    "parent_code": villages["parent_code"].to_numpy(),
                    "indicator": ind.code,
                    "value": (numeric.astype("float64") if numeric is not None else np.nan),
                    "value_text": (col.where(given).astype("str") if not ind.is_numeric else pd.NA),
                    "status": status.to_numpy(),
                    "reporting_units": given.astype("int64").to_numpy(),
                    "expected_units": 1,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def write_unit_workbook(
    path: Path, tables: UnitTables, registry: Registry, catalogue: Catalogue
) -> Path:
    """The 综合表 workbook of ``tables.unit``: its own rows and every level below it."""
    from huizong.publish.workbook import write_workbook

    period = tables.period
    source = [("报告期 Period", f"{period.label}（{period.start} 至 {period.end}）")]
    if "through" in tables.consolidated.columns:
        source.append(("计算至 Through", str(tables.consolidated["through"].iloc[0])))
    return write_workbook(
        path,
        period.end,
        consolidated=tables.consolidated,
        completeness=tables.completeness,
        quarantine=tables.quarantine,
        catalogue=catalogue,
        registry=Registry(units=registry.units, root=tables.unit),
        period_title=period.title_zh(),
        source=source,
    )


# ---- 情况汇报 -----------------------------------------------------------------------------


def figure_text(value: object, status: str, unit: str) -> str:
    """A figure as the report writes it: ``1,234人``, ``未报`` or ``不适用`` (never a 0)."""
    if status == "not_applicable":
        return NOT_APPLICABLE
    if status != "reported" or value is None or pd.isna(value):
        return NOT_REPORTED
    number = float(value)
    shown = f"{int(number):,}" if number.is_integer() else f"{number:,.1f}"
    return f"{shown}{unit}"


def _lines(text: object) -> list[str]:
    if text is None or pd.isna(text):
        return []
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def progress_context(
    tables: UnitTables, registry: Registry, catalogue: Catalogue, made_on: date
) -> dict[str, Any]:
    """The template's variables, every figure already written out."""
    names = registry.names()
    unit = tables.unit
    own = tables.consolidated[tables.consolidated["unit_code"] == unit].set_index("indicator")
    comp = tables.completeness[tables.completeness["unit_code"] == unit]
    sections = []
    for sec in catalogue.sections:
        figures = []
        for ind in catalogue.numeric:
            if ind.section != sec.code:
                continue
            row = own.loc[ind.code] if ind.code in own.index else None
            status = "not_reported" if row is None else str(row["status"])
            value = None if row is None else row["value"]
            figures.append(
                {"code": ind.code, "zh": ind.zh, "text": figure_text(value, status, ind.unit)}
            )
        if figures:
            sections.append({"code": sec.code, "zh": sec.zh, "figures": figures})
    text_of = {
        code: _lines(own.loc[code, "value_text"]) if code in own.index else []
        for code in ("problems", "suggestions")
    }
    expected = int(comp["expected_units"].iloc[0]) if len(comp) else 0
    reported = int(comp["reported_units"].iloc[0]) if len(comp) else 0
    rate = comp["reporting_rate"].iloc[0] if len(comp) else None
    parent = registry.units.set_index("code")["parent_code"].get(unit)
    return {
        "unit_code": unit,
        "unit_name": str(names.get(unit, unit)),
        "parent_name": str(names.get(parent)) if parent is not None and parent in names else None,
        "period_label": tables.period.label,
        "period_title": tables.period.title_zh(),
        "cutoff": f"{_zh_date(_through(tables))}24:00",
        "expected": expected,
        "reported": reported,
        "rate": NOT_REPORTED if rate is None or pd.isna(rate) else f"{float(rate):.1%}",
        "sections": sections,
        "figures": {f["code"]: f["text"] for s in sections for f in s["figures"]},
        "problems": text_of["problems"],
        "suggestions": text_of["suggestions"],
        "made_on": _zh_date(made_on),
    }


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _through(tables: UnitTables) -> date:
    """The last day the figures cover: the period's end, or where a period under way stops."""
    cons = tables.consolidated
    if "through" in cons.columns and len(cons):
        return date.fromisoformat(str(cons["through"].iloc[0]))
    return tables.period.end


def _chinese_ordinal(n: int) -> str:
    if n <= 10:
        return _ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _ORDINALS[tens - 1]) + "十" + (_ORDINALS[ones - 1] if ones else "")


def render_progress_text(context: dict[str, Any], template: Path | None = None) -> str:
    """The wording template (``HUIZONG_REPORT_TEMPLATE`` or the shipped one) filled in."""
    import jinja2

    path = template or Path(os.environ.get("HUIZONG_REPORT_TEMPLATE") or TEMPLATE)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(path.parent)),
        undefined=jinja2.StrictUndefined,  # a misspelt variable fails, never prints blank
        keep_trailing_newline=True,
        autoescape=False,  # plain text and docx runs, not HTML
    )
    env.filters["chinese_ordinal"] = _chinese_ordinal
    return env.get_template(path.name).render(**context)


def write_progress_report(path: Path, text: str, fmt: str) -> Path:
    """Write the rendered report as ``txt`` (UTF-8) or ``docx`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        if fmt == "txt":
            tmp.write_text(text, encoding="utf-8")
        elif fmt == "docx":
            _write_docx(tmp, text)
        else:
            raise ValueError(f"unknown report format {fmt!r}: txt or docx")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_docx(path: Path, text: str) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    lines = text.splitlines()
    for n, line in enumerate(lines):
        para = document.add_paragraph()
        run = para.add_run(line.strip() if n < 2 else line.rstrip())
        if n < 2:  # title and period
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = n == 0
            run.font.size = Pt(18 if n == 0 else 14)
    document.save(str(path))
