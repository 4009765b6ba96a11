"""Totals: one indicator's published township, county and city totals for the day."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from huizong.review import queries
from huizong.review.deps import BackendDep, DayDep, StewardDep, ViewDep
from huizong.review.html import e, page, table
from huizong.review.views import indicator_code, number, records

router = APIRouter()

LEVELS = {2: "市 city", 3: "县区 county", 4: "乡镇 township"}


@router.get("/runs/{period}/totals", response_class=HTMLResponse)
def totals_page(
    p: DayDep, steward: StewardDep, backend: BackendDep, v: ViewDep, indicator: str | None = None
) -> HTMLResponse:
    catalogue = backend.catalogue
    code = indicator_code(catalogue, indicator)
    found = queries.totals(backend.engine, p, code, steward.scopes)
    labels = {i.code: i.zh for i in catalogue.indicators}
    options = "".join(
        f'<option value="{e(i.code)}"{" selected" if i.code == code else ""}>'
        f"{e(i.zh)} ({e(i.code)})</option>"
        for i in catalogue.numeric
    )
    body = (
        f'<form method="get" class="inline">指标 Indicator: <select name="indicator"'
        f' id="indicator">{options}</select> <button type="submit">显示 Show</button></form>'
        f"<h2>{e(labels[code])} ({e(code)})</h2>"
        + table(
            found,
            {
                "level": "层级 Level",
                "unit_code": "单位代码 Unit",
                "unit_name": "名称 Name",
                "value": "合计 Total",
                "reporting_units": "已报 Reporting",
                "expected_units": "应报 Expected",
            },
            cells={
                "level": lambda rec: e(LEVELS.get(int(rec["level"]), rec["level"])),
                "value": lambda rec: (
                    f'<span class="total" id="total-{e(rec["unit_code"])}">'
                    f"{e(number(rec['value']))}</span>"
                ),
            },
        )
        + f'<p><a href="{e(v.url("/runs/" + p))}">返回 Back</a></p>'
    )
    return HTMLResponse(page(f"{p} 汇总 Totals", body, root=v.root))


@router.get("/api/runs/{period}/totals")
def totals_json(
    p: DayDep, steward: StewardDep, backend: BackendDep, indicator: str | None = None
) -> list[dict[str, Any]]:
    code = indicator_code(backend.catalogue, indicator)
    return records(queries.totals(backend.engine, p, code, steward.scopes))
