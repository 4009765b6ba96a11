"""Totals: one indicator's published township, county and city totals for the day."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from huizong.review import queries
from huizong.review.deps import BackendDep, DayDep, StewardDep, ViewDep
from huizong.review.html import e, page, table
from huizong.review.routes.trace import trace_path
from huizong.review.views import indicator_code, number, records, signed

router = APIRouter()

LEVELS = {2: "市 city", 3: "县区 county", 4: "乡镇 township"}
#: Why 应报 here can be fewer than the day's reporters (完整性, the run summary): a
#: department's figure of an indicator kept beside the total is not expected in it.
EXPECTED_NOTE = (
    "应报（本指标）= 下属村、社区，加上本指标数字计入合计的部门；"
    "本指标的部门数不计入合计时不含部门，故可少于完整性中的应报单位数（村社区 + 全部部门）。"
    " Expected for this indicator = the villages/communities below, plus the departments "
    "whose figures this indicator adds; fewer than the day's reporters in completeness "
    "(villages/communities + every department) when it keeps departments beside the total."
)


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
        + f'<p class="note">较上日 Compared with: {e(_previous(found))}</p>'
        + table(
            found.assign(level_label=[LEVELS.get(int(x), str(x)) for x in found["level"]]),
            {
                "level_label": "层级 Level",
                "unit_code": "单位代码 Unit",
                "unit_name": "名称 Name",
                "value": "合计 Total",
                "change": "较上日增减 Change",
                "reporting_units": "已报（本指标）Reporting",
                "expected_units": "应报（本指标）Expected",
            },
            cells={
                "value": lambda rec: (
                    f'<a href="{e(v.url(trace_path(rec["unit_code"], code, p)))}"'
                    ' title="来源 lineage">'
                    f'<span class="total" id="total-{e(rec["unit_code"])}">'
                    f"{e(number(rec['value']))}</span></a>"
                ),
                "change": lambda rec: e(signed(rec["change"])),
            },
            row_class=[f"level-{int(x)}" for x in found["level"]],
        )
        + f'<p class="note" id="expected-note">{EXPECTED_NOTE}</p>'
        + f'<p><a href="{e(v.url("/runs/" + p))}">返回 Back</a></p>'
    )
    return HTMLResponse(page(f"{p} 汇总 Totals", body, root=v.root))


def _previous(found: object) -> str:
    """The day the change is counted from, or why there is none."""
    days = getattr(found, "previous_period", None)
    day = None if days is None or days.dropna().empty else days.dropna().iloc[0]
    return str(day) if day else "无上一发布日 / no earlier published day"


@router.get("/api/runs/{period}/totals")
def totals_json(
    p: DayDep, steward: StewardDep, backend: BackendDep, indicator: str | None = None
) -> list[dict[str, Any]]:
    code = indicator_code(backend.catalogue, indicator)
    return records(queries.totals(backend.engine, p, code, steward.scopes))
