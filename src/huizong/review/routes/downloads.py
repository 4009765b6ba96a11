"""汇总下载 Downloads: for each unit a reader may download, every day, week, 旬 and month
published — with when and by which run — each as workbook and 情况汇报, and the units
right below it (a county's townships) collapsed underneath.

Open to readers (``--role reader``) and stewards alike (:data:`ReaderDep`). The file route
takes a unit code, a period label and a format from a fixed set — never a path — and
checks the unit against the user's units before anything is read (403).

Each file served is logged with the version of each of its days; a period whose day has
a newer version than the user last downloaded says so, linking to that day's change page,
and the day's next workbook counts its 更正说明 from the version last downloaded.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from huizong.periods import parse_period, week_start_of
from huizong.review import downloads
from huizong.review.deps import BackendDep, Reader, ReaderDep, View, ViewDep
from huizong.review.html import e, page
from huizong.review.scopes import check_scope

router = APIRouter()

LINKS = (
    ("xlsx", "汇总表 Workbook (.xlsx)"),
    ("docx", "情况汇报 Report (.docx)"),
    ("txt", "情况汇报 Report (.txt)"),
)
TITLE = "汇总下载 Downloads"


def _nav(reader: Reader, v: View) -> str:
    """Where a downloads page leads: the review pages only for a steward."""
    review = f' · <a href="{e(v.url("/"))}">汇总审核 Review</a>' if reader.is_steward else ""
    return f'<a href="{e(v.url("/downloads/"))}">{e(TITLE)}</a>{review}'


def _page(title: str, reader: Reader, body: str, v: View) -> HTMLResponse:
    user = f'<p class="note">用户 User: {e(reader.username)}</p>'
    return HTMLResponse(page(title, user + body, root=v.root, nav=_nav(reader, v)))


def _newer_notice(p: downloads.Published, seen: dict[tuple[str, str], int], v: View) -> str:
    """有新版本…: each day of the period now newer than the file the user last downloaded,
    with a link to that day's change page."""
    newer = downloads.newer_versions(p.days, seen, p.period.label)
    return "".join(
        f'<p class="newer bad" data-day="{e(n.day)}" data-version="{e(n.version)}"'
        f' data-downloaded="{e(n.downloaded)}">{e(n.text(p.period.type != "day"))} '
        f'<a href="{e(v.url(f"/runs/{n.day}/changes?version={n.version}"))}">'
        "更正说明 What changed</a></p>"
        for n in newer
    )


def _period_table(
    unit: str,
    periods: list[downloads.Published],
    v: View,
    seen: dict[tuple[str, str], int],
) -> str:
    """``seen``: what the user last downloaded of ``unit`` (``downloaded_versions``)."""
    if not periods:
        return '<p class="note">尚无已发布的数据 / nothing published yet</p>'
    rows = []
    for p in periods:
        label = p.period.label
        links = " · ".join(
            f'<a href="{e(v.url(f"/downloads/{unit}/{quote(label)}/{fmt}"))}"'
            f' data-unit="{e(unit)}" data-period="{e(label)}" data-fmt="{e(fmt)}">{e(text)}</a>'
            for fmt, text in LINKS
        )
        rows.append(
            f"<tr><td>{e(p.kind_zh)}</td><td>{e(p.period.title_zh())}<br>"
            f'<span class="note">{e(label)}</span></td><td>{e(p.through)}</td>'
            f"<td>{e(p.published_text())}<br>"
            f'<span class="note">{e(p.publication.run or "—")}</span>'
            f"{_newer_notice(p, seen, v)}</td>"
            f'<td class="links">{links}</td></tr>'
        )
    return (
        "<table><tr><th>类型 Type</th><th>报告期 Period</th><th>数据截至 Through</th>"
        "<th>发布 Published · 运行 Run</th><th class='links'>下载 Download</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _unit_section(
    backend: BackendDep, reader: Reader, code: str, name: str, v: View, week_start: int
) -> str:
    """One unit: its periods, then its units below, each collapsed with their periods."""
    engine = backend.engine
    periods = downloads.unit_periods(engine, code, week_start=week_start)

    def seen(unit: str) -> dict[tuple[str, str], int]:
        return downloads.downloaded_versions(engine, reader.username, unit)

    parts = [
        f'<section class="unit" id="unit-{e(code)}"><h2>'
        f'<a href="{e(v.url(f"/downloads/{code}/"))}">{e(name)}</a> ({e(code)})</h2>',
        _period_table(code, periods, v, seen(code)),
    ]
    below = downloads.child_units(engine, code)
    if below and periods:
        inner = "".join(
            f'<details class="child" id="child-{e(c.code)}"><summary>{e(c.name)} ({e(c.code)})'
            f"</summary>{_period_table(c.code, periods, v, seen(c.code))}</details>"
            for c in below
        )
        parts.append(
            f'<details class="below" id="below-{e(code)}"><summary>下辖单位 Units below '
            f"({len(below)})</summary>{inner}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


@router.get("/downloads/", response_class=HTMLResponse)
def downloads_page(reader: ReaderDep, backend: BackendDep, v: ViewDep) -> HTMLResponse:
    names = backend_names(backend, list(reader.scopes))
    week_start = week_start_of(backend.settings)
    parts = []
    for unit in reader.scopes:
        parts.append(_unit_section(backend, reader, unit, names.get(unit, unit), v, week_start))
    if not reader.scopes:
        parts.append("<p>您没有被分配单位 / no units are assigned to you</p>")
    return _page(TITLE, reader, "".join(parts), v)


@router.get("/downloads/{unit_code}/", response_class=HTMLResponse)
def unit_downloads_page(
    unit_code: str, reader: ReaderDep, backend: BackendDep, v: ViewDep
) -> HTMLResponse:
    """One unit in the reader's scope (e.g. a township of their county) with its units below."""
    check_scope(unit_code, reader.scopes)
    names = backend_names(backend, [unit_code])
    if unit_code not in names:
        raise HTTPException(404, "没有这个单位 / no such unit")
    body = _unit_section(
        backend, reader, unit_code, names[unit_code], v, week_start_of(backend.settings)
    )
    return _page(f"{TITLE} · {names[unit_code]}", reader, body, v)


def backend_names(backend: BackendDep, codes: list[str]) -> dict[str, str]:
    """The names of ``codes`` in the deployment's registry (absent: not in it)."""
    from huizong.registry import registry_for

    return registry_for(backend.settings).names_of(codes)


@router.get("/downloads/{unit_code}/{period}/{fmt}")
def download_file(
    unit_code: str,
    period: str,
    fmt: Literal["xlsx", "docx", "txt"],
    reader: ReaderDep,
    backend: BackendDep,
) -> FileResponse:
    check_scope(unit_code, reader.scopes)
    from huizong.registry import registry_for

    try:
        p = parse_period(period, week_start=week_start_of(backend.settings))
    except ValueError:
        raise HTTPException(400, f"不是报告期 / not a period: {period!r}") from None
    if p.type == "day" and p.start.isoformat() not in downloads.published_days(
        backend.engine, unit_code
    ):
        raise HTTPException(404, "没有已发布的数据 / nothing published")
    settings = backend.settings
    registry = registry_for(settings)
    engine = backend.engine
    url = engine.url.render_as_string(hide_password=False)  # the app's warehouse
    # the versions before the build: a publish in between is then a notice, never missed
    current = downloads.day_versions(downloads.publications(engine), p)
    seen = downloads.downloaded_versions(engine, reader.username, unit_code)
    since = downloads.since_version(seen, p)
    try:
        path = downloads.build(
            settings, url, unit_code, p, fmt, registry, backend.catalogue, since=since
        )
    except (FileNotFoundError, ValueError):
        raise HTTPException(404, "没有已发布的数据 / nothing published") from None
    downloads.record_download(
        engine, username=reader.username, unit_code=unit_code, period=p, fmt=fmt, versions=current
    )
    name = registry.names_of([unit_code]).get(unit_code, unit_code)
    zh, fallback = downloads.file_names(name, unit_code, p, fmt)
    return FileResponse(
        path,
        media_type=downloads.FORMATS[fmt][0],
        headers={"Content-Disposition": downloads.content_disposition(zh, fallback)},
    )
