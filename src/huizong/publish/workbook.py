"""The consolidated workbook of one reporting day for the root unit (e.g. 沧州市).

One sheet per level present (市 / 县区 / 乡镇街道 …) with one row per unit, a 部门 sheet for
departments, 完整性 (who reported, on time or late, who is missing) and 隔离区 (rows held
back, with the reason in Chinese and English). Not reported is a BLANK cell, never 0;
not applicable reads "不适用". The totals row of a level sheet is the root's consolidated
value itself, so the workbook can never disagree with the warehouse.

Written with xlsxwriter, every sheet's rows strictly in order, to a temporary file renamed
into place: in memory up to ``IN_MEMORY_CELLS`` cells (a city, county or township: no
temporary file per sheet, whose creation and removal cost a loaded disk more than the
cells), else in constant_memory mode (a province or the nation: memory stays flat).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from huizong import frames
from huizong.catalogue import Catalogue, Indicator
from huizong.publish.contacts import Contact
from huizong.registry import Registry
from huizong.registry.divisions import LEVEL_NAMES_ZH
from huizong.schedule import DEFAULT_DEADLINES, cutoff_level

NOT_APPLICABLE = "不适用"
TOTALS_LABEL = "合计/上级汇总"
DEPARTMENT_SHEET = "部门"
#: The row of the departments that report straight to a unit above the sheet's level:
#: in 合计 but in none of the sheet's rows, so the printed sheet adds up with it.
DEPARTMENTS_LABEL = "部门合计/departments"
#: The totals row of the 部门 sheet itself.
DEPARTMENT_TOTALS_LABEL = "部门合计/all departments"
#: Printed in a 部门合计 cell that adds nothing: the departments' figures of that
#: indicator are not part of 合计 (catalogue ``department = "beside"``) or it is an average.
NOT_ADDED = "—"
SUBTOTAL_NOTE = (
    "注：合计 = 上列各单位 + 部门合计（直接向上级报送的部门，明细见“部门”表）；"
    "“—” = 该指标的部门数不计入合计，或为平均值。"
    "Note: 合计 = the units listed + 部门合计 (departments reporting straight to a unit "
    "above; see the 部门 sheet); “—” = departments' figures of that indicator are not "
    "added into 合计, or it is an average."
)
DEPARTMENT_NOTE = (
    "注：部门合计为本表各部门之和（最大/最小值指标取其最大/最小；“—” = 平均值，不相加）。"
    "Note: 部门合计 adds the departments above (max/min indicators take the max/min; "
    "“—” = an average, not added)."
)
COMPLETENESS_SHEET = "完整性"
#: One row per reporter that did not report (the 完整性 sheet keeps the counts): a list
#: in one cell printed as a wall of text clipped at Excel's highest row.
MISSING_SHEET = "未报名单"
#: The one line of a 未报名单 sheet without rows.
NO_MISSING = "无未报单位 / every unit reported"
QUARANTINE_SHEET = "隔离区"
CORRECTIONS_SHEET = "更正说明"
ISSUES_SHEET = "问题与建议"
NOTES_SHEET = "说明"
#: The one line of a 隔离区 sheet without rows (a header-only page reads as a page lost).
NO_QUARANTINE = "无隔离记录 / no quarantined rows"
LEGEND = (
    "图例：空白 = 未报；0 = 零报告；不适用 = 不适用。"
    "Legend: blank = not reported; 0 = zero report; 不适用 = not applicable."
)
#: Under a period sheet whose village or department cells carry a stock forward.
CARRIED_LEGEND = (
    "斜体浅蓝底 = 结转值：该单位期末一日未报，沿用其期内最后一次报告值。"
    "Italic on light blue = carried: the unit's last value reported earlier in the period."
)
#: The units that report themselves: their own cells can be carried values.
REPORTER_KINDS = ("village", "department")
#: Rows under a level sheet's totals row: the previous period and the change from it.
PREVIOUS_LABEL = "上期"
CHANGE_LABEL = "较上期增减"
#: Numeric columns on one printed sheet: legible on A4 landscape, one page wide.
MAX_SHEET_COLUMNS = 14
#: The footer's page number: the sheet's name and its own page, from 1 on each sheet
#: (``set_start_page``). No 共 N 页: LibreOffice counts N over the whole workbook, and a
#: one-page sheet read 第 1 页 共 9 页.
PAGE_NUMBER = "&A  第 &P 页"
ACROSS_TIME_ZH = {"sum": "期内各日相加（流量）", "last": "期内最后一次报告值（存量、累计）"}
ACROSS_UNITS_ZH = {
    "sum": "下级相加",
    "max": "取下级最大值",
    "min": "取下级最小值",
    "mean": "下级平均（按报告单位加权）",
    "text": "逐条汇集并注明单位",
}
#: Excel's limit for one cell's text.
_MAX_CELL_TEXT = 32_767
_TRUNCATED = "…（已截断，完整内容见数据库）"
_META_HEADERS = ["单位代码", "单位名称", "上级单位"]
_HEADER_ROWS = 6  # title, 2 header-block rows, sections, Chinese labels, codes
_NA = object()  # marker for "not applicable" cells in the display matrix
#: Above this many cells (units × columns) a workbook streams each sheet through a
#: temporary file (constant_memory); below, xlsxwriter holds the cells in memory.
IN_MEMORY_CELLS = 300_000


@dataclass(frozen=True)
class _Formats:
    title: Format
    section: Format
    header: Format
    code: Format
    text: Format
    wrap: Format
    count: Format
    mean: Format
    not_applicable: Format
    totals_label: Format
    totals_count: Format
    totals_mean: Format
    totals_wrap: Format
    rate: Format
    cell: Format
    block: Format
    block_right: Format
    note: Format
    note_wrap: Format
    signature: Format
    change_count: Format
    change_mean: Format
    carried_count: Format
    carried_mean: Format


def _formats(wb: xlsxwriter.Workbook) -> _Formats:
    base = {"font_name": "宋体", "font_size": 10, "valign": "vcenter"}
    ruled = {**base, "border": 1}
    head = {**base, "bold": True, "border": 1, "align": "center", "text_wrap": True}
    tot = {**base, "bold": True, "border": 1, "top": 2, "bg_color": "#FFF2CC"}
    carried = {**ruled, "italic": True, "bg_color": "#BDD7EE"}
    return _Formats(
        title=wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"}),
        section=wb.add_format({**head, "bg_color": "#D9E1F2"}),
        header=wb.add_format({**head, "bg_color": "#EDEDED"}),
        code=wb.add_format({**base, "font_color": "#595959", "align": "center", "border": 1}),
        text=wb.add_format(base),
        wrap=wb.add_format({**ruled, "text_wrap": True, "valign": "top"}),
        count=wb.add_format({**ruled, "num_format": "#,##0"}),
        mean=wb.add_format({**ruled, "num_format": "#,##0.0"}),
        not_applicable=wb.add_format({**ruled, "align": "center", "font_color": "#808080"}),
        totals_label=wb.add_format(tot),
        totals_count=wb.add_format({**tot, "num_format": "#,##0"}),
        totals_mean=wb.add_format({**tot, "num_format": "#,##0.0"}),
        totals_wrap=wb.add_format({**tot, "text_wrap": True, "valign": "top"}),
        rate=wb.add_format({**base, "num_format": "0.0%"}),
        cell=wb.add_format(ruled),
        block=wb.add_format({**base, "font_size": 10}),
        block_right=wb.add_format({**base, "font_size": 10, "align": "right"}),
        note=wb.add_format({**base, "font_size": 9, "font_color": "#404040"}),
        note_wrap=wb.add_format(
            {**base, "font_size": 9, "font_color": "#404040", "text_wrap": True, "valign": "top"}
        ),
        signature=wb.add_format({**base, "font_size": 11}),
        change_count=wb.add_format({**ruled, "num_format": "+#,##0;-#,##0;0"}),
        change_mean=wb.add_format({**ruled, "num_format": "+#,##0.0;-#,##0.0;0"}),
        carried_count=wb.add_format({**carried, "num_format": "#,##0"}),
        carried_mean=wb.add_format({**carried, "num_format": "#,##0.0"}),
    )


def ordered_indicators(catalogue: Catalogue) -> list[Indicator]:
    """Indicators grouped by section, sections in catalogue order."""
    order = {s.code: n for n, s in enumerate(catalogue.sections)}
    return sorted(catalogue.indicators, key=lambda i: order[i.section])  # stable


def header_label(ind: Indicator) -> str:
    return f"{ind.zh}（{ind.unit}）" if ind.unit else ind.zh


def display_matrix(consolidated: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """unit_code × indicator: number, text, NaN (blank: not reported) or the 不适用 marker."""
    cons = consolidated
    codes = [i.code for i in indicators]
    shown = cons["value"].astype("float64").astype(object)
    text_codes = {i.code for i in indicators if not i.is_numeric}
    is_text = cons["indicator"].isin(text_codes).to_numpy()
    shown[is_text] = cons.loc[is_text, "value_text"].astype(object)
    shown[(cons["status"] == "not_reported").to_numpy()] = np.nan
    shown[(cons["status"] == "not_applicable").to_numpy()] = _NA
    wide = (
        pd.DataFrame({"unit_code": cons["unit_code"], "indicator": cons["indicator"], "v": shown})
        .drop_duplicates(["unit_code", "indicator"], keep="last")
        .pivot(index="unit_code", columns="indicator", values="v")
    )
    return wide.reindex(columns=codes)


def carried_cells(consolidated: pd.DataFrame) -> dict[str, frozenset[str]]:
    """unit_code → the indicators whose value the unit (a village or department) carried
    from an earlier day of the period (``carried_units``); empty for a day."""
    if "carried_units" not in consolidated.columns:
        return {}
    cons = consolidated
    mine = (cons["carried_units"].fillna(0) > 0) & (cons["status"] == "reported")
    mine &= cons["kind"].isin(REPORTER_KINDS)
    found = cons.loc[mine.to_numpy(), ["unit_code", "indicator"]]
    return {
        str(code): frozenset(group.tolist())
        for code, group in found.groupby("unit_code")["indicator"]
    }


def aggregate_rows(
    wide: pd.DataFrame, codes: list[str], catalogue: Catalogue, *, adding_only: bool
) -> list[object]:
    """Per column of ``wide``: the units ``codes`` aggregated as their parent would (sum,
    max or min over the numbers; blank when none reported, 不适用 when all are; NOT_ADDED
    for averaged and text indicators). ``adding_only``: NOT_ADDED too for indicators
    whose department values do not add to the geographic total (they are not in 合计)."""
    by_code = {i.code: i for i in catalogue.indicators}
    part = wide.reindex(index=codes)
    out: list[object] = []
    for col in wide.columns:
        ind = by_code.get(col)
        how = ind.across_units if ind is not None and ind.is_numeric else None
        if how not in ("sum", "max", "min") or (adding_only and ind.department != "add"):
            out.append(NOT_ADDED)
            continue
        cells = part[col].tolist()
        values = [v for v in cells if isinstance(v, (int, float)) and v == v]
        if not values:
            out.append(_NA if cells and all(v is _NA for v in cells) else None)
            continue
        out.append(
            float(sum(values) if how == "sum" else max(values) if how == "max" else min(values))
        )
    return out


def _clean(value: object) -> object:
    """NaN/None/NA → None (blank); long text truncated to what Excel can hold."""
    if value is _NA:
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str) and len(value) > _MAX_CELL_TEXT:
        return value[: _MAX_CELL_TEXT - len(_TRUNCATED)] + _TRUNCATED
    return value


def _write_values(
    ws: Worksheet,
    row: int,
    values: list[object],
    indicators: list[Indicator],
    fmt: _Formats,
    totals: bool = False,
    change: bool = False,
) -> None:
    for n, (value, ind) in enumerate(zip(values, indicators, strict=True)):
        col = len(_META_HEADERS) + n
        value = _clean(value)
        if value is None:  # not reported: an empty cell (ruled, no value)
            ws.write_blank(row, col, None, fmt.totals_label if totals else fmt.cell)
            continue
        if value is _NA:
            ws.write_string(row, col, NOT_APPLICABLE, fmt.not_applicable)
        elif value is NOT_ADDED:
            ws.write_string(row, col, NOT_ADDED, fmt.not_applicable)
        elif not ind.is_numeric:
            ws.write_string(row, col, str(value), fmt.totals_wrap if totals else fmt.wrap)
        else:
            if totals and not change:
                style = fmt.totals_mean if ind.across_units == "mean" else fmt.totals_count
            else:
                style = number_format(ind, fmt, change=change)
            ws.write_number(row, col, float(value), style)


@dataclass(frozen=True)
class SheetGroup:
    """The numeric indicators printed on one sheet (whole sections, ≤ MAX_SHEET_COLUMNS)."""

    number: int  # the 表号's number: the same table at every level
    name: str  # its sections, e.g. 隔离与病例、卡口值守
    indicators: list[Indicator]

    @property
    def unit(self) -> str | None:
        """The one unit of measure of every column, if there is one (计量单位)."""
        units = {i.unit for i in self.indicators}
        return units.pop() if len(units) == 1 else None


def sheet_groups(catalogue: Catalogue, max_columns: int = MAX_SHEET_COLUMNS) -> list[SheetGroup]:
    """Sections in catalogue order, packed into sheets of at most ``max_columns`` numbers
    (a section wider than that is cut); text indicators go to 问题与建议 only."""
    groups: list[tuple[list[str], list[Indicator]]] = []
    for sec in catalogue.sections:
        inds = [i for i in catalogue.numeric if i.section == sec.code]
        for k in range(0, len(inds), max_columns):
            chunk = inds[k : k + max_columns]
            if groups and len(groups[-1][1]) + len(chunk) <= max_columns:
                names, members = groups[-1]
                if sec.zh not in names:
                    names.append(sec.zh)
                members.extend(chunk)
            else:
                groups.append(([sec.zh], list(chunk)))
    return [SheetGroup(n, "、".join(names), inds) for n, (names, inds) in enumerate(groups, 1)]


@dataclass(frozen=True)
class Letterhead:
    """The header and footer blocks of a 综合表."""

    compiled_by: str  # 制表机关 / 综合机关名称: the consolidating unit
    cutoff: str  # 统计截止时间, as printed (e.g. 2020年1月28日18:00)
    made_on: date  # 制表日期
    contact: Contact | None = None  # the signature block's names (None: lines to sign)
    table_prefix: str = "汇综"  # 表号 = prefix + the sheet group's number + 表


@dataclass(frozen=True)
class Previous:
    """The consolidating unit's figures of the previous period (较上期增减)."""

    label: str  # e.g. 2020-01-27
    values: pd.DataFrame  # indicator, value, status; no rows: that period was not published

    @property
    def published(self) -> bool:
        return len(self.values) > 0


def zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def signature_line(contact: Contact | None) -> str:
    """单位负责人 … 报出日期, the names filled in where the contacts file gives them."""
    c = contact or Contact()
    blank = "__________"
    parts = [
        ("单位负责人", c.head),
        ("统计负责人", c.statistician),
        ("填表人", c.preparer),
        ("联系电话", c.phone),
    ]
    shown = [f"{label}：{value or blank}" for label, value in parts]
    return "    ".join([*shown, "报出日期：______年____月____日"])


def _changes(
    totals: list[object], previous: Previous, indicators: list[Indicator]
) -> tuple[list[object], list[object]]:
    """The previous period's values and this period's change, blank where either is not a
    reported number (a period not published is blank, never 0)."""
    prev = previous.values.set_index("indicator") if previous.published else None
    before: list[object] = []
    change: list[object] = []
    for value, ind in zip(totals, indicators, strict=True):
        old: object = None
        if prev is not None and ind.code in prev.index:
            row = prev.loc[ind.code]
            if row["status"] == "reported" and pd.notna(row["value"]):
                old = float(row["value"])
            elif row["status"] == "not_applicable":
                old = _NA
        before.append(old)
        now = _clean(value)
        both = isinstance(old, float) and isinstance(now, (int, float))
        change.append(float(now) - old if both else None)  # type: ignore[operator]
    return before, change


@dataclass(frozen=True)
class _UnitRows:
    """One level's unit rows, converted once for all of the level's split sheets: the
    unit columns as strings and each numeric indicator's cells as float, None (blank)
    or the 不适用 marker, so the write loop does no per-cell cleaning."""

    meta: list[tuple[str, str, str]]  # code, name, parent's name ("" where none)
    cells: dict[str, list[object]]  # indicator code → one cell per unit
    position: dict[str, int]  # indicator code → its column in the display matrix
    name_width: float  # the 单位名称 column's width
    carried: dict[int, frozenset[str]]  # row number (from 0) → its carried indicators


def _unit_rows(
    units: pd.DataFrame,
    wide: pd.DataFrame,
    indicators: list[Indicator],
    carried: dict[str, frozenset[str]],
) -> _UnitRows:
    codes = [i.code for i in indicators if i.is_numeric]
    matrix = wide.reindex(index=units["code"], columns=codes).to_numpy(dtype=object)
    blank = pd.isna(matrix)
    marked = matrix == _NA
    by_column = np.where(blank | marked, np.nan, matrix).astype("float64").T.tolist()
    cells: dict[str, list[object]] = {}
    for n, code in enumerate(codes):
        col: list[object] = by_column[n]
        for k in np.flatnonzero(blank[:, n]).tolist():
            col[k] = None
        for k in np.flatnonzero(marked[:, n]).tolist():
            col[k] = _NA
        cells[code] = col
    parents = units["parent_name"].astype(object)
    meta = list(
        zip(
            units["code"].astype(str).tolist(),
            units["name"].astype(str).tolist(),
            parents.where(parents.notna(), "").astype(str).tolist(),
            strict=True,
        )
    )
    width = max(10, min(24, int(units["name"].str.len().max() or 0) * 2 + 1))
    position = {c: n for n, c in enumerate(wide.columns)}
    marks = {n: carried[c] for n, (c, _, _) in enumerate(meta) if c in carried}
    return _UnitRows(meta=meta, cells=cells, position=position, name_width=width, carried=marks)


def _write_unit_rows(
    ws: Worksheet, rows: _UnitRows, indicators: list[Indicator], fmt: _Formats
) -> int:
    """A row per unit from ``_HEADER_ROWS`` on (what ``_write_values`` writes, without its
    per-cell checks); a carried value in its own style. Returns the row after the last."""
    first = len(_META_HEADERS)
    means = [i.across_units == "mean" for i in indicators]
    plain = [number_format(i, fmt) for i in indicators]
    columns = [rows.cells[i.code] for i in indicators]
    cell, not_applicable = fmt.cell, fmt.not_applicable
    write_string, write_number, write_blank = ws.write_string, ws.write_number, ws.write_blank
    row = _HEADER_ROWS
    for n, ((code, uname, parent), values) in enumerate(
        zip(rows.meta, zip(*columns, strict=True), strict=True)
    ):
        write_string(row, 0, code, cell)
        write_string(row, 1, uname, cell)
        write_string(row, 2, parent, cell)
        styles = plain
        if n in rows.carried:  # rare, and only in a period's workbook
            marks = rows.carried[n]
            styles = [
                (fmt.carried_mean if m else fmt.carried_count) if i.code in marks else s
                for i, m, s in zip(indicators, means, plain, strict=True)
            ]
        for col, (value, style) in enumerate(zip(values, styles, strict=True), start=first):
            if value is None:  # not reported: an empty cell (ruled, no value)
                write_blank(row, col, None, cell)
            elif value is _NA:
                write_string(row, col, NOT_APPLICABLE, not_applicable)
            else:
                write_number(row, col, value, style)
        row += 1
    return row


def _level_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    title: str,
    rows: _UnitRows,
    totals: tuple[str, str, list[object]] | None,  # root code, its parent's name, values
    subtotal: tuple[str, list[object], str] | None,  # label, values, note: before the totals
    group: SheetGroup,
    catalogue: Catalogue,
    head: Letterhead,
    previous: Previous | None,
    fmt: _Formats,
) -> None:
    """One level × one sheet group: header block, headers, a row per unit, totals, the
    previous period and the change, the legend and the signature block."""
    indicators = group.indicators
    ws = wb.add_worksheet(name)
    ncols = len(_META_HEADERS) + len(indicators)
    table_no = f"{head.table_prefix}{group.number}表"
    _page_setup(ws, title, _HEADER_ROWS - 3, _HEADER_ROWS - 2, f"{head.compiled_by}  {table_no}")
    ws.set_column(0, 0, 13)
    ws.set_column(1, 1, rows.name_width)
    ws.set_column(2, 2, 11)
    ws.set_column(len(_META_HEADERS), ncols - 1, 10.5)
    mid = ncols // 2
    # rows 0-2: title and the header block
    ws.set_row(0, 22)
    ws.merge_range(0, 0, 0, ncols - 1, title, fmt.title)
    unit_text = group.unit or "见各栏"
    ws.merge_range(1, 0, 1, mid - 1, f"制表机关：{head.compiled_by}", fmt.block)
    ws.merge_range(1, mid, 1, ncols - 1, f"表号：{table_no}", fmt.block_right)
    ws.merge_range(2, 0, 2, mid - 1, f"统计截止时间：{head.cutoff}", fmt.block)
    made = f"制表日期：{zh_date(head.made_on)}    计量单位：{unit_text}"
    ws.merge_range(2, mid, 2, ncols - 1, made, fmt.block_right)
    # row 3: sections, merged over their indicators
    sec_row, label_row, code_row = _HEADER_ROWS - 3, _HEADER_ROWS - 2, _HEADER_ROWS - 1
    for col in range(len(_META_HEADERS)):
        ws.write_string(sec_row, col, "", fmt.section)
    start = len(_META_HEADERS)
    for n in range(len(indicators) + 1):
        if n == len(indicators) or (n > 0 and indicators[n].section != indicators[n - 1].section):
            first = start
            last = len(_META_HEADERS) + n - 1
            label = catalogue.section(indicators[n - 1].section).zh
            if last > first:
                ws.merge_range(sec_row, first, sec_row, last, label, fmt.section)
            else:
                ws.write_string(sec_row, first, label, fmt.section)
            start = last + 1
    # row 4: Chinese labels (the unit in each, unless one unit is the sheet's);
    # row 5: indicator codes, a machine row kept but hidden
    ws.set_row(label_row, 40)
    ws.write_row(label_row, 0, _META_HEADERS, fmt.header)
    labels = [i.zh if group.unit or not i.unit else f"{i.zh}\n（{i.unit}）" for i in indicators]
    ws.write_row(label_row, len(_META_HEADERS), labels, fmt.header)
    ws.set_row(code_row, None, None, {"hidden": True})
    ws.write_row(code_row, 0, ["code", "name", "parent"], fmt.code)
    ws.write_row(code_row, len(_META_HEADERS), [i.code for i in indicators], fmt.code)

    row = _write_unit_rows(ws, rows, indicators, fmt)
    last_data = row - 1
    if subtotal is not None:
        label, values, _ = subtotal
        ws.write_string(row, 0, "", fmt.totals_label)
        ws.merge_range(row, 1, row, 2, label, fmt.totals_label)
        _write_values(
            ws,
            row,
            [values[rows.position[i.code]] for i in indicators],
            indicators,
            fmt,
            totals=True,
        )
        row += 1
    if totals is not None:
        code, parent, values = totals
        mine = [values[rows.position[i.code]] for i in indicators]
        ws.write_string(row, 0, code, fmt.totals_label)
        ws.write_string(row, 1, TOTALS_LABEL, fmt.totals_label)
        ws.write_string(row, 2, parent, fmt.totals_label)
        _write_values(ws, row, mine, indicators, fmt, totals=True)
        if previous is not None:
            before, change = _changes(mine, previous, indicators)
            shown = previous.label if previous.published else f"{previous.label} 未发布"
            below = ((f"{PREVIOUS_LABEL}（{shown}）", before, False), (CHANGE_LABEL, change, True))
            for label, vals, signed in below:
                row += 1
                ws.write_string(row, 0, code, fmt.cell)
                ws.merge_range(row, 1, row, 2, label, fmt.cell)
                _write_values(ws, row, vals, indicators, fmt, change=signed)
        row += 1
    ws.freeze_panes(_HEADER_ROWS, 2)
    # the filter covers the unit rows only: the totals row below stays put
    ws.autofilter(label_row, 0, max(last_data, label_row), ncols - 1)
    # below the table: the legend (and what a carried value looks like), the signatures
    row += 1
    if subtotal is not None:  # what 合计 is made of, wrapped over the table's width
        width = 13 + rows.name_width + 11 + 10.5 * len(indicators)
        ws.set_row(row, wrapped_height(subtotal[2], width * 1.1))
        ws.merge_range(row, 0, row, ncols - 1, subtotal[2], fmt.note_wrap)
        row += 1
    ws.merge_range(row, 0, row, ncols - 1, LEGEND, fmt.note)
    codes = {i.code for i in indicators}
    if any(marks & codes for marks in rows.carried.values()):
        row += 1
        ws.merge_range(row, 0, row, ncols - 1, CARRIED_LEGEND, fmt.note)
    ws.set_row(row + 1, 24)
    ws.merge_range(row + 1, 0, row + 1, ncols - 1, signature_line(head.contact), fmt.signature)


def _page_setup(
    ws: Worksheet, title: str, repeat_from: int | None, repeat_to: int, footer_left: str
) -> None:
    """Print as agencies do: A4 landscape, one page wide, the header rows on every page,
    the title in the page header, the compiling unit, the sheet and its 第 N 页 in the
    footer: each sheet's pages are numbered from 1, never across the whole workbook."""
    ws.set_paper(9)  # A4: at most 14 numeric columns per sheet stay legible one page wide
    ws.set_landscape()
    ws.set_start_page(1)
    ws.fit_to_pages(1, 0)
    if repeat_from is not None:
        ws.repeat_rows(repeat_from, repeat_to)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(f"&C&12{_header_text(title)}", {"margin": 0.3})
    ws.set_footer(f"&L&9{_header_text(footer_left)}&R&9{PAGE_NUMBER}", {"margin": 0.3})


def _header_text(text: str) -> str:
    """Excel header text: ``&`` doubled, cut to stay well inside the 255-character limit."""
    return text.replace("&", "&&")[:120]


def _notes_sheet(
    wb: xlsxwriter.Workbook,
    indicators: list[Indicator],
    catalogue: Catalogue,
    source: list[tuple[str, str]],
    sheets: list[tuple[str, str]],
    title: str,
    footer: str,
    fmt: _Formats,
) -> None:
    """说明: what each sheet holds, how each indicator aggregates, completeness, the source."""
    ws = wb.add_worksheet(NOTES_SHEET)
    _page_setup(ws, title, None, 0, footer)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 3, 30)
    rows: list[list[str]] = [
        ["图例 Legend", LEGEND],
        [
            "各表 Sheets",
            "“层级·栏目”表：该层级每个单位一行，按栏目分表（每表不超过"
            f"{MAX_SHEET_COLUMNS}栏，便于打印），末行合计为本级汇总值，其下为上期值与较上期增减；"
            + ("部门：部门报表；" if any(n.startswith(DEPARTMENT_SHEET) for n, _ in sheets) else "")
            + "问题与建议：每个报告单位一行；完整性：应报、已报、未报单位；"
            "隔离区：未通过校验的行及原因",
        ],
        *[[f"  {name}", about] for name, about in sheets],
        [
            "完整性 Completeness",
            "报送率 = 已报单位数 / 应报单位数（不超过100%）；周、旬、月按“单位·日”计："
            "应报 = 应报单位数 × 天数，已报 = 各日已报单位数之和（未发布的日期计为未报）",
        ],
        [
            "存量结转 Carried",
            "存量与累计指标取期内最后一次报告值；期末一日未报的单位沿用其期内最后一次报告值，"
            "并计入“结转单位数”；村、部门的结转值以斜体浅蓝底标出",
        ],
    ]
    rows += [[k, v] for k, v in source]
    r = 0
    for label, text_ in rows:
        ws.write_string(r, 0, label, fmt.header)
        ws.merge_range(r, 1, r, 3, text_, fmt.wrap)  # B:D, 82 characters wide
        ws.set_row(r, max(wrapped_height(label, 26), wrapped_height(text_, 22 + 30 + 30)))
        r += 1
    r += 1
    ws.write_row(
        r,
        0,
        ["指标 Indicator", "代码 Code", "跨单位汇总 Across units", "跨时间汇总 Across time"],
        fmt.header,
    )
    for ind in indicators:
        r += 1
        ws.write_row(
            r,
            0,
            [
                header_label(ind),
                ind.code,
                ACROSS_UNITS_ZH.get(ind.across_units, ind.across_units),
                ACROSS_TIME_ZH.get(ind.across_time, ind.across_time),
            ],
            fmt.text,
        )


def _issues_sheet(
    wb: xlsxwriter.Workbook,
    units: pd.DataFrame,
    wide: pd.DataFrame,
    catalogue: Catalogue,
    title: str,
    footer: str,
    fmt: _Formats,
) -> None:
    """问题与建议: one row per unit that wrote any text (never one giant cell)."""
    ws = wb.add_worksheet(ISSUES_SHEET)
    texts = [i for i in catalogue.indicators if not i.is_numeric]
    ws.set_column(0, 0, 13)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 1 + len(texts), 56)
    _page_setup(ws, title, 0, 0, footer)
    ws.write_row(0, 0, ["单位代码", "单位名称", *[i.zh for i in texts]], fmt.header)
    r = 1
    matrix = wide.reindex(index=units["code"], columns=[i.code for i in texts])
    rows = matrix.to_numpy(dtype=object).tolist()
    meta = units[["code", "name"]].itertuples(index=False)
    for (code, name), raw in zip(meta, rows, strict=True):
        values = [_clean(v) for v in raw]
        if all(v is None or v is _NA for v in values):
            continue
        ws.write_string(r, 0, str(code), fmt.cell)
        ws.write_string(r, 1, str(name), fmt.cell)
        for c, v in enumerate(values, start=2):
            ws.write_string(r, c, "" if v is None or v is _NA else str(v), fmt.wrap)
        r += 1


def _table_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    frame: pd.DataFrame,
    columns: list[tuple[str, str, float, Format]],
    freeze_cols: int,
    title: str,
    footer: str,
    fmt: _Formats,
    empty: str | None = None,
    row_formats: dict[str, list[Format]] | None = None,
) -> None:
    """A plain table: one header row, then rows; columns = (field, header, width, format).
    ``empty``: the line written across the page under the headers when there is no row.
    ``row_formats``: field → one format per row, for a column whose rows are different
    indicators (a count, a rate to one decimal)."""
    ws = wb.add_worksheet(name)
    _page_setup(ws, title, 0, 0, footer)
    for n, (_, _, width, _) in enumerate(columns):
        ws.set_column(n, n, width)
    ws.set_row(0, 30)
    ws.write_row(0, 0, [h for _, h, _, _ in columns], fmt.header)
    table = frame.reindex(columns=[f for f, _, _, _ in columns])
    cells = [_table_column(table[f]) for f, _, _, _ in columns]
    formats = [f for _, _, _, f in columns]
    per_row = {
        c: (row_formats or {})[f]
        for c, (f, _, _, _) in enumerate(columns)
        if f in (row_formats or {})
    }
    write_string, write_number = ws.write_string, ws.write_number
    wrapped = [c for c, f in enumerate(formats) if f is fmt.wrap]
    for r, values in enumerate(zip(*cells, strict=True), start=1):
        for c, value in enumerate(values):
            if value is None:
                continue
            if type(value) is float:
                write_number(r, c, value, per_row[c][r - 1] if c in per_row else formats[c])
            else:
                write_string(r, c, value, formats[c])
        texts = [(values[c], columns[c][2]) for c in wrapped if isinstance(values[c], str)]
        if texts:  # a long list wraps inside its own row, never over the next ones
            ws.set_row(r, max(wrapped_height(t, w) for t, w in texts))
    ws.freeze_panes(1, freeze_cols)
    if empty is not None and table.empty:
        ws.set_row(1, 30)
        ws.merge_range(1, 0, 1, len(columns) - 1, empty, fmt.title)  # plain to see
    else:
        ws.autofilter(0, 0, max(len(table), 1), len(columns) - 1)


#: Points per printed line of 宋体 at the sheets' size, and Excel's highest row.
_LINE_POINTS, _MAX_ROW_POINTS = 14.5, 409.0


def wrapped_height(text: str, width: float) -> float:
    """The row height (points) that shows ``text`` wrapped in a column ``width`` characters
    wide: a CJK character takes two. Set explicitly because LibreOffice and Excel draw a
    wrapped cell over the rows below when the row keeps its default height."""
    lines = 0
    for part in text.split("\n"):
        columns = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in part)
        lines += max(1, -(-columns // max(int(width), 1)))
    return min(_MAX_ROW_POINTS, max(15.0, lines * _LINE_POINTS))


def _table_column(values: pd.Series) -> list[object]:
    """One column of a plain table, converted once: float (a number), str (text) or None
    (nothing written: missing, or the 不适用 marker)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        return [None if v != v else v for v in numbers.tolist()]  # NaN → None
    cells: list[object] = []
    for value in values.to_numpy(dtype=object).tolist():
        value = _clean(value)
        if value is None or value is _NA:
            cells.append(None)
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        ):
            cells.append(float(value))
        else:
            cells.append(str(value))
    return cells


def number_format(ind: Indicator | None, fmt: _Formats, *, change: bool = False) -> Format:
    """The number format of ``ind``'s cells on every sheet, by the catalogue's ``decimals``:
    an indicator read with decimals (a rate) to one decimal, a count whole; ``change``:
    signed, as 较上期增减 and 增减 print."""
    mean = ind is not None and ind.decimals > 0
    if change:
        return fmt.change_mean if mean else fmt.change_count
    return fmt.mean if mean else fmt.count


def _corrections_sheet(
    wb: xlsxwriter.Workbook,
    corrections: pd.DataFrame,
    catalogue: Catalogue,
    since: int,
    title: str,
    footer: str,
    fmt: _Formats,
) -> None:
    """更正说明: one row per changed value of the subtree since version ``since``."""
    rows = corrections.copy()
    for side in ("old", "new"):
        shown = rows[f"{side}_value"].astype(object).where(rows[f"{side}_value"].notna())
        text = rows[f"{side}_value_text"].astype(object)
        rows[f"{side}_shown"] = shown.fillna(text.where(text.notna(), "未报"))
    if rows.empty:
        rows = pd.DataFrame(
            {
                "unit_name": [
                    f"自第{since}版以来本单位及下级无变化 / no change since version {since}"
                ]
            }
        )
    # each row's indicator in the format its column has on the level sheets
    by_code = {i.code: i for i in catalogue.indicators}
    inds = [by_code.get(c) for c in rows.reindex(columns=["indicator"])["indicator"]]
    value_formats = [number_format(i, fmt) for i in inds]
    _table_sheet(
        wb,
        CORRECTIONS_SHEET,
        rows,
        [
            ("unit_code", "单位代码", 14, fmt.text),
            ("unit_name", "单位名称", 20, fmt.text),
            ("indicator_label", "指标", 22, fmt.text),
            ("old_shown", f"原值（第{since}版）", 12, fmt.count),
            ("new_shown", "新值（现版）", 12, fmt.count),
            ("difference", "增减", 10, fmt.change_count),
            ("versions", "更正版本", 10, fmt.text),
            ("cause", "原因", 60, fmt.wrap),
        ],
        2,
        title,
        footer,
        fmt,
        row_formats={
            "old_shown": value_formats,
            "new_shown": value_formats,
            "difference": [number_format(i, fmt, change=True) for i in inds],
        },
    )


def _completeness_columns(
    comp: pd.DataFrame, fmt: _Formats
) -> list[tuple[str, str, float, Format]]:
    """完整性's columns: a day's on time, late and missing list; a week's, 旬's or month's
    days and reporter-days instead (it has no per-day columns: they printed blank)."""
    head = [
        ("unit_code", "单位代码", 14, fmt.text),
        ("unit_name", "单位名称", 20, fmt.text),
        ("level_name", "层级", 10, fmt.text),
        ("expected_units", "应报单位数", 10, fmt.count),
    ]
    if "reporter_days_expected" in comp.columns:  # period_completeness
        return [
            *head,
            ("reported_units", "期内已报单位数", 10, fmt.count),
            ("missing_units", "期内未报单位数", 10, fmt.count),
            ("reporting_rate", "报送率", 9, fmt.rate),
            ("days", "计算天数", 8, fmt.count),
            ("days_published", "已发布天数", 8, fmt.count),
            ("reporter_days_expected", "应报单位·日", 11, fmt.count),
            ("reporter_days_received", "已报单位·日", 11, fmt.count),
            ("reporter_days_rate", "单位·日报送率", 11, fmt.rate),
        ]
    return [
        *head,
        ("reported_units", "已报单位数", 10, fmt.count),
        ("missing_units", "未报单位数", 10, fmt.count),
        ("reporting_rate", "报送率", 9, fmt.rate),
        ("on_time_units", "按时报送", 9, fmt.count),
        ("late_units", "迟报", 9, fmt.count),
        ("missing_list", "未报单位名单", 60, fmt.wrap),
    ]


def missing_rows(missing: pd.DataFrame, registry: Registry, root_level: int) -> pd.DataFrame:
    """未报名单's rows: each missing reporter with the names of its county (when the
    workbook's root is above the counties) and township, in code order (so a township's
    villages print together and the clerk can sort by any column)."""
    rows = missing.sort_values("unit_code").reset_index(drop=True)
    places = pd.concat([rows["township_code"], rows["county_code"], rows["parent_code"]])
    names = registry.names_of(places.dropna().astype(str).unique())
    out = pd.DataFrame({"unit_code": rows["unit_code"].astype(str)})
    if root_level < 3:
        out["county_name"] = rows["county_code"].map(names)
    town = rows["township_code"].map(names)
    # a department has no township: the unit it reports to stands in its place
    out["township_name"] = town.where(town.notna(), rows["parent_code"].map(names))
    out["unit_name"] = rows["unit_name"].astype(str)
    out["kind_name"] = rows["kind"].map({"department": "部门"}).fillna("村社区")
    return out


def _missing_columns(rows: pd.DataFrame, fmt: _Formats) -> list[tuple[str, str, float, Format]]:
    county = [("county_name", "县区", 14, fmt.cell)] if "county_name" in rows.columns else []
    return [
        *county,
        ("township_name", "乡镇街道（部门的上级单位）", 22, fmt.cell),
        ("unit_name", "未报单位名称", 26, fmt.cell),
        ("unit_code", "单位代码", 16, fmt.cell),
        ("kind_name", "类别", 8, fmt.cell),
    ]


def _level_name(level: int, kind: str) -> str:
    return DEPARTMENT_SHEET if kind == "department" else LEVEL_NAMES_ZH.get(int(level), str(level))


def _sheet_name(level_name: str, group: SheetGroup) -> str:
    """``乡镇街道·隔离与病例、卡口值守``, within Excel's 31 characters."""
    return f"{level_name}·{group.name}"[:31]


def default_letterhead(root_name: str, day: date, root_level: int = 2) -> Letterhead:
    """The header block when the caller gives none: compiled by the root, cut off at the
    default deadline of the level reporting into it (the night's workbooks pass
    ``unit_report.letterhead_for``, which reads the deployment's deadlines)."""
    deadline = DEFAULT_DEADLINES[cutoff_level(root_level)]
    cutoff = f"{zh_date(day)}{deadline:%H:%M}"
    return Letterhead(compiled_by=root_name, cutoff=cutoff, made_on=date.today())


def write_workbook(
    path: Path,
    day: date,
    *,
    consolidated: pd.DataFrame,
    completeness: pd.DataFrame,
    quarantine: pd.DataFrame,
    catalogue: Catalogue,
    registry: Registry,
    period_title: str | None = None,
    report_name: str = "日报",
    source: list[tuple[str, str]] | None = None,
    letterhead: Letterhead | None = None,
    previous: Previous | None = None,
    corrections: pd.DataFrame | None = None,
    since_version: int = 1,
    missing: pd.DataFrame | None = None,
) -> Path:
    """Write the consolidated workbook for ``registry.root`` atomically; return its path.

    ``corrections`` (change report rows, :mod:`huizong.publish.change_report`) add a
    更正说明 sheet: what changed since version ``since_version``, old → new and why.

    ``period_title`` names a week/旬/month in the title (default: the day) and
    ``report_name`` (周报, 旬报, 月报) replaces the form's 日报 in it; ``source``
    lines (published version, run) go to the 说明 sheet; ``letterhead`` fills the header
    and signature blocks (default: the root, the day's end, today, lines to sign);
    ``previous`` adds the previous period's figures and 较上期增减 under each totals row.
    ``missing`` (the day's ``missing_reporter`` rows of the subtree) adds 未报名单, one row
    per unit that did not report, instead of 完整性's one-cell list per unit.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    indicators = ordered_indicators(catalogue)
    groups = sheet_groups(catalogue)
    root = registry.root
    names = registry.names_of(
        pd.concat([consolidated["unit_code"], consolidated["parent_code"], pd.Series([root])])
    )
    root_name = str(names.get(root, root))
    form_title = catalogue.title_zh.replace("日报", report_name)
    title = f"{root_name}{form_title}（{period_title or zh_date(day)}）"
    head = letterhead or default_letterhead(root_name, day, registry.level_of(root) or 2)
    footer = head.compiled_by

    units = (
        consolidated[["unit_code", "unit_name", "level", "kind", "parent_code"]]
        .drop_duplicates("unit_code")
        .rename(columns={"unit_code": "code", "unit_name": "name"})
    )
    units["name"] = units["name"].fillna(units["code"].map(names)).fillna("").astype(str)
    units["parent_name"] = units["parent_code"].map(names)
    wide = display_matrix(consolidated, indicators)
    carried = carried_cells(consolidated)
    root_values = wide.reindex([root]).iloc[0].tolist() if root in wide.index else None
    root_level = int(units.loc[units["code"] == root, "level"].iloc[0]) if root_values else None
    # the totals row's 上级单位 is the root's own parent (blank at the top), never the root
    above = units.loc[units["code"] == root, "parent_name"].dropna()
    root_parent = str(above.iloc[0]) if len(above) else ""

    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    cells = len(units) * (len(_META_HEADERS) + len(indicators)) + len(completeness) * 10
    small = cells <= IN_MEMORY_CELLS
    wb = xlsxwriter.Workbook(
        str(tmp),
        {
            "in_memory": small,
            "constant_memory": not small,
            "strings_to_formulas": False,  # a clerk's "=..." stays text
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    try:
        wb.set_properties({"title": title, "subject": catalogue.title_zh, "author": "Huizong 汇总"})
        fmt = _formats(wb)
        geo = units[units["kind"] != "department"]
        levels = sorted(int(v) for v in geo["level"].unique())
        below = [lv for lv in levels if root_level is None or lv > root_level]
        sheets: list[tuple[str, str]] = []
        # the root's own level is its totals row on the sheets below; alone, it is a sheet
        deps = units[units["kind"] == "department"].sort_values("code")
        level_of = geo.set_index("code")["level"]
        dep_parent_level = deps["parent_code"].map(level_of)
        for level in below or levels:
            at = _unit_rows(
                geo[geo["level"] == level].sort_values("code"), wide, indicators, carried
            )
            totals = (root, root_parent, root_values) if level in below and root_values else None
            # departments attached above this level add into 合计 through no listed row
            straight = deps.loc[(dep_parent_level < level).to_numpy(), "code"].tolist()
            subtotal = (
                (
                    DEPARTMENTS_LABEL,
                    aggregate_rows(wide, straight, catalogue, adding_only=True),
                    SUBTOTAL_NOTE,
                )
                if totals is not None and straight
                else None
            )
            level_name = LEVEL_NAMES_ZH.get(level, f"L{level}")
            for group in groups:
                name = _sheet_name(level_name, group)
                sheets.append((name, f"{level_name}每单位一行：{group.name}"))
                _level_sheet(
                    wb, name, title, at, totals, subtotal, group, catalogue, head, previous, fmt
                )
        if len(deps):
            dep_rows = _unit_rows(deps, wide, indicators, carried)
            dep_total = (
                DEPARTMENT_TOTALS_LABEL,
                aggregate_rows(wide, deps["code"].tolist(), catalogue, adding_only=False),
                DEPARTMENT_NOTE,
            )
            for group in groups:
                name = _sheet_name(DEPARTMENT_SHEET, group)
                sheets.append((name, f"部门报表：{group.name}"))
                _level_sheet(
                    wb, name, title, dep_rows, None, dep_total, group, catalogue, head, None, fmt
                )
        if corrections is not None:
            sheets.append((CORRECTIONS_SHEET, f"自第{since_version}版以来的更正：原值→新值及原因"))
            _corrections_sheet(wb, corrections, catalogue, since_version, title, footer, fmt)
        lowest = geo[geo["level"] == geo["level"].max()].sort_values("code")
        _issues_sheet(wb, pd.concat([lowest, deps]), wide, catalogue, title, footer, fmt)
        comp = completeness.copy()
        comp["level_name"] = [
            _level_name(lv, k) for lv, k in zip(comp["level"], comp["kind"], strict=True)
        ]
        comp = comp.sort_values(["level", "unit_code"])
        columns = _completeness_columns(comp, fmt)
        if missing is not None:
            columns = [c for c in columns if c[0] != "missing_list"]
        _table_sheet(wb, COMPLETENESS_SHEET, comp, columns, 2, title, footer, fmt)
        if missing is not None:
            sheets.append((MISSING_SHEET, "未报单位：每个单位一行（所属乡镇街道、县区，单位代码）"))
            listed = missing_rows(missing, registry, root_level or 2)
            _table_sheet(
                wb,
                MISSING_SHEET,
                listed,
                _missing_columns(listed, fmt),
                0,
                title,
                footer,
                fmt,
                empty=NO_MISSING,
            )
        quar = quarantine.reindex(columns=frames.ISSUE_COLUMNS).sort_values(
            ["file_name", "sheet", "row_number"], kind="stable"
        )
        _table_sheet(
            wb,
            QUARANTINE_SHEET,
            quar,
            [
                ("file_name", "文件名", 30, fmt.wrap),  # a correction's mark is long
                ("sheet", "工作表", 10, fmt.text),
                ("row_number", "行号", 6, fmt.count),
                ("unit_code", "单位代码", 14, fmt.text),
                ("unit_name", "单位名称", 16, fmt.text),
                ("column", "字段", 18, fmt.text),
                ("value", "值", 12, fmt.text),
                ("rule", "规则", 22, fmt.text),
                ("severity", "级别", 7, fmt.text),
                ("message_zh", "问题说明", 40, fmt.wrap),
                ("message_en", "Message", 40, fmt.wrap),
                ("file_id", "文件标识", 20, fmt.text),
            ],
            1,
            title,
            footer,
            fmt,
            empty=NO_QUARANTINE,
        )
        _notes_sheet(
            wb,
            indicators,
            catalogue,
            [
                ("制表机关 Compiled by", head.compiled_by),
                ("统计截止时间 Cut-off", head.cutoff),
                ("制表日期 Made on", zh_date(head.made_on)),
            ]
            + (source or []),
            sheets,
            title,
            footer,
            fmt,
        )
        wb.close()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
