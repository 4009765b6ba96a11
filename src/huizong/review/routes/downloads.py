"""汇总下载 Downloads: each assigned unit's published days, each as workbook and 情况汇报.

The file route takes a unit code, a period label and a format from a fixed set — never a
path — and checks the unit against the user's scope before anything is read (403).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from huizong.periods import parse_period, week_start_from_env
from huizong.review import downloads
from huizong.review.deps import BackendDep, StewardDep, ViewDep
from huizong.review.html import e, page
from huizong.review.scopes import check_scope

router = APIRouter()

LINKS = (
    ("xlsx", "汇总表 Workbook (.xlsx)"),
    ("docx", "情况汇报 Report (.docx)"),
    ("txt", "情况汇报 Report (.txt)"),
)


@router.get("/downloads/", response_class=HTMLResponse)
def downloads_page(steward: StewardDep, backend: BackendDep, v: ViewDep) -> HTMLResponse:
    names = backend_names(backend)
    parts = []
    for unit in steward.scopes:
        days = downloads.published_days(backend.engine, unit)
        rows = "".join(
            f"<tr><td>{e(d)}</td><td>"
            + " · ".join(
                f'<a href="{e(v.url(f"/downloads/{unit}/{d}/{fmt}"))}">{e(label)}</a>'
                for fmt, label in LINKS
            )
            + "</td></tr>"
            for d in days
        )
        parts.append(
            f"<h2>{e(names.get(unit, unit))} ({e(unit)})</h2>"
            + (
                f"<table><tr><th>日期 Day</th><th>下载 Download</th></tr>{rows}</table>"
                if rows
                else "<p>尚无已发布的数据 / nothing published yet</p>"
            )
        )
    if not parts:
        parts.append("<p>您没有被分配单位 / no units are assigned to you</p>")
    return HTMLResponse(page("汇总下载 Downloads", "".join(parts), root=v.root))


def backend_names(backend: BackendDep) -> dict[str, str]:
    from huizong.registry import registry_for

    return {str(k): str(n) for k, n in registry_for(backend.settings).names().items()}


@router.get("/downloads/{unit_code}/{period}/{fmt}")
def download_file(
    unit_code: str,
    period: str,
    fmt: Literal["xlsx", "docx", "txt"],
    steward: StewardDep,
    backend: BackendDep,
) -> FileResponse:
    check_scope(unit_code, steward.scopes)
    from huizong.registry import registry_for

    try:
        p = parse_period(period, week_start=week_start_from_env())
    except ValueError:
        raise HTTPException(400, f"不是报告期 / not a period: {period!r}") from None
    if p.type == "day" and p.start.isoformat() not in downloads.published_days(
        backend.engine, unit_code
    ):
        raise HTTPException(404, "没有已发布的数据 / nothing published")
    settings = backend.settings
    registry = registry_for(settings)
    url = backend.engine.url.render_as_string(hide_password=False)  # the app's warehouse
    try:
        path = downloads.build(settings.home, url, unit_code, p, fmt, registry, backend.catalogue)
    except (FileNotFoundError, ValueError):
        raise HTTPException(404, "没有已发布的数据 / nothing published") from None
    name = str(registry.names().get(unit_code, unit_code))
    zh, fallback = downloads.file_names(name, unit_code, p, fmt)
    return FileResponse(
        path,
        media_type=downloads.FORMATS[fmt][0],
        headers={"Content-Disposition": downloads.content_disposition(zh, fallback)},
    )
