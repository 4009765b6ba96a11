"""The change report of a version of a day: what changed for the steward's units, and why."""

from __future__ import annotations

from datetime import date

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from huizong.publish.change_report import CHANGE_LABELS, change_report
from huizong.publish.warehouse import read_changes, read_versions
from huizong.review import store
from huizong.review.deps import BackendDep, DayDep, StewardDep, ViewDep, wants_json
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


@router.get("/runs/{period}/changes", response_class=HTMLResponse)
def changes_page(
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    version: int | None = None,
) -> Response:
    """Per unit in scope, grouped by county: indicator, old → new, difference, cause."""
    url = backend.warehouse_url
    known = read_versions(url, date.fromisoformat(p))
    numbers = [int(x) for x in known["version"]]
    if version is None and numbers:
        version = max(numbers)
    if version is not None and version not in numbers:
        raise HTTPException(404, f"{p} 没有第{version}版 / {p} has no version {version}")
    found = read_changes(url, date.fromisoformat(p), version) if version else pd.DataFrame()
    report = change_report(found, backend.catalogue)
    report = report[in_scope(report["unit_code"], steward.scopes).to_numpy()]
    if wants_json(request):
        return JSONResponse(
            {"period": p, "version": version, "versions": numbers, "changes": records(report)}
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
        f'<p id="summary">第{e(version)}版中您辖区的变化：{len(report)} 项，'
        f"{report['unit_code'].nunique()} 个单位 / changes in your units in version "
        f"{e(version)}: {len(report)} values, {report['unit_code'].nunique()} units</p>"
    )
    names = store.unit_names(backend.engine, report["county_code"].unique())
    shown = report.assign(change=report["change"].map(CHANGE_LABELS))
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
                    "old": lambda r: e(_shown(r, "old")),
                    "new": lambda r: e(_shown(r, "new")),
                    "difference": lambda r: e(signed(r["difference"])),
                },
            )
        )
    body.append(
        f'<p><a href="{e(v.url(f"/runs/{p}/versions"))}">版本与确认 Versions</a> · '
        f'<a href="{e(v.url("/runs/" + p))}">返回 Back</a></p>'
    )
    title = f"{p} 第{version}版更正说明 Change report" if version else f"{p} 更正说明 Changes"
    return HTMLResponse(page(title, "".join(body), root=v.root))


def _shown(rec: object, side: str) -> str:
    """A cell's old or new value: its number, else its text, else 未报 (not reported)."""
    value = rec[f"{side}_value"]  # type: ignore[index]
    if not pd.isna(value):
        return number(value)
    text = rec[f"{side}_value_text"]  # type: ignore[index]
    return str(text) if isinstance(text, str) and text else "未报 none"
