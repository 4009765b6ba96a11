"""The review web app, mounted into Airflow's API server by ``plugins/huizong_review.py``.

A plugin's FastAPI app is not protected by Airflow's auth manager, so every route depends
on :data:`GetUserDep` (JWT from ``Authorization: Bearer`` or the ``_token`` cookie the
Airflow UI sets): no token, 401. The user's name selects their ``steward_scope`` rows, and
every list, page and action is restricted to that subtree (403 outside it).
"""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlparse

import httpx
import pandas as pd
import sqlalchemy as sa
from airflow.api_fastapi.core_api.security import GetUserDep, get_user
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from huizong.catalogue import Catalogue, load_catalogue
from huizong.review import actions, queries, store
from huizong.review.html import e, hidden, page, table
from huizong.review.original import original_row
from huizong.review.scopes import ScopeError, check_scope
from huizong.settings import Settings

DAG_ID = "huizong_nightly"
DEFAULT_AIRFLOW_API_URL = "http://127.0.0.1:8080"
TOKEN_COOKIE = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN
MAX_ROWS = 2000  # rows shown per table on a page (the JSON variants return all)


@dataclass(frozen=True)
class Steward:
    username: str
    scopes: tuple[str, ...]


class _Backend:
    """Engine and catalogue, created on first use so building the app touches nothing."""

    def __init__(self, settings: Settings, engine: Engine | None) -> None:
        self.settings = settings
        self._engine = engine
        self._ready = False
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = sa.create_engine(self.settings.warehouse)
            if not self._ready:
                store.ensure_schema(self._engine)
                self._ready = True
            return self._engine

    @property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.form)


def _current_steward(request: Request, user: GetUserDep) -> Steward:
    """The Airflow user and the units they are assigned (none: they see nothing)."""
    name = user.get_name()
    return Steward(name, store.scopes_for(request.app.state.backend.engine, name))


StewardDep = Annotated[Steward, Depends(_current_steward)]
Text = Annotated[str, Form()]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    airflow_api_url: str | None = None,
) -> FastAPI:
    """The review app; ``settings`` default to ``Settings.from_env()``."""
    settings = settings or Settings.from_env()
    backend = _Backend(settings, engine)
    api_url = (
        airflow_api_url or os.environ.get("HUIZONG_AIRFLOW_API_URL") or DEFAULT_AIRFLOW_API_URL
    ).rstrip("/")
    app = FastAPI(
        title="Huizong review",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(get_user)],  # belt and braces: no route without a user
    )

    app.state.backend = backend

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def same_origin(request: Request) -> None:
        """Refuse cross-site form posts (the Airflow cookie would ride along)."""
        origin = request.headers.get("origin") or request.headers.get("referer")
        if origin and urlparse(origin).netloc not in ("", request.headers.get("host", "")):
            raise HTTPException(403, "cross-origin request refused")

    def day(period: str) -> str:
        try:
            return store.period_text(period)
        except ValueError:
            raise HTTPException(400, f"not a day: {period!r}") from None

    @app.exception_handler(ScopeError)
    async def _scope(request: Request, exc: ScopeError) -> Response:
        return _error(request, 403, "无权限 / Forbidden", str(exc))

    @app.exception_handler(actions.NotFound)
    async def _nf(request: Request, exc: actions.NotFound) -> Response:
        return _error(request, 404, "未找到 / Not found", str(exc))

    @app.exception_handler(actions.ActionError)
    async def _bad(request: Request, exc: actions.ActionError) -> Response:
        return _error(request, 400, "请求有误 / Bad request", str(exc))

    @app.exception_handler(actions.OriginalUnavailable)
    async def _gone(request: Request, exc: actions.OriginalUnavailable) -> Response:
        return _error(request, 409, "原始数据不可用 / Original unavailable", str(exc))

    def _error(request: Request, code: int, title: str, detail: str) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": detail}, status_code=code)
        return HTMLResponse(page(title, f"<p>{e(detail)}</p>", root=root(request)), code)

    # ---- runs --------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, name="runs")
    def runs_page(request: Request, steward: StewardDep) -> HTMLResponse:
        found = queries.runs(backend.engine, steward.scopes)
        r = root(request)
        body = (
            f'<p class="note">用户 User: {e(steward.username)} · 负责单位 Units: '
            f"{e(', '.join(steward.scopes) or '—')}</p>"
            + table(
                found,
                {
                    "period": "日期 Day",
                    "files": "文件 Files",
                    "quarantined": "隔离 Quarantined",
                    "warnings": "警告 Warnings",
                },
                cells={
                    "period": lambda rec: (
                        f'<a href="{e(r)}/runs/{e(rec["period"])}">{e(rec["period"])}</a>'
                    )
                },
            )
        )
        return HTMLResponse(page("审核 · 运行 Runs", body, root=r))

    @app.get("/api/runs")
    def runs_json(steward: StewardDep) -> list[dict[str, Any]]:
        return _records(queries.runs(backend.engine, steward.scopes))

    # ---- one day -----------------------------------------------------------------------

    @app.get("/runs/{period}", response_class=HTMLResponse)
    def day_page(request: Request, period: str, steward: StewardDep) -> HTMLResponse:
        p = day(period)
        eng = backend.engine
        quarantine = queries.issues(eng, p, steward.scopes, "quarantine")
        warnings = queries.issues(eng, p, steward.scopes, "warning")
        files = queries.ledger(eng, p, steward.scopes)
        r = root(request)
        base = f"{r}/runs/{p}"
        docs = backend.settings.home / "data_docs" / p
        parts = []
        if docs.is_dir() and queries.period_in_scope(eng, p, steward.scopes):
            parts.append(f'<p><a href="{e(base)}/data-docs/">数据文档 Data Docs</a></p>')
        parts.append(
            f'<form method="post" action="{e(base)}/rerun" class="inline">'
            f'<button type="submit" id="rerun">重新运行此日 Re-run this day</button></form>'
            f' <a href="{e(base)}/audit">审核记录 Audit trail</a>'
            f' <a href="{e(base)}/totals" id="totals-link">汇总 Totals</a>'
        )
        parts.append("<h2>隔离 · 按单位 Quarantine by unit</h2>")
        parts.append(
            table(
                queries.by_unit(quarantine),
                {
                    "unit_code": "单位代码 Unit",
                    "unit_name": "名称 Name",
                    "issues": "问题 Issues",
                    "open": "待处理 Open",
                    "rows": "行 Rows",
                },
                cells={
                    "unit_code": lambda rec: (
                        f'<a href="{e(base)}/units/{e(rec["unit_code"])}">{e(rec["unit_code"])}</a>'
                    )
                },
            )
        )
        parts.append("<h2>隔离 · 按规则 Quarantine by rule</h2>")
        parts.append(
            table(
                queries.by_rule(quarantine),
                {
                    "rule": "规则 Rule",
                    "message_zh": "说明",
                    "message_en": "Message",
                    "issues": "问题 Issues",
                    "open": "待处理 Open",
                },
            )
        )
        parts.append("<h2>隔离的行 Quarantined rows</h2>")
        parts.append(_issue_table(quarantine, base))
        parts.append("<h2>警告 Warnings</h2>")
        parts.append(_issue_table(warnings, base, mark_reviewed=True))
        parts.append("<h2>文件 Files</h2>")
        parts.append(
            table(
                files.head(MAX_ROWS),
                {
                    "file_name": "文件名 File",
                    "status": "状态 Status",
                    "rows_received": "收到 Received",
                    "rows_accepted": "接受 Accepted",
                    "rows_quarantined": "隔离 Quarantined",
                    "message": "说明 Message",
                },
            )
        )
        return HTMLResponse(page(f"{p} 审核 Review", "".join(parts), root=r))

    @app.get("/api/runs/{period}")
    def day_json(period: str, steward: StewardDep) -> dict[str, Any]:
        p = day(period)
        eng = backend.engine
        return {
            "period": p,
            "quarantine": _records(queries.issues(eng, p, steward.scopes, "quarantine")),
            "warnings": _records(queries.issues(eng, p, steward.scopes, "warning")),
            "files": _records(queries.ledger(eng, p, steward.scopes)),
        }

    @app.get("/runs/{period}/units/{unit_code}", response_class=HTMLResponse)
    def unit_page(
        request: Request, period: str, unit_code: str, steward: StewardDep
    ) -> HTMLResponse:
        p = day(period)
        check_scope(unit_code, steward.scopes)
        base = f"{root(request)}/runs/{p}"
        parts = []
        for kind, title in (("quarantine", "隔离 Quarantine"), ("warning", "警告 Warnings")):
            found = queries.issues(backend.engine, p, steward.scopes, kind)
            found = found[found["unit_code"] == unit_code]
            parts.append(f"<h2>{title}</h2>")
            parts.append(_issue_table(found, base, mark_reviewed=kind == "warning"))
        return HTMLResponse(page(f"{p} · {unit_code}", "".join(parts), root=root(request)))

    @app.get("/runs/{period}/row", response_class=HTMLResponse)
    def row_page(
        request: Request,
        period: str,
        file_id: str,
        row_number: int,
        steward: StewardDep,
        sheet: str = "",
    ) -> HTMLResponse:
        p = day(period)
        found = _scoped_row(p, file_id, sheet, row_number, steward)
        first = found.iloc[0]
        base = f"{root(request)}/runs/{p}"
        key = {"file_id": file_id, "sheet": sheet, "row_number": row_number}
        catalogue = backend.catalogue
        parts = [
            f"<p>单位 Unit: <b>{e(first['unit_code'])}</b> {e(first['unit_name'])} · "
            f"原始文件 Original file: <b>{e(first['file_name'])}</b>"
            f"{' · 工作表 sheet ' + e(sheet) if sheet else ''} · 第 {e(row_number)} 行 row</p>"
        ]
        parts.append("<h2>问题 Issues</h2>")
        parts.append(_issue_table(found, base, mark_reviewed=True, link=False))
        for _, issue in found[found["severity"] == "error"].iterrows():
            parts.append(
                f'<form method="post" action="{e(base)}/accept" class="accept">'
                + hidden({**key, "rule": issue["rule"]})
                + f"接受 Accept <b>{e(issue['rule'])}</b> = {e(issue['value'])}: "
                '<textarea name="justification" required placeholder="理由 Justification">'
                '</textarea> <button type="submit">接受 Accept</button></form>'
            )
        columns = [*catalogue.codes]
        labels = {i.code: i.zh for i in catalogue.indicators}
        preselect = next((str(c) for c in found["column"] if c in labels), columns[0])
        options = "".join(
            f'<option value="{e(c)}"{" selected" if c == preselect else ""}>'
            f"{e(labels[c])} ({e(c)})</option>"
            for c in columns
        )
        parts.append(
            f'<h2>更正 Correct</h2><form method="post" action="{e(base)}/correct" id="correct">'
            + hidden(key)
            + f'<select name="column">{options}</select> 新值 New value: '
            '<input type="text" name="new_value" required> '
            '<input type="text" name="justification" placeholder="说明 Note"> '
            '<button type="submit">提交更正 Submit correction</button></form>'
            '<p class="note">更正作为新版本写入当日收件箱，原始文件不变；重新运行此日后生效。'
            " A correction is a new revision in the day's inbox; the original file is never"
            " edited; it takes effect when the day is re-run.</p>"
        )
        parts.append(
            f'<h2>退回 Reject</h2><form method="post" action="{e(base)}/reject">'
            + hidden(key)
            + '<textarea name="justification" required placeholder="退回原因 Reason"></textarea>'
            ' <button type="submit">退回并要求重报 Reject, ask to resubmit</button></form>'
        )
        original = _original(p, file_id, str(first["file_name"]), sheet, row_number)
        parts.append("<h2>原始行 Original row</h2>")
        if original is None:
            parts.append('<p class="note">原始文件不在存储中 Original file not in the store</p>')
        else:
            flagged = set(found["column"].dropna().astype(str))
            shown = pd.DataFrame(
                {
                    "code": columns,
                    "label": [labels[c] for c in columns],
                    "value": [original.get(c) for c in columns],
                }
            )
            parts.append(
                table(
                    shown,
                    {"code": "代码 Code", "label": "指标 Indicator", "value": "值 Value"},
                    row_class=["bad" if c in flagged else "" for c in columns],
                )
            )
        title = f"{p} · {first['unit_code']} · 行 row"
        return HTMLResponse(page(title, "".join(parts), root=root(request)))

    @app.get("/runs/{period}/audit", response_class=HTMLResponse)
    def audit_page(request: Request, period: str, steward: StewardDep) -> HTMLResponse:
        p = day(period)
        acts = queries.actions(backend.engine, p, steward.scopes)
        cols = {c: c for c in store.ACTION_COLUMNS if c not in ("id", "file_id", "period")}
        return HTMLResponse(
            page(f"{p} 审核记录 Audit trail", table(acts, cols), root=root(request))
        )

    @app.get("/runs/{period}/totals", response_class=HTMLResponse)
    def totals_page(
        request: Request, period: str, steward: StewardDep, indicator: str | None = None
    ) -> HTMLResponse:
        """Township, county and city totals of one indicator, as published for the day."""
        p = day(period)
        catalogue = backend.catalogue
        code = _indicator(catalogue, indicator)
        found = queries.totals(backend.engine, p, code, steward.scopes)
        labels = {i.code: i.zh for i in catalogue.indicators}
        options = "".join(
            f'<option value="{e(i.code)}"{" selected" if i.code == code else ""}>'
            f"{e(i.zh)} ({e(i.code)})</option>"
            for i in catalogue.numeric
        )
        level = {2: "市 city", 3: "县区 county", 4: "乡镇 township"}
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
                    "level": lambda rec: e(level.get(int(rec["level"]), rec["level"])),
                    "value": lambda rec: (
                        f'<span class="total" id="total-{e(rec["unit_code"])}">'
                        f"{e(_number(rec['value']))}</span>"
                    ),
                },
            )
            + f'<p><a href="{e(root(request))}/runs/{e(p)}">返回 Back</a></p>'
        )
        return HTMLResponse(page(f"{p} 汇总 Totals", body, root=root(request)))

    @app.get("/api/runs/{period}/totals")
    def totals_json(
        period: str, steward: StewardDep, indicator: str | None = None
    ) -> list[dict[str, Any]]:
        code = _indicator(backend.catalogue, indicator)
        return _records(queries.totals(backend.engine, day(period), code, steward.scopes))

    @app.get("/api/runs/{period}/audit")
    def audit_json(period: str, steward: StewardDep) -> list[dict[str, Any]]:
        return _records(queries.actions(backend.engine, day(period), steward.scopes))

    @app.get("/runs/{period}/data-docs/{path:path}")
    def data_docs(period: str, path: str, steward: StewardDep) -> Response:
        p = day(period)
        if not queries.period_in_scope(backend.engine, p, steward.scopes):
            raise ScopeError("Data Docs cover units outside your assignment")
        base = (backend.settings.home / "data_docs" / p).resolve()
        target = (base / (path or "index.html")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(base) or not target.is_file():
            raise HTTPException(404, "no such Data Docs page")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/"):
            kind += "; charset=utf-8"
        return FileResponse(target, media_type=kind)

    # ---- actions -----------------------------------------------------------------------

    def act(
        request: Request,
        period: str,
        steward: Steward,
        action: Callable[..., dict[str, Any]],
        **fields: Any,
    ) -> Response:
        """Run one steward action as this user and answer with the row (JSON) or its page."""
        same_origin(request)
        row = action(
            backend.engine,
            backend.settings,
            username=steward.username,
            period=day(period),
            **fields,
        )
        return _done(request, row)

    @app.post("/runs/{period}/accept")
    def accept_action(
        request: Request,
        period: str,
        steward: StewardDep,
        file_id: Text,
        row_number: Annotated[int, Form()],
        rule: Text,
        justification: Annotated[str, Form()] = "",
        sheet: Annotated[str, Form()] = "",
    ) -> Response:
        return act(
            request,
            period,
            steward,
            actions.accept,
            file_id=file_id,
            sheet=sheet,
            row_number=row_number,
            rule=rule,
            justification=justification,
        )

    @app.post("/runs/{period}/correct")
    def correct_action(
        request: Request,
        period: str,
        steward: StewardDep,
        file_id: Text,
        row_number: Annotated[int, Form()],
        column: Text,
        new_value: Annotated[str, Form()] = "",
        justification: Annotated[str, Form()] = "",
        sheet: Annotated[str, Form()] = "",
    ) -> Response:
        return act(
            request,
            period,
            steward,
            actions.correct,
            file_id=file_id,
            sheet=sheet,
            row_number=row_number,
            column=column,
            new_value=new_value,
            justification=justification,
        )  # correct() loads the catalogue from the same settings, after the origin check

    @app.post("/runs/{period}/reject")
    def reject_action(
        request: Request,
        period: str,
        steward: StewardDep,
        file_id: Text,
        row_number: Annotated[int, Form()],
        justification: Annotated[str, Form()] = "",
        sheet: Annotated[str, Form()] = "",
    ) -> Response:
        return act(
            request,
            period,
            steward,
            actions.reject,
            file_id=file_id,
            sheet=sheet,
            row_number=row_number,
            justification=justification,
        )

    @app.post("/runs/{period}/mark-reviewed")
    def mark_reviewed_action(
        request: Request,
        period: str,
        steward: StewardDep,
        file_id: Text,
        row_number: Annotated[int, Form()],
        rule: Text,
        sheet: Annotated[str, Form()] = "",
        justification: Annotated[str, Form()] = "",
    ) -> Response:
        return act(
            request,
            period,
            steward,
            actions.mark_reviewed,
            file_id=file_id,
            sheet=sheet,
            row_number=row_number,
            rule=rule,
            justification=justification,
        )

    @app.post("/runs/{period}/rerun")
    def rerun_action(request: Request, period: str, steward: StewardDep) -> Response:
        """Trigger the nightly DAG for this day through Airflow's public API, as this user."""
        same_origin(request)
        p = day(period)
        if not steward.scopes:
            raise ScopeError("no units assigned")
        token = _token(request)
        try:
            resp = httpx.post(
                f"{api_url}/api/v2/dags/{DAG_ID}/dagRuns",
                json={"logical_date": None, "conf": {"day": p}},
                headers={"Authorization": f"Bearer {token}"},
                timeout=15.0,
            )
        except httpx.HTTPError as exc:
            raise HTTPException(502, f"Airflow API unreachable: {exc}") from None
        if resp.status_code >= 400:
            raise HTTPException(resp.status_code, f"Airflow refused the run: {resp.text[:500]}")
        run = resp.json()
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"dag_id": DAG_ID, "dag_run_id": run.get("dag_run_id")})
        body = (
            f'<p class="msg" id="rerun-started">已触发 Triggered {e(DAG_ID)} '
            f"run <b>{e(run.get('dag_run_id'))}</b> for {e(p)}.</p>"
            f'<p><a href="{e(root(request))}/runs/{e(p)}">返回 Back</a> · '
            f'<a href="{e(root(request))}/runs/{e(p)}/totals">汇总 Totals</a></p>'
        )
        return HTMLResponse(page(f"{p} 重新运行 Re-run", body, root=root(request)))

    # ---- helpers -------------------------------------------------------------------------

    def _scoped_row(
        p: str, file_id: str, sheet: str, row_number: int, steward: Steward
    ) -> pd.DataFrame:
        found = queries.row_issues(backend.engine, p, file_id, sheet, row_number)
        if found.empty:
            raise actions.NotFound("no issue for that row")
        for code in found["unit_code"].drop_duplicates():
            check_scope(None if pd.isna(code) else str(code), steward.scopes)
        return found

    def _original(
        p: str, file_id: str, file_name: str, sheet: str, row_number: int
    ) -> pd.Series | None:
        try:
            return original_row(
                backend.settings,
                backend.catalogue,
                file_id=file_id,
                file_name=file_name,
                sheet=sheet,
                row_number=row_number,
            )
        except Exception:  # an unreadable original must not hide the review page
            return None

    def _issue_table(
        found: pd.DataFrame, base: str, *, mark_reviewed: bool = False, link: bool = True
    ) -> str:
        shown = found.head(MAX_ROWS)

        def row_link(rec: pd.Series) -> str:
            q = urlencode(
                {"file_id": rec["file_id"], "sheet": rec["sheet"], "row_number": rec["row_number"]}
            )
            label = f"{e(rec['file_name'])} #{e(rec['row_number'])}"
            return f'<a href="{e(base)}/row?{e(q)}">{label}</a>' if link else label

        def status(rec: pd.Series) -> str:
            out = f'<span class="{e(rec["status"])}">{e(rec["status"])}</span>'
            if rec["status"] != "open":
                out += f' <span class="note">{e(rec["status_by"])}: {e(rec["status_note"])}</span>'
            if mark_reviewed and rec["severity"] == "warning" and rec["status"] == "open":
                out += (
                    f'<form method="post" action="{e(base)}/mark-reviewed" class="inline">'
                    + hidden(
                        {
                            "file_id": rec["file_id"],
                            "sheet": rec["sheet"],
                            "row_number": rec["row_number"],
                            "rule": rec["rule"],
                        }
                    )
                    + ' <button type="submit">已审 Mark reviewed</button></form>'
                )
            return out

        more = (
            f'<p class="note">{len(found) - MAX_ROWS} more rows: see the JSON view</p>'
            if len(found) > MAX_ROWS
            else ""
        )
        return (
            table(
                shown,
                {
                    "unit_code": "单位 Unit",
                    "unit_name": "名称 Name",
                    "row": "原始文件与行 File and row",
                    "column": "字段 Field",
                    "value": "值 Value",
                    "rule": "规则 Rule",
                    "message_zh": "说明",
                    "message_en": "Message",
                    "status": "状态 Status",
                },
                cells={"row": row_link, "status": status},
            )
            + more
        )

    def _done(request: Request, row: dict[str, Any]) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({k: v for k, v in row.items()})
        q = urlencode(
            {"file_id": row["file_id"], "sheet": row["sheet"], "row_number": row["row_number"]}
        )
        return RedirectResponse(f"{root(request)}/runs/{row['period']}/row?{q}", status_code=303)

    return app


def _indicator(catalogue: Catalogue, indicator: str | None) -> str:
    """The requested numeric indicator, default the catalogue's first (400 if unknown)."""
    numeric = [i.code for i in catalogue.numeric]
    code = indicator or numeric[0]
    if code not in numeric:
        raise HTTPException(400, f"not a numeric indicator: {code!r}")
    return code


def _number(value: object) -> str:
    """A total as the clerk writes it: integers without ``.0``; blank when not reported."""
    if value is None or pd.isna(value):
        return ""
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _token(request: Request) -> str:
    """The caller's own Airflow JWT, forwarded so the run is triggered as this user."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(TOKEN_COOKIE, "")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records (NA → null, numpy scalars → Python)."""
    if frame.empty:
        return []
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
        for rec in clean.to_dict(orient="records")
    ]


def data_docs_dir(settings: Settings, period: date | str) -> Path:
    return settings.home / "data_docs" / store.period_text(period)
