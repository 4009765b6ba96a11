"""Runs and days: the list of published days, one day's issues and files, one unit's
issues, and the day's Great Expectations Data Docs."""

from __future__ import annotations

import mimetypes
from datetime import date
from typing import Any

import pandas as pd
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

from huizong.display import local_time, named_by_file, shown_file_names
from huizong.review import queries, store
from huizong.review.datadocs import NoScopedDocs, scoped_docs
from huizong.review.deadline_lists import deadline_section, lists_in_scope
from huizong.review.deps import Backend, BackendDep, DayDep, StewardDep, ViewDep
from huizong.review.html import e, page, table
from huizong.review.original import shown_original
from huizong.review.scopes import ScopeError, check_scope
from huizong.review.views import (
    FILE_STATUS_LABELS,
    MAX_ROWS,
    completeness_section,
    duplicates_section,
    issue_table,
    missing_section,
    named,
    records,
    rule_cell,
)

#: The day page and the docs route before ``huizong_data_docs`` has built the day's site
#: (it runs after the night validated the day, beside the roll-up).
DOCS_PENDING = (
    "数据文档尚未生成：当日校验完成后由 huizong_data_docs 生成，请稍后刷新 / Data Docs not "
    "built yet: huizong_data_docs builds them once the day is validated; reload shortly"
)

router = APIRouter()

#: GX's pages run their own inline scripts (tables, filters) from bundled files; they may
#: still not post forms, fetch anything or be framed by another site.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'none'; form-action 'none'; "
    "frame-ancestors 'self'; base-uri 'none'"
)


@router.get("/", response_class=HTMLResponse, name="runs")
def runs_page(steward: StewardDep, backend: BackendDep, v: ViewDep) -> HTMLResponse:
    found = queries.runs(backend.engine, steward.scopes, backend.registry.root)
    names = store.unit_names(backend.engine, steward.scopes)
    units = ", ".join(named(c, names) for c in steward.scopes) or "—"
    body = (
        f'<p class="note">用户 User: {e(steward.username)} · 负责单位 Units: {e(units)}'
        f' · <a href="{e(v.url("/downloads/"))}" id="downloads-link">汇总下载 Downloads</a></p>'
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
                    f'<a href="{e(v.url("/runs/" + rec["period"]))}">{e(rec["period"])}</a>'
                )
            },
        )
    )
    return HTMLResponse(page("审核 · 运行 Runs", body, root=v.root))


@router.get("/api/runs")
def runs_json(steward: StewardDep, backend: BackendDep) -> list[dict[str, Any]]:
    return records(queries.runs(backend.engine, steward.scopes, backend.registry.root))


@router.get("/runs/{period}", response_class=HTMLResponse)
def day_page(p: DayDep, steward: StewardDep, backend: BackendDep, v: ViewDep) -> HTMLResponse:
    eng = backend.engine
    quarantine = queries.issues(eng, p, steward.scopes, "quarantine")
    warnings = queries.issues(eng, p, steward.scopes, "warning")
    files = queries.ledger(eng, p, steward.scopes, backend.registry.root)
    # a correction's rows read by the name of the file it revises, as the files table does
    acted = store.actions_for(eng, p)
    quarantine = named_by_file(quarantine, files, acted)
    warnings = named_by_file(warnings, files, acted)
    files["file_name"] = shown_file_names(files, acted)
    base = f"/runs/{p}"
    docs = backend.settings.data_docs_dir(date.fromisoformat(p))
    parts = []
    if (docs / "index.html").is_file() and steward.scopes:
        whole = queries.period_in_scope(eng, p, steward.scopes)
        label = "数据文档 Data Docs" if whole else "数据文档（仅本辖区） Data Docs (your units)"
        parts.append(
            f'<p><a href="{e(v.url(base))}/data-docs/" id="data-docs-link">{label}</a></p>'
        )
    elif steward.scopes:
        parts.append(f'<p class="note" id="data-docs-pending">{e(DOCS_PENDING)}</p>')
    parts.append(
        v.form(
            f"{base}/rerun",
            {},
            '<input type="text" name="justification" id="rerun-why" required'
            ' placeholder="原因 Reason"> '
            '<button type="submit" id="rerun">重新运行此日 Re-run this day</button>',
            class_="inline",
        )
        + f' <a href="{e(v.url(base))}/audit">审核记录 Audit trail</a>'
        f' <a href="{e(v.url(base))}/totals" id="totals-link">汇总 Totals</a>'
    )
    comp = queries.completeness(eng, p, steward.scopes)
    parts.insert(0, completeness_section(comp))
    parts.insert(1, deadline_section(*lists_in_scope(eng.url, p, steward.scopes)))
    parts.insert(0, _day_nav(p, v))
    dups = queries.duplicates(eng, p, steward.scopes)
    originals = [shown_original(backend.settings, backend.catalogue, r) for _, r in dups.iterrows()]
    parts.append(duplicates_section(dups, originals, backend.catalogue, base, v))
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
                    f'<a href="{e(v.url(base))}/units/{e(rec["unit_code"])}">'
                    f"{e(rec['unit_code'])}</a>"
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
            cells={"rule": rule_cell(backend.catalogue)},
        )
    )
    parts.append("<h2>隔离的行 Quarantined rows</h2>")
    parts.append(issue_table(quarantine, base, v, catalogue=backend.catalogue))
    parts.append("<h2>警告 Warnings</h2>")
    parts.append(issue_table(warnings, base, v, mark_reviewed=True, catalogue=backend.catalogue))
    # after the actions, collapsed: a city's hundreds of missing units come last but one
    missing = queries.missing_reporters(eng, p, steward.scopes)
    names = store.unit_names(eng, [*missing["township_code"], *missing["parent_code"]])
    parts.append(missing_section(missing, names, published=not comp.empty))
    parts.append("<h2>文件 Files</h2>")
    parts.append(
        table(
            _timed(files.head(MAX_ROWS), p, backend),
            {
                "file_name": "文件名 File",
                "received": "收到时间 Received (北京时间)",
                "timeliness": "及时/迟报 On time",
                "status": "状态 Status",
                "rows_received": "收到 Received",
                "rows_accepted": "接受 Accepted",
                "rows_quarantined": "隔离 Quarantined",
                "rows_superseded": "被取代 Superseded",
                "message": "说明 Message",
            },
            cells={"status": lambda r: e(FILE_STATUS_LABELS.get(r["status"], r["status"]))},
        )
    )
    return HTMLResponse(page(f"{p} 审核 Review", "".join(parts), root=v.root))


def _timed(files: pd.DataFrame, p: str, backend: Backend) -> pd.DataFrame:
    """The files with their arrival in Beijing time and 及时/迟报 by their level's deadline
    (:func:`huizong.intake.config.deadlines_of`, the one setting the receipt and the
    night read)."""
    from huizong.intake.config import deadlines_of
    from huizong.intake.receipt import department_codes

    deadlines = deadlines_of(backend.settings)
    out = files.copy()
    out["received"] = [local_time(t) for t in out["received_at"]]
    out["timeliness"] = queries.file_timeliness(
        out, date.fromisoformat(p), deadlines, department_codes(backend.registry)
    )
    return out


def _day_nav(p: str, v: ViewDep) -> str:
    """Every page of the day, first on the page: a steward should not scroll to find them."""
    links = (
        ("totals", "汇总 Totals"),
        ("audit", "审核记录 Audit trail"),
        ("versions", "版本与确认上报 Versions and sign-off"),
        ("changes", "更正说明 Changes"),
    )
    items = [f'<a href="{e(v.url(f"/runs/{p}/{path}"))}">{label}</a>' for path, label in links]
    items.append(f'<a href="{e(v.url(f"/upload/{p}"))}">上传 Upload</a>')
    return f'<p class="nav" id="day-nav">{" · ".join(items)}</p>'


@router.get("/api/runs/{period}")
def day_json(p: DayDep, steward: StewardDep, backend: BackendDep) -> dict[str, Any]:
    eng = backend.engine
    return {
        "period": p,
        "quarantine": records(queries.issues(eng, p, steward.scopes, "quarantine")),
        "warnings": records(queries.issues(eng, p, steward.scopes, "warning")),
        "files": records(queries.ledger(eng, p, steward.scopes, backend.registry.root)),
        "completeness": records(queries.completeness(eng, p, steward.scopes)),
        "missing": records(queries.missing_reporters(eng, p, steward.scopes)),
        "deadline_missing": records(lists_in_scope(eng.url, p, steward.scopes)[1]),
    }


@router.get("/runs/{period}/units/{unit_code}", response_class=HTMLResponse)
def unit_page(
    p: DayDep, unit_code: str, steward: StewardDep, backend: BackendDep, v: ViewDep
) -> HTMLResponse:
    check_scope(unit_code, steward.scopes)
    base = f"/runs/{p}"
    parts = []
    for kind, title in (("quarantine", "隔离 Quarantine"), ("warning", "警告 Warnings")):
        found = queries.issues(backend.engine, p, steward.scopes, kind)
        found = found[found["unit_code"] == unit_code]
        parts.append(f"<h2>{title}</h2>")
        parts.append(
            issue_table(
                found, base, v, mark_reviewed=kind == "warning", catalogue=backend.catalogue
            )
        )
    return HTMLResponse(page(f"{p} · {unit_code}", "".join(parts), root=v.root))


@router.get("/runs/{period}/data-docs/{path:path}")
def data_docs(p: DayDep, path: str, steward: StewardDep, backend: BackendDep) -> Response:
    """The day's Data Docs: the night's site to a steward whose scope covers every unit of
    the day, a site of their own units' rows to anyone else (``huizong.review.datadocs``)."""
    if not steward.scopes:
        raise ScopeError("没有分配单位 / no units are assigned to you")
    if queries.period_in_scope(backend.engine, p, steward.scopes):
        base = backend.settings.data_docs_dir(date.fromisoformat(p)).resolve()
        if not (base / "index.html").is_file():
            raise HTTPException(404, DOCS_PENDING)
    else:
        try:
            base = scoped_docs(backend.settings, backend.catalogue, p, steward.scopes).resolve()
        except NoScopedDocs as exc:
            raise HTTPException(404, str(exc)) from None
    target = (base / (path or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(base) or not target.is_file():
        raise HTTPException(404, "没有这个数据文档页面 / no such Data Docs page")
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/"):
        kind += "; charset=utf-8"
    return FileResponse(target, media_type=kind, headers={"Content-Security-Policy": DOCS_CSP})
