"""Re-run: trigger ``huizong_nightly`` for the day through Airflow, as the steward."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from huizong.review.airflow_api import DAG_ID
from huizong.review.deps import (
    AirflowDep,
    CsrfDep,
    DayDep,
    StewardDep,
    ViewDep,
    session_token,
    wants_json,
)
from huizong.review.html import e, page
from huizong.review.scopes import ScopeError

router = APIRouter()


@router.post("/runs/{period}/rerun", dependencies=[CsrfDep])
def rerun_action(
    request: Request, p: DayDep, steward: StewardDep, airflow: AirflowDep, v: ViewDep
) -> Response:
    """Trigger the nightly DAG for this day through Airflow's public API, as this user."""
    if not steward.scopes:
        raise ScopeError("没有分配单位 / no units assigned")
    run = airflow.trigger(p, session_token(request))
    if wants_json(request):
        return JSONResponse({"dag_id": DAG_ID, "dag_run_id": run.run_id})
    body = (
        f'<p class="msg" id="rerun-started">已触发 Triggered {e(DAG_ID)} '
        f"run <b>{e(run.run_id)}</b> for {e(p)}.</p>"
        f'<p><a href="{e(v.url("/runs/" + p))}">返回 Back</a> · '
        f'<a href="{e(v.url("/runs/" + p + "/totals"))}">汇总 Totals</a></p>'
    )
    return HTMLResponse(page(f"{p} 重新运行 Re-run", body, root=v.root))
