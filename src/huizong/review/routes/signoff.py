"""Versions and sign-off (确认上报) of a day: what was published when, who confirmed it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from huizong.display import run_label
from huizong.publish.warehouse import read_versions
from huizong.review import signoff, store
from huizong.review.deps import BackendDep, CsrfDep, DayDep, StewardDep, ViewDep, wants_json
from huizong.review.html import e, page, table
from huizong.review.scopes import in_scope

router = APIRouter()

_TRIGGERS = {
    "nightly": "夜间汇总 nightly",
    "correction": "审核更正 correction",
    "late": "迟报 late file",
    "backfill": "补跑 backfill",
    "manual": "手动 manual",
}


@router.get("/runs/{period}/versions", response_class=HTMLResponse)
def versions_page(
    request: Request, p: DayDep, steward: StewardDep, backend: BackendDep, v: ViewDep
) -> Response:
    """Every version of the day, and the sign-offs of the viewer's units with a button to
    sign off each of them as now published; a sign-off a later version restated is marked."""
    engine = backend.engine
    versions = read_versions(backend.warehouse_url, date.fromisoformat(p))
    signed = signoff.signoffs_for(engine, p)
    if len(signed):
        signed = signed[in_scope(signed["unit_code"].astype("str"), steward.scopes).to_numpy()]
    latest = int(versions["version"].max()) if len(versions) else None
    if wants_json(request):
        return JSONResponse(
            {
                "period": p,
                "latest": latest,
                "versions": _records(versions.drop(columns=["restated"], errors="ignore")),
                "signoffs": _records(signed),
            }
        )
    names = store.unit_names(engine, steward.scopes)
    rows = versions.assign(trigger=versions["trigger"].map(lambda t: _TRIGGERS.get(t, t)))
    rows["restatement"] = rows["restatement"].map(lambda r: "更正重报 restatement" if r else "")
    body = [
        "<h2>版本 Versions</h2>",
        table(
            rows,
            {
                "version": "版本 version",
                "published_at": "发布时间 published (北京时间)",
                "trigger": "原因 trigger",
                "run_id": "运行 run",
                "inputs": "文件数 files",
                "changed_values": "指标数值变化项 indicator values changed",
                "restatement": "重报 restatement",
                "report": "更正说明 change report",
            },
            cells={
                "run_id": lambda r: e(run_label(r["run_id"])),
                "report": lambda r: (
                    f'<a href="{e(v.url(_changes_path(p, r)))}">更正说明 changes</a>'
                ),
            },
        ),
        "<h2>确认上报 Sign-off</h2>",
    ]
    for unit in steward.scopes:
        mine = signed[signed["unit_code"].astype("str") == unit] if len(signed) else signed
        last = int(mine["version"].max()) if len(mine) else None
        state = (
            "未确认 not signed off"
            if last is None
            else f"已确认第{last}版 signed off version {last}"
            + ("" if last == latest else f"；现为第{latest}版，需重新确认 now version {latest}")
        )
        button = ""
        if latest is not None and last != latest:
            button = v.form(
                f"/runs/{p}/signoff",
                {"unit_code": unit},
                '<input name="note" placeholder="备注 note (optional)">'
                f'<button type="submit">确认上报第{latest}版 Sign off version {latest}</button>',
                class_="inline",
            )
        cls = "bad" if last is not None and last != latest else ""
        body.append(
            f'<p class="{cls}" id="signoff-{e(unit)}"><b>{e(unit)} {e(names.get(unit, ""))}</b>'
            f"：{e(state)} {button}</p>"
        )
    if len(signed):
        body.append(
            table(
                signed,
                {
                    "unit_code": "单位 unit",
                    "version": "版本 version",
                    "username": "确认人 signed by",
                    "at": "时间 at (北京时间)",
                    "note": "备注 note",
                },
            )
        )
    body.append(f'<p><a href="{e(v.url("/runs/" + p))}">返回 Back</a></p>')
    return HTMLResponse(page(f"{p} 版本与确认 Versions and sign-off", "".join(body), root=v.root))


@router.post("/runs/{period}/signoff", dependencies=[CsrfDep])
def signoff_action(
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    unit_code: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Sign off one of the steward's units for the day as it is now published."""
    row = signoff.sign_off(
        backend.engine, username=steward.username, period=p, unit_code=unit_code, note=note
    )
    if wants_json(request):
        return JSONResponse({k: str(val) for k, val in row.items()})
    return RedirectResponse(v.url(f"/runs/{p}/versions"), status_code=303)


def _changes_path(p: str, rec: pd.Series) -> str:
    return f"/runs/{p}/changes?version={int(rec['version'])}"


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {k: (None if pd.isna(val) else str(val)) for k, val in rec.items()}
        for rec in frame.to_dict("records")
    ]
