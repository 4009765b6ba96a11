"""Audit: every steward action of the day on units in scope (who, when, what, why)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from huizong.review import queries, store
from huizong.review.deps import BackendDep, DayDep, StewardDep, ViewDep
from huizong.review.html import page, table
from huizong.review.views import named, records

router = APIRouter()

#: The audit table's columns as a steward reads them (the JSON keeps the column names).
ACTION_HEADERS = {
    "at": "时间 At (北京时间)",
    "username": "用户 User",
    "action": "操作 Action",
    "file_name": "文件 File",
    "sheet": "工作表 Sheet",
    "row_number": "行 Row",
    "unit_code": "单位 Unit",
    "column": "指标 Indicator",
    "rule": "规则 Rule",
    "old_value": "原值 Old",
    "new_value": "新值 New",
    "justification": "理由 Why",
}
HIDDEN = ("id", "file_id", "period")


@router.get("/runs/{period}/audit", response_class=HTMLResponse)
def audit_page(p: DayDep, steward: StewardDep, backend: BackendDep, v: ViewDep) -> HTMLResponse:
    acts = queries.actions(backend.engine, p, steward.scopes)
    cols = {c: ACTION_HEADERS.get(c, c) for c in store.ACTION_COLUMNS if c not in HIDDEN}
    names = store.unit_names(backend.engine, acts["unit_code"])
    acts = acts.assign(unit_code=[named(c, names) for c in acts["unit_code"]])
    reruns = queries.reruns(backend.engine, p, steward.scopes)
    body = (
        "<h2>操作 Actions</h2>"
        + table(acts, cols)
        + "<h2>重新运行 Re-runs</h2>"
        + table(
            reruns,
            {
                "at": "时间 At",
                "username": "用户 User",
                "scopes": "负责单位 Units",
                "dag_run_id": "运行 Run",
                "justification": "原因 Reason",
            },
        )
    )
    return HTMLResponse(page(f"{p} 审核记录 Audit trail", body, root=v.root))


@router.get("/api/runs/{period}/audit")
def audit_json(p: DayDep, steward: StewardDep, backend: BackendDep) -> list[dict[str, Any]]:
    return records(queries.actions(backend.engine, p, steward.scopes))
