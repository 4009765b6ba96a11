"""Lineage page: one published value traced to its reporters, files, coercions and actions."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from huizong.lineage import STATUS_LABELS, NotPublished, load_trace, summary_lines
from huizong.periods import parse_period, week_start_from_env
from huizong.review.deps import BackendDep, StewardDep, ViewDep, wants_json
from huizong.review.html import e, page, table
from huizong.review.scopes import check_scope
from huizong.review.views import MAX_ROWS, number, records

router = APIRouter()

#: A reporter's kind in both languages (the registry's ``kind``).
KIND_LABELS = {"village": "村社区 village", "department": "部门 department"}


def trace_path(unit_code: object, indicator: str, period: str) -> str:
    """The app path of a value's lineage page (the totals page links each total to it)."""
    return f"/trace/{unit_code}/{indicator}/{period}"


@router.get("/trace/{unit_code}/{indicator}/{period}", response_class=HTMLResponse)
def trace_page(
    request: Request,
    unit_code: str,
    indicator: str,
    period: str,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
) -> Response:
    """``period``: a day, ``2020-W05``, ``2020-01-2旬`` or ``2020-01`` (as ``huizong trace``)."""
    check_scope(unit_code, steward.scopes)  # before anything is read
    try:
        when = parse_period(period, week_start=week_start_from_env())
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    try:
        trace = load_trace(
            backend.warehouse_url,
            unit_code,
            indicator,
            when,
            backend.registry,
            backend.catalogue,
        )
    except NotPublished as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:  # unknown indicator or unit
        raise HTTPException(400, str(exc)) from None
    if wants_json(request):
        return JSONResponse(
            jsonable_encoder(
                {
                    "unit_code": trace.unit_code,
                    "indicator": trace.indicator.code,
                    "period": when.label,
                    "published": trace.published.value
                    if trace.indicator.is_numeric
                    else trace.published.value_text,
                    "recomputed": trace.recomputed,
                    "re_adds": trace.re_adds,
                    "contributors": records(trace.contributors),
                    "files": records(trace.evidence),
                    "actions": records(trace.actions),
                }
            )
        )
    head = summary_lines(trace)
    verdict = "ok" if trace.re_adds else "bad"
    body = [
        f'<p id="summary">{"<br>".join(e(line) for line in head[:-1])}</p>',
        f'<p id="re-adds" class="{verdict}">{e(head[-1])}</p>',
        f"<h2>报告单位 Reporters（{len(trace.contributors)}）</h2>",
        table(
            trace.contributors.head(MAX_ROWS).assign(
                status=trace.contributors["status"].map(STATUS_LABELS),
                kind=trace.contributors["kind"].map(lambda k: KIND_LABELS.get(k, k)),
            ),
            {
                "unit_code": "单位代码 Unit",
                "unit_name": "名称 Name",
                "kind": "类别 Kind",
                "status": "状态 Status",
                "value": "数值 Value",
                "value_text": "文字 Text",
                "day": "日期 Day",
                "days_given": "报告天数 Days given",
            },
            cells={"value": lambda r: e(number(r["value"]))},
        ),
        f"<h2>来源文件 Files and rows（{len(trace.evidence)}）</h2>",
        table(
            trace.evidence.head(MAX_ROWS).assign(
                sha=trace.evidence["file_id"].astype("str").str[:12]
            ),
            {
                "unit_code": "单位 Unit",
                "period": "日期 Day",
                "value": "数值 Value",
                "file_name": "文件 File",
                "sha": "sha256",
                "sheet": "工作表 Sheet",
                "row_number": "行 Row",
                "received_at": "接收时间 Received",
                "channel": "渠道 Channel",
                "sender": "报送人 Sender",
                "coercion": "转换 Coercion",
            },
            cells={
                "value": lambda r: e(
                    number(r["value"]) if trace.indicator.is_numeric else r["value"]
                ),
                "sha": lambda r: f'<code title="{e(r["file_id"])}">{e(r["sha"])}…</code>',
            },
        ),
        f"<h2>审核操作 Steward actions（{len(trace.actions)}）</h2>",
        table(
            trace.actions,
            {
                "at": "时间 At",
                "username": "审核人 Steward",
                "action": "操作 Action",
                "unit_code": "单位 Unit",
                "column": "字段 Field",
                "old_value": "原值 Old",
                "new_value": "新值 New",
                "justification": "理由 Why",
            },
        ),
    ]
    if len(trace.contributors) > MAX_ROWS:
        body.append(
            f'<p class="note">只列出前 {MAX_ROWS} 个单位，见 JSON / first {MAX_ROWS} shown</p>'
        )
    if when.type == "day":
        back = f"/runs/{when.start.isoformat()}/totals?indicator={trace.indicator.code}"
        body.append(f'<p><a href="{e(v.url(back))}">返回汇总 Back to totals</a></p>')
    title = f"{trace.unit_name} {trace.indicator.zh} {when.label} 来源 Lineage"
    return HTMLResponse(page(title, "".join(body), root=v.root))
