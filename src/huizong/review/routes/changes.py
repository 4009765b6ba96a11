"""The change report of a version of a day: what changed for the viewer's units, and why —
the indicator values, then the completeness (how many units reported).

Open to stewards and to readers (agencies: issue 9, "agencies see what changed"; the
downloads page links here when a newer version exists), each scoped to their own units.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from huizong.display import figure
from huizong.publish.change_report import (
    CHANGE_LABELS,
    change_report,
    completeness_report,
    value_changed,
)
from huizong.publish.warehouse import read_changes, read_versions
from huizong.review import store
from huizong.review.deps import BackendDep, DayDep, ReaderDep, ViewDep, wants_json
from huizong.review.html import e, page, table
from huizong.review.scopes import in_scope
from huizong.review.views import number, records, signed

router = APIRouter()

_COLUMNS = {
    "unit_code": "单位代码 Unit",
    "unit_name": "名称 Name",
    "indicator_label": "指标 Indicator",
    "old": "原值 Old",
    "new": "新值 New",
    "difference": "增减 Difference",
    "change": "变化 Change",
    "cause": "原因 Cause",
}
_COMPLETENESS_COLUMNS = {
    "unit_code": "单位代码 Unit",
    "unit_name": "名称 Name",
    "field_label": "项目 Field",
    "old": "原值 Old",
    "new": "新值 New",
    "change": "变化 Change",
    "cause": "原因 Cause",
}


def _mine(frame: pd.DataFrame, scopes: tuple[str, ...]) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame[in_scope(frame["unit_code"].astype("str"), scopes).to_numpy()]


@router.get("/runs/{period}/changes", response_class=HTMLResponse)
def changes_page(
    request: Request,
    p: DayDep,
    reader: ReaderDep,
    backend: BackendDep,
    v: ViewDep,
    version: int | None = None,
) -> Response:
    """Per unit in scope, grouped by county: indicator, old → new, difference, cause; then
    the completeness fields that changed (reported, expected, rate …), old → new, cause."""
    url = backend.warehouse_url
    known = read_versions(url, date.fromisoformat(p))
    numbers = [int(x) for x in known["version"]]
    if version is None and numbers:
        version = max(numbers)
    if version is not None and version not in numbers:
        raise HTTPException(404, f"{p} 没有第{version}版 / {p} has no version {version}")
    day = date.fromisoformat(p)
    found = _mine(read_changes(url, day, version) if version else pd.DataFrame(), reader.scopes)
    report = change_report(found, backend.catalogue)
    unit_only = int((~value_changed(found)).sum()) if len(found) else 0
    completeness = completeness_report(
        _mine(
            read_changes(url, day, version, table="completeness") if version else pd.DataFrame(),
            reader.scopes,
        )
    )
    if wants_json(request):
        return JSONResponse(
            {
                "period": p,
                "version": version,
                "versions": numbers,
                "changes": records(report),
                "unchanged_values": unit_only,
                "completeness": records(completeness),
            }
        )
    links = " ".join(
        f"<b>第{n}版</b>"
        if n == version
        else f'<a href="{e(v.url(f"/runs/{p}/changes?version={n}"))}">第{n}版 v{n}</a>'
        for n in numbers
    )
    body = [f'<p id="versions">版本 Versions: {links or "尚未发布 / not published yet"}</p>']
    if version == 1:
        body.append(
            '<p class="note">第1版是首次发布，没有更正 / version 1 is the first publish</p>'
        )
    body.append(
        f'<p id="summary">第{e(version)}版中您辖区的指标数值变化：{len(report)} 项，'
        f"{report['unit_code'].nunique()} 个单位 / indicator values changed in your units in "
        f"version {e(version)}: {len(report)} values, {report['unit_code'].nunique()} units</p>"
    )
    if unit_only:
        body.append(
            '<p class="note" id="not-counted">只计指标数值的变化；'
            f"另有 {unit_only} 项仅“已报单位数”变化，不计入，见下方报告完整性 / "
            "only changes of indicator values are counted; "
            f"{unit_only} more cells changed only in how many units reported: see completeness"
            " below</p>"
        )
    names = store.unit_names(backend.engine, {*report["county_code"], *completeness["county_code"]})
    shown = report.assign(change=report["change"].map(CHANGE_LABELS))
    precision = {i.code: (i.decimals, i.unit) for i in backend.catalogue.indicators}
    for county, rows in shown.groupby("county_code", sort=True):
        body.append(
            f'<h2 id="county-{e(county)}">{e(names.get(str(county), ""))} {e(county)}'
            f"（{len(rows)} 项 values）</h2>"
        )
        body.append(
            table(
                rows,
                _COLUMNS,
                cells={
                    "old": lambda r: f'<span class="num">{e(_shown(r, "old", precision))}</span>',
                    "new": lambda r: f'<span class="num">{e(_shown(r, "new", precision))}</span>',
                    "difference": lambda r: e(_difference(r, precision)),
                },
            )
        )
    body.append(_completeness_section(completeness, names))
    back = (
        f'<p><a href="{e(v.url(f"/runs/{p}/versions"))}">版本与确认 Versions</a> · '
        f'<a href="{e(v.url("/runs/" + p))}">返回 Back</a></p>'
        if reader.is_steward
        else f'<p><a href="{e(v.url("/downloads/"))}">汇总下载 Downloads</a></p>'
    )
    body.append(back)
    title = f"{p} 第{version}版更正说明 Change report" if version else f"{p} 更正说明 Changes"
    nav = (
        None if reader.is_steward else f'<a href="{e(v.url("/downloads/"))}">汇总下载 Downloads</a>'
    )
    return HTMLResponse(page(title, "".join(body), root=v.root, nav=nav))


def _completeness_section(rows: pd.DataFrame, names: dict[str, str]) -> str:
    """报告完整性: per county, each changed field of each unit, old → new and cause."""
    parts = [
        '<h2 id="completeness">报告完整性变化 Completeness changes'
        f"（{len(rows)} 项 fields，{rows['unit_code'].nunique()} 个单位 units）</h2>"
    ]
    if rows.empty:
        parts.append('<p class="note">无 / none</p>')
        return "".join(parts)
    shown = rows.assign(change=rows["change"].map(CHANGE_LABELS))
    for county, group in shown.groupby("county_code", sort=True):
        parts.append(
            f'<h3 id="completeness-{e(county)}">{e(names.get(str(county), ""))} {e(county)}</h3>'
        )
        parts.append(
            table(
                group,
                _COMPLETENESS_COLUMNS,
                cells={
                    "old": lambda r: e(_field(r, "old")),
                    "new": lambda r: e(_field(r, "new")),
                },
            )
        )
    return "".join(parts)


def _difference(rec: object, precision: dict[str, tuple[int, str]]) -> str:
    """new − old to the indicator's precision: ``+0.2%``, ``+1,234``."""
    decimals, unit = precision.get(rec["indicator"], (0, ""))  # type: ignore[index]
    if decimals:
        return figure(rec["difference"], decimals, unit, sign=True)  # type: ignore[index]
    return signed(rec["difference"])  # type: ignore[index]


def _field(rec: object, side: str) -> str:
    """A completeness field: a rate as a percentage, a count as a number, none as 无."""
    value = rec[side]  # type: ignore[index]
    if pd.isna(value):
        return "无 none"
    if rec["field"] == "reporting_rate":  # type: ignore[index]
        return f"{float(value):.1%}"
    return number(value)


def _shown(rec: object, side: str, precision: dict[str, tuple[int, str]]) -> str:
    """A cell's old or new value: its number to the indicator's precision, else its text,
    else 未报 (not reported)."""
    value = rec[f"{side}_value"]  # type: ignore[index]
    if not pd.isna(value):
        decimals, unit = precision.get(rec["indicator"], (0, ""))  # type: ignore[index]
        return figure(value, decimals, unit) if decimals else number(value)
    text = rec[f"{side}_value_text"]  # type: ignore[index]
    return str(text) if isinstance(text, str) and text else "未报 none"
