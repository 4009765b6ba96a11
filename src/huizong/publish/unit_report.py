"""Any unit's consolidated report for any period: its workbook and its 情况汇报.

Reads only what the warehouse published (daily tables for a day, ``period_*`` for a
week/旬/month), keeps the unit's subtree, and writes the same 综合表 workbook the night
writes for the root, or the progress report from an editable Jinja2 wording template
(``HUIZONG_REPORT_TEMPLATE``, default the shipped ``templates/progress_report.txt.j2``)
as plain text or .docx. A figure not reported reads 未报, never 0.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue, Indicator
from huizong.display import grouped, local_time
from huizong.periods import PERIOD_NAMES_ZH, Period, period_of
from huizong.publish.contacts import load_contacts
from huizong.publish.workbook import Letterhead, Previous, zh_date
from huizong.registry import Registry
from huizong.settings import Settings
from huizong.warehouse import shown_issue_names

NOT_REPORTED = "未报"
NOT_APPLICABLE = "不适用"
TEMPLATE = Path(__file__).with_name("templates") / "progress_report.txt.j2"
_ORDINALS = "一二三四五六七八九十"
#: period_completeness columns → the daily completeness columns the workbook shows
_PERIOD_COMPLETENESS = {"reporters_reported": "reported_units"}


@dataclass(frozen=True)
class UnitTables:
    """A unit's subtree for one period, in the daily tables' columns, and the unit's own
    figures of the previous period (``None``: not looked up)."""

    unit: str
    period: Period
    consolidated: pd.DataFrame
    completeness: pd.DataFrame
    quarantine: pd.DataFrame
    previous: Previous | None = None
    #: The published version each day of the period is read from (``publish_version``).
    versions: list[tuple[str, str]] | None = None
    #: 更正说明: the subtree's changes since the version an agency last had (a day with
    #: more than one version; :func:`huizong.publish.change_report.change_report` rows).
    corrections: pd.DataFrame | None = None
    #: The version ``corrections`` are counted from.
    since_version: int = 1
    #: A day's ``missing_reporter`` rows of the subtree (the workbook's 未报名单); None
    #: for a week, 旬 or month (its completeness counts reporter-days, not names).
    missing: pd.DataFrame | None = None


def subtree(registry: Registry, unit: str) -> pd.DataFrame:
    """The registry rows of the unit, every unit below it, and the departments attached
    to any of them."""
    u = registry.units
    inside = registry.subtree_mask(unit)
    if not inside.any():
        raise ValueError(f"单位代码“{unit}”不在名录中 / unit {unit!r} is not in the registry")
    deps = u[(u["kind"] == "department").to_numpy() & ~inside]
    attached = member(deps["parent_code"], u.loc[inside, "code"].tolist())
    return pd.concat([u[inside], deps[attached]])


def member(values: pd.Series, codes: list[str]) -> np.ndarray:
    """``values.isin(codes)`` through a Python set: arrow-backed ``str`` columns test
    membership element by element, far slower for a city's thousands of codes."""
    wanted = set(codes)
    return np.fromiter((v in wanted for v in values.tolist()), bool, len(values))


def load_unit_tables(
    url: str,
    unit: str,
    period: Period,
    registry: Registry,
    catalogue: Catalogue,
    *,
    since_version: int = 1,
) -> UnitTables:
    """The published rows of ``unit``'s subtree for ``period``; refuses an unpublished one.

    ``since_version``: the version of the day the reader last downloaded; the changes of
    the subtree since then go to the 更正说明 sheet (a day with a later version only).

    Reads only the rows shown — the subtree down to :data:`LEVELS_BELOW` levels, by bound
    unit codes on the tables' primary keys — never the whole day: a township's workbook of
    a province-size day costs what a township's rows cost.
    """
    from huizong.publish.warehouse import read_day_range, read_table

    mine = subtree(registry, unit)
    codes = mine["code"].tolist()
    depth = int(mine.loc[mine["code"] == unit, "level"].iloc[0]) + LEVELS_BELOW
    is_department = (mine["kind"] == "department").to_numpy()
    mine = mine[is_department | (mine["level"] <= depth).to_numpy()]
    is_village = ((mine["level"] == 5) & (mine["kind"] != "department")).to_numpy()
    aggregated = mine.loc[~is_village, "code"].tolist()
    if period.type == "day":
        cons = read_table(url, "consolidated", period.start, units=aggregated)
        comp = read_table(url, "completeness", period.start, units=aggregated)
    else:
        cons = _period_table(url, "period_consolidated", period, aggregated)
        comp = _period_table(url, "period_completeness", period, aggregated)
        comp = comp.rename(columns=_PERIOD_COMPLETENESS)
        cons["period"] = cons["through"]
    if not (cons["unit_code"] == unit).any():
        raise FileNotFoundError(
            f"{unit} 在 {period.label} 没有已发布的汇总数据 / nothing published for {unit} "
            f"in {period.label}"
        )
    end = period.end if period.type == "day" else date.fromisoformat(cons["through"].iloc[0])
    quar = read_day_range(url, "quarantine", period.start, end)
    quar = shown_issue_names(url, quar[member(quar["unit_code"], codes)], period.start, end)
    villages = mine.loc[is_village, "code"].tolist()
    if villages and period.type == "day":
        report = read_table(url, "report", period.start, catalogue=catalogue, units=villages)
        cons = pd.concat([cons, village_rows(report, registry, pd.Index(villages), catalogue)])
    elif villages:
        rows = period_village_rows(url, period, end, villages, registry, catalogue)
        cons = pd.concat([cons, rows])
    return UnitTables(
        unit=unit,
        period=period,
        consolidated=cons.reset_index(drop=True),
        completeness=comp.reset_index(drop=True),
        quarantine=quar.reset_index(drop=True),
        previous=load_previous(url, unit, period),
        versions=published_versions(url, period.start, end),
        corrections=_corrections(url, period, codes, catalogue, since_version),
        since_version=since_version,
        missing=_missing(url, period, subtree(registry, unit)),
    )


def _corrections(
    url: str, period: Period, units: list[str], catalogue: Catalogue, since: int
) -> pd.DataFrame | None:
    """The net changes of ``units`` on a day since version ``since``; None when the day has
    no later version (or is a week, 旬 or month: its days' versions are listed instead)."""
    from huizong.publish.change_report import change_report, net_changes
    from huizong.publish.warehouse import read_changes_since, read_versions

    if period.type != "day":
        return None
    known = read_versions(url, period.start)
    if known.empty or int(known["version"].max()) <= since:
        return None
    rows = read_changes_since(url, period.start, since)
    if len(rows):
        rows = rows[member(rows["unit_code"], units)]
    return change_report(net_changes(rows), catalogue)


def published_versions(url: str, start: date, end: date) -> list[tuple[str, str]]:
    """(day, "第N版 time trigger run") of the current version of each day ``start``..``end``;
    a warehouse from before versioned publishing has none."""
    from huizong.publish.warehouse import read_versions

    out = []
    for n in range((end - start).days + 1):
        day = start + timedelta(n)
        versions = read_versions(url, day)
        if len(versions):
            v = versions.iloc[-1]
            at = local_time(v["published_at"])
            run = f"，运行 {v['run_id']}" if pd.notna(v["run_id"]) else ""
            text = f"第{int(v['version'])}版，{at}发布（{v['trigger']}{run}）"
            out.append((day.isoformat(), text))
    return out


def _period_table(url: str, table: str, period: Period, units: list[str]) -> pd.DataFrame:
    from huizong.publish.warehouse import read_period_table

    return read_period_table(url, table, period.type, period.start, units=units)


def previous_period(period: Period) -> Period:
    """The period just before ``period``: the day, week, 旬 or month before it."""
    return period_of(period.start - timedelta(1), period.type, week_start=period.start.weekday())


def load_previous(url: str, unit: str, period: Period) -> Previous:
    """``unit``'s own published figures of the previous period (none if not published)."""
    from huizong.publish.warehouse import read_table

    before = previous_period(period)
    if before.type == "day":
        rows = read_table(url, "consolidated", before.start, units=[unit])
    else:
        rows = _period_table(url, "period_consolidated", before, [unit])
    return Previous(label=before.label, values=rows[["indicator", "value", "status"]])


#: A workbook shows the two levels below its unit: a township its villages, a county its
#: townships and villages (their own report rows), a city its counties and townships, a
#: province its cities and counties (its thousands of townships are its cities' tables).
LEVELS_BELOW = 2


def village_rows(
    report: pd.DataFrame, registry: Registry, codes: pd.Index, catalogue: Catalogue
) -> pd.DataFrame:
    """Every village of ``codes`` as consolidated-like rows from its accepted report of
    the day: its value, 不适用 where it marked so, and blank (未报) where it gave none or
    did not report at all. One pass per indicator over whole columns."""
    u = registry.units
    villages = u[(u["level"] == 5).to_numpy() & member(u["code"], codes)].sort_values("code")
    rows = report.set_index("unit_code").reindex(villages["code"])
    inds = catalogue.indicators
    n, k = len(villages), len(inds)
    marks = "," + rows["not_applicable"].fillna("").astype("str").str.replace(" ", "") + ","
    given = np.zeros((n, k), dtype=bool)
    marked = np.zeros((n, k), dtype=bool)
    numbers = np.full((n, k), np.nan)
    texts = np.full((n, k), None, dtype=object)
    for j, ind in enumerate(inds):
        marked[:, j] = marks.str.contains(f",{ind.code},", regex=False).to_numpy(dtype=bool)
        if ind.code not in rows.columns:
            continue
        col = rows[ind.code]
        shown = col.astype("str").str.strip()
        has = (col.notna() & (shown.str.len() > 0)).to_numpy(dtype=bool)
        given[:, j] = has
        if ind.is_numeric:
            numbers[:, j] = pd.to_numeric(col, errors="coerce").to_numpy("float64", na_value=np.nan)
        else:
            texts[has, j] = col.to_numpy(dtype=object)[has]
    status = np.where(given, "reported", np.where(marked, "not_applicable", "not_reported"))
    per_unit = lambda column: np.repeat(villages[column].to_numpy(), k)  # noqa: E731
    return pd.DataFrame(
        {
            "period": report["period"].iloc[0] if len(report) else pd.NA,
            "unit_code": per_unit("code"),
            "unit_name": per_unit("name"),
            "level": 5,
            "kind": per_unit("kind"),
            "parent_code": per_unit("parent_code"),
            "indicator": np.tile(np.array([i.code for i in inds], dtype=object), n),
            "value": numbers.ravel(),
            "value_text": pd.array(texts.ravel(), dtype="str"),
            "status": status.ravel(),
            "reporting_units": given.ravel().astype("int64"),
            "expected_units": 1,
        }
    )


def _missing(url: str, period: Period, units: pd.DataFrame) -> pd.DataFrame | None:
    """A day's missing reporters among ``units`` (all of the subtree's villages and
    departments, not only the levels shown: a city's 未报名单 names its villages)."""
    from huizong.publish.warehouse import read_table

    if period.type != "day":
        return None
    reporters = ((units["level"] == 5) | (units["kind"] == "department")).to_numpy()
    return read_table(url, "missing_reporter", period.start, units=units.loc[reporters, "code"])


def period_village_rows(
    url: str,
    period: Period,
    through: date,
    villages: list[str],
    registry: Registry,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """The villages' rows of a week/旬/month: each village's published daily ``report``
    rows of the period's days through ``through``, reduced with each indicator's
    ``across_time`` rule by :func:`huizong.periods.reporter_values` — the very step the
    period tables roll up — so a village's row and its township's total cannot disagree.
    A village that carried a stock forward from an earlier day counts 1 in
    ``carried_units``."""
    from huizong.periods import reporter_values
    from huizong.publish.warehouse import read_table

    days = [d for d in period.days if d <= through]
    daily = pd.concat(
        [read_table(url, "report", d, catalogue=catalogue, units=villages) for d in days],
        ignore_index=True,
    )
    if len(daily):
        per = reporter_values(daily, catalogue, through)
        report, carried = per.rows, per.carried.set_index("unit_code")
    else:
        report, carried = daily, pd.DataFrame()
    rows = village_rows(report, registry, pd.Index(villages), catalogue)
    rows["period"] = rows["through"] = through.isoformat()
    rows["period_type"], rows["period_label"] = period.type, period.label
    rows["period_start"], rows["period_end"] = period.start.isoformat(), period.end.isoformat()
    flags = carried.stack() if len(carried.columns) else pd.Series(dtype="int64")
    at = pd.MultiIndex.from_arrays([rows["unit_code"], rows["indicator"]])
    rows["carried_units"] = flags.reindex(at).fillna(0).astype("int64").to_numpy()
    return rows


def write_unit_workbook(
    path: Path,
    tables: UnitTables,
    registry: Registry,
    catalogue: Catalogue,
    *,
    settings: Settings | None = None,
) -> Path:
    """The 综合表 workbook of ``tables.unit``: its own rows and every level below it,
    headed by the unit, its cut-off and today's date, signed by its contacts (from
    ``settings``; default: the environment's, as ``Settings.from_env`` reads them)."""
    from huizong.publish.workbook import write_workbook

    settings = settings or Settings.from_env()
    period = tables.period
    source = [("报告期 Period", f"{period.label}（{period.start} 至 {period.end}）")]
    if "through" in tables.consolidated.columns:
        source.append(("计算至 Through", str(tables.consolidated["through"].iloc[0])))
    for day, text in tables.versions or []:
        source.append((f"发布版本 Version {day}", text))
    return write_workbook(
        path,
        period.end,
        consolidated=tables.consolidated,
        completeness=tables.completeness,
        quarantine=tables.quarantine,
        catalogue=catalogue,
        registry=Registry(units=registry.units, root=tables.unit),
        period_title=period.title_zh(),
        report_name=PERIOD_NAMES_ZH[period.type],
        source=source,
        letterhead=letterhead_for(tables.unit, _through(tables), registry, settings),
        previous=tables.previous,
        corrections=tables.corrections,
        since_version=tables.since_version,
        missing=tables.missing,
    )


def letterhead_for(unit: str, through: date, registry: Registry, settings: Settings) -> Letterhead:
    """制表机关 = the unit; 统计截止时间 = its cut-off; the contacts file's signatures."""
    name = registry.names_of([unit]).get(unit, unit)
    return Letterhead(
        compiled_by=name,
        cutoff=cutoff_text(through, _level(registry, unit), settings),
        made_on=date.today(),
        contact=load_contacts(settings.contacts).get(unit),
    )


def _level(registry: Registry, unit: str) -> int:
    level = registry.level_of(unit)
    return 0 if level is None else level


def cutoff_text(through: date, level: int, settings: Settings) -> str:
    """统计截止时间 of the last day covered: the deadline of the level reporting into the
    unit (villages into a township, townships into a county or city), from the one
    deadline setting (:func:`huizong.intake.config.deadlines_of`) the receipt and the
    night's timeliness read."""
    from huizong.intake.config import deadlines_of
    from huizong.schedule import cutoff_level

    deadline = deadlines_of(settings)[cutoff_level(level)]
    return f"{zh_date(through)}{deadline:%H:%M}"


# ---- 情况汇报 -----------------------------------------------------------------------------


#: How a figure that is not a total was taken from the units below, said after it.
_NOT_A_TOTAL = {"min": "（各单位最低）", "max": "（各单位最高）", "mean": "（各单位平均）"}


def figure_label(ind: Indicator) -> str:
    """An indicator's name in the report (what the figure was taken as follows it)."""
    return ind.zh


def figure_text(value: object, status: str, unit: str, across_units: str = "sum") -> str:
    """A figure as the report writes it: ``1,234人``, ``未报`` or ``不适用`` (never a 0); a
    figure that is not a total says so after it, ``0天（各单位最低）`` or ``3级（各单位最高）``,
    so that the weakest village's 0 days never reads as the jurisdiction's total."""
    if status == "not_applicable":
        return NOT_APPLICABLE
    if status != "reported" or value is None or pd.isna(value):
        return NOT_REPORTED
    return f"{grouped(value)}{unit}{_NOT_A_TOTAL.get(across_units, '')}"


def _lines(text: object) -> list[str]:
    if text is None or pd.isna(text):
        return []
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def progress_context(
    tables: UnitTables,
    registry: Registry,
    catalogue: Catalogue,
    made_on: date,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The template's variables, every figure already written out; the cut-off is the
    workbook's (:func:`cutoff_text`)."""
    settings = settings or Settings.from_env()
    unit = tables.unit
    u = registry.units
    above = u.loc[(u["code"] == unit).to_numpy(), "parent_code"].dropna()
    parent = str(above.iloc[0]) if len(above) else None
    names = registry.names_of([unit, *([parent] if parent else [])])
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
                {
                    "code": ind.code,
                    "zh": figure_label(ind),
                    "text": figure_text(value, status, ind.unit, ind.across_units),
                }
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
    days = _period_days(comp, tables) if tables.period.type != "day" else None
    return {
        "unit_code": unit,
        "unit_name": str(names.get(unit, unit)),
        "parent_name": str(names.get(parent)) if parent is not None and parent in names else None,
        "period_label": tables.period.label,
        "period_title": tables.period.title_zh(),
        "cutoff": cutoff_text(_through(tables), _level(registry, unit), settings),
        "expected": expected,
        "reported": reported,
        "rate": NOT_REPORTED if rate is None or pd.isna(rate) else f"{float(rate):.1%}",
        "report_name": PERIOD_NAMES_ZH[tables.period.type],
        "period_days": days,
        "unreported": unreported_below(tables, registry),
        "sections": sections,
        "figures": {f["code"]: f["text"] for s in sections for f in s["figures"]},
        "problems": text_of["problems"],
        "suggestions": text_of["suggestions"],
        "made_on": zh_date(made_on),
    }


#: How many not-reporting units the 情况汇报 names before it says “等M个”.
UNREPORTED_NAMED = 10


def unreported_below(
    tables: UnitTables, registry: Registry, named: int = UNREPORTED_NAMED
) -> dict[str, object]:
    """The units one level below ``tables.unit`` that sent nothing in the period, in code
    order, as the report names them: a township or county that none of its reporters
    reported for reads “张官屯镇（35个村全部未报）”; a village that gave no report, its
    name. ``names``: the first ``named``; ``total``: how many there are."""
    u = registry.units
    below = u[(u["parent_code"] == tables.unit).to_numpy() & (u["kind"] != "department").to_numpy()]
    comp = tables.completeness.set_index("unit_code")
    cons = tables.consolidated
    heard = set(cons.loc[cons["status"] != "not_reported", "unit_code"].tolist())
    out = []
    for code, name, level in below.sort_values("code")[["code", "name", "level"]].itertuples(
        index=False
    ):
        if int(level) >= 5:
            if code not in heard:
                out.append(str(name))
        elif code in comp.index and int(comp.loc[code, "reported_units"]) == 0:
            noun = "个村" if int(level) == 4 else "个单位"
            out.append(f"{name}（{int(comp.loc[code, 'expected_units'])}{noun}全部未报）")
    return {"names": out[:named], "total": len(out)}


def _period_days(comp: pd.DataFrame, tables: UnitTables) -> dict[str, object] | None:
    """A period's days: all of them (a January 下旬 has 11), the day the figures run to,
    how many of its days were published, and the share of reporter-days received through
    that day (a week with one day published must not read as complete)."""
    if comp.empty or "reporter_days_rate" not in comp.columns:
        return None
    row = comp.iloc[0]
    rate = row["reporter_days_rate"]
    through = _through(tables)
    return {
        "days": len(tables.period.days),
        "through": f"{through.month}月{through.day}日",
        "published": int(row["days_published"]),
        "rate": NOT_REPORTED if pd.isna(rate) else f"{float(rate):.1%}",
    }


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
    """The wording template (``Settings.report_template``, i.e. ``HUIZONG_REPORT_TEMPLATE``,
    which callers pass; else the shipped one) filled in."""
    import jinja2

    path = template or TEMPLATE
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


#: A section heading of the wording template: 一、 … 十二、 at the start of a line.
_SECTION = re.compile(r"^[一二三四五六七八九十]+、")


def _write_docx(path: Path, text: str) -> None:
    """A4 portrait (agencies print on A4, python-docx defaults to US Letter); the title is
    Heading 1 and each 一、… section Heading 2, so Word's outline and TOC see them."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = docx.Document()
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(28)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    for name, font, size in (
        ("Normal", "宋体", 12),
        ("Heading 1", "黑体", 18),
        ("Heading 2", "黑体", 14),
    ):
        style = document.styles[name]
        style.font.name = font
        style.font.size = Pt(size)
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0, 0, 0)  # the default heading blue does not print
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if n == 0:
            para = document.add_heading(line.strip(), level=1)
        elif _SECTION.match(line):
            para = document.add_heading(line.strip(), level=2)
        else:
            para = document.add_paragraph(line.strip() if n == 1 else line.rstrip())
        if n < 2:  # title and period
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.save(str(path))
