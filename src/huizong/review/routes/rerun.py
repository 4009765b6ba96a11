"""Re-run: trigger ``huizong_nightly`` for the day through Airflow, as the steward."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from huizong.display import local_time
from huizong.review import queries, store
from huizong.review.actions import ActionError, NotFound
from huizong.review.airflow_api import DAG_ID, Airflow, AirflowError, RunState, ahead_of
from huizong.review.deps import (
    AirflowDep,
    BackendDep,
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
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    airflow: AirflowDep,
    v: ViewDep,
    justification: Annotated[str, Form()] = "",
) -> Response:
    """Trigger the nightly DAG for this day through Airflow's public API, as this user;
    the re-run is audited (who, which run, why) once Airflow has accepted it."""
    if not steward.scopes:
        raise ScopeError("没有分配单位 / no units assigned")
    why = justification.strip()
    if not why:
        raise ActionError("重新运行需要说明原因 / a re-run needs a reason")
    run = airflow.trigger(p, session_token(request))
    store.record_rerun(
        backend.engine,
        username=steward.username,
        period=p,
        scopes=steward.scopes,
        dag_run_id=run.run_id,
        justification=why,
    )
    if wants_json(request):
        return JSONResponse({"dag_id": DAG_ID, "dag_run_id": run.run_id})
    return RedirectResponse(v.url(f"/runs/{p}/reruns/{quote(run.run_id)}"), status_code=303)


#: Seconds between reloads of the progress page while the run is going.
REFRESH_SECONDS = 5


@router.get("/runs/{period}/reruns/{run_id}", response_class=HTMLResponse)
def rerun_page(
    request: Request,
    p: DayDep,
    run_id: str,
    steward: StewardDep,
    backend: BackendDep,
    airflow: AirflowDep,
    v: ViewDep,
) -> HTMLResponse:
    """A re-run's progress, reloading itself until Airflow says it is finished; then the
    way to the changed totals. Only runs triggered from this page by a steward whose units
    overlap the viewer's are shown (404 otherwise)."""
    mine = queries.reruns(backend.engine, p, steward.scopes)
    if run_id not in set(mine["dag_run_id"].astype("str")):
        raise NotFound("没有这个重新运行 / no such re-run")
    run = airflow.run(run_id, session_token(request))
    label = STATES.get(run.state, run.state)
    parts = [
        f'<p class="msg" id="rerun-started">已触发 Triggered {e(DAG_ID)} '
        f"run <b>{e(run.run_id)}</b> for {e(p)}.</p>",
        f'<p>状态 State: <span id="run-state" class="run-{e(run.state)}">{e(label)}</span>'
        f' · <a id="airflow-run" href="/dags/{e(DAG_ID)}/runs/{e(quote(run.run_id))}">'
        "在 Airflow 中查看 Open the run in Airflow</a></p>",
    ]
    totals = e(v.url(f"/runs/{p}/totals"))
    if run.state == "success":
        parts.append(
            f'<p class="msg" id="rerun-done">已完成，汇总已更新 The run has finished; the'
            f' totals are updated. <a href="{totals}" id="new-totals">查看汇总 See the'
            " totals</a></p>"
        )
    elif run.finished:
        parts.append(
            '<p class="msg bad" id="rerun-failed">运行失败，汇总未改变；请在 Airflow 中查看日志。'
            " The run failed; the totals did not change: see its log in Airflow.</p>"
        )
    else:
        if run.state == "queued":
            parts.append(_waiting_for(run, airflow, session_token(request)))
        parts.append(
            f'<p class="note">本页每 {REFRESH_SECONDS} 秒刷新一次 This page reloads every'
            f" {REFRESH_SECONDS} s until the run has finished.</p>"
        )
    parts.append(f'<p><a href="{e(v.url("/runs/" + p))}">返回 Back</a></p>')
    return HTMLResponse(
        page(
            f"{p} 重新运行 Re-run",
            "".join(parts),
            root=v.root,
            refresh=None if run.finished else REFRESH_SECONDS,
        )
    )


#: How a run was started (Airflow's DagRunType), in both languages.
RUN_TYPES = {
    "scheduled": "定时运行 scheduled nightly run",
    "manual": "手动运行 manual run",
    "backfill": "补跑 backfill",
    "asset_triggered": "数据触发 asset-triggered run",
}


def _waiting_for(run: RunState, airflow: Airflow, token: str) -> str:
    """What a queued re-run waits for: the runs ahead of it (the DAG runs one at a time,
    whatever their day), each with its day, state and since when; or, with none ahead,
    the scheduler. A refusal to list the runs leaves just the state."""
    try:
        ahead = ahead_of(run, airflow.active(token))
    except AirflowError:
        return ""
    if not ahead:
        return (
            '<p class="note" id="rerun-waiting">前面没有其他运行，等待调度器启动本次运行'
            "（若长时间不动，请确认 Airflow 调度器在运行且 huizong_nightly 未暂停）。"
            " No other run is ahead: waiting for the scheduler to start this one (if it"
            " does not, check that the Airflow scheduler is running and huizong_nightly is"
            " not paused).</p>"
        )
    rows = "".join(
        f'<li class="ahead" data-run-id="{e(r.run_id)}">'
        f"日期 day <b>{e(r.day or '?')}</b> · "
        f"{e(RUN_TYPES.get(r.run_type or '', r.run_type or ''))} · "
        f"{e(STATES.get(r.state, r.state))} · "
        f"{'开始于 started' if r.state == 'running' else '排队自 queued since'} "
        f"{e(local_time(r.since) or '?')} · <code>{e(r.run_id)}</code></li>"
        for r in ahead
    )
    return (
        '<div class="note" id="rerun-waiting"><p>排队中：huizong_nightly 一次只运行一个，'
        f"本次重新运行在以下 {len(ahead)} 个运行结束后开始 / Queued: huizong_nightly runs one"
        f" at a time; this re-run starts once the {len(ahead)} run(s) ahead of it have"
        f" finished:</p><ul>{rows}</ul></div>"
    )


#: Airflow's DagRunState in both languages.
STATES = {
    "queued": "排队中 queued",
    "running": "运行中 running",
    "success": "已完成 success",
    "failed": "失败 failed",
}
