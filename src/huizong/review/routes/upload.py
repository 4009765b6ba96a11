"""Clerks' upload page: choose the day, upload the filled template, see at once what the
night will say of it, fix and send again before the deadline.

A clerk is an Airflow user assigned their unit with ``huizong review assign`` (like a
steward, scoped to their subtree): uploading for a unit outside it, or a file with rows
of such a unit, is 403 and nothing is kept. The check is exactly ``huizong validate``'s
(:func:`huizong.validate.files.validate_files`, the night's reader and rules), so every
problem comes in Chinese and English with its row and column. The file is then deposited
into the day's inbox as an upload (receipt time = now, sender = the clerk) and the page
shows its receipt (回执, :func:`huizong.intake.receipt.upload_receipt`: the same text the
mail receipt has); a later upload for the same unit and day supersedes it at night, so
only the fix counts.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from huizong.ingest import receipts
from huizong.intake.arrivals import Arrival, deposit, safe_file_name
from huizong.intake.receipt import upload_receipt
from huizong.review.deps import BackendDep, CsrfDep, DayDep, Steward, StewardDep, ViewDep
from huizong.review.deps import day as store_day
from huizong.review.html import e, page, table
from huizong.review.scopes import ScopeError, in_scope, unit_in_scope
from huizong.settings import TIMEZONE, Settings

router = APIRouter()
_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@router.get("/upload/{period}", response_class=HTMLResponse)
def upload_form(
    p: DayDep, steward: StewardDep, backend: BackendDep, v: ViewDep, day: str | None = None
) -> Response:
    if day and day != p:  # the day chooser below: go to that day's page
        return RedirectResponse(v.url(f"/upload/{store_day(day)}"), status_code=303)
    from huizong.registry import registry_for

    names = registry_for(backend.settings).names_of(steward.scopes)
    units = "，".join(f"{u} {names.get(u, '')}".strip() for u in steward.scopes) or "无 none"
    own = steward.scopes[0] if len(steward.scopes) == 1 else ""
    choose = (
        f'<form method="get" action="{e(v.url("/upload/" + p))}" id="choose-day">'
        f'<label>报告日期 Reporting day: <input type="date" name="day" id="day" value="{e(p)}">'
        '</label> <button type="submit">选择 Choose</button>'
        f' <a href="{e(v.url("/upload/" + _today()))}">今天 Today</a></form>'
    )
    options = "".join(
        f'<option value="{e(u)}" label="{e(names.get(u, ""))}">' for u in steward.scopes
    )
    form = v.form(
        f"/upload/{p}",
        {},
        '<p><label>单位代码 Unit code: <input name="unit_code" id="unit_code" required '
        f'list="my-units" value="{e(own)}"></label><datalist id="my-units">{options}</datalist>'
        "</p>"
        '<p><label>文件 File (.xlsx/.csv): <input type="file" name="file" id="file" required>'
        '</label></p><p><button type="submit" id="send">上传并检查 Upload and check</button></p>',
        enctype="multipart/form-data",
    )
    body = (
        choose
        + f"<p>上报 {e(p)} 的报表；你的单位 your units: {e(units)}</p>"
        + form
        + '<p class="note">上传后立即显示回执：收到时间、通过与隔离的行及原因、截止时间。'
        "截止前可更正后重新上传，以最后一次为准。 / The receipt shows at once: time received, "
        "rows accepted and quarantined and why, the deadline. Before it, correct and upload "
        "again: the last upload counts.</p>"
        + "<h2>本日已上传 Uploads for this day</h2>"
        + table(
            _uploads(backend.settings, date.fromisoformat(p), steward.scopes),
            {
                "received": "收到时间 Received",
                "file": "文件 File",
                "unit": "单位 Unit",
                "sender": "上传人 By",
            },
        )
    )
    return HTMLResponse(page(f"{p} 上报 Upload", body, root=v.root))


@router.post("/upload/{period}", response_class=HTMLResponse, dependencies=[CsrfDep])
async def upload(
    request: Request, p: DayDep, steward: StewardDep, backend: BackendDep, v: ViewDep
) -> HTMLResponse:
    form = await request.form()
    unit = str(form.get("unit_code") or "").strip()
    if not unit_in_scope(unit, steward.scopes):  # 403 before anything is read or kept
        raise ScopeError("该单位不在你的上报范围内 / this unit is outside your assigned units")
    sent = form.get("file")
    if sent is None or isinstance(sent, str):
        return HTMLResponse(
            page("请求有误 / Bad request", "<p>没有文件 / no file</p>", root=v.root), 400
        )
    data = await sent.read(_MAX_UPLOAD_BYTES + 1)
    if len(data) > _MAX_UPLOAD_BYTES:
        return HTMLResponse(
            page("文件过大 / Too large", "<p>上限 50 MiB / limit 50 MiB</p>", root=v.root), 413
        )
    received = datetime.now(ZoneInfo(TIMEZONE))  # the receipt time: the upload, not the check
    name = safe_file_name(sent.filename or "upload.xlsx")
    # reading and validating take seconds: off the event loop, so the api-server (and
    # Airflow's UI in it) keeps answering meanwhile
    day = date.fromisoformat(p)
    code, check, receipt = await run_in_threadpool(
        _check_and_keep, data, name, unit, steward, backend.settings, day, received
    )
    verdict = (
        "<p id='verdict' class='verdict ok'>检查通过，已收到 / passed the checks; received</p>"
        if code == 0
        else "<p id='verdict' class='verdict bad'>有错误：请更正后重新上传（以最后一次为准）/ "
        "errors: correct them and upload again (the last upload counts)</p>"
    )
    body = (
        verdict
        + "<h2>回执 Receipt</h2>"
        + f"<pre id='receipt' class='receipt'>{e(receipt)}</pre>"
        + "<h2>检查明细 Check details (huizong validate)</h2>"
        + f"<pre id='problems' class='check'>{e(check)}</pre>"
        + f'<p><a href="{e(v.url("/upload/" + p))}">再上传 Upload again</a></p>'
    )
    return HTMLResponse(page(f"{p} 上报结果 Upload result", body, root=v.root))


def _uploads(settings: Settings, day: date, scopes: tuple[str, ...]) -> pd.DataFrame:
    """The day's uploads for the clerk's units, from the receipt book, oldest first."""
    book = receipts.read_book(receipts.book_path(settings.inbox_for(day))).values()
    tz = ZoneInfo(TIMEZONE)
    mine = [
        {
            "received": r.timestamp.tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S"),
            "file": r.source.rsplit("/", 1)[-1],
            "unit": r.sender_unit,
            "sender": r.sender,
        }
        for r in sorted(book, key=lambda r: r.timestamp)
        if r.channel == receipts.UPLOAD and unit_in_scope(r.sender_unit, scopes)
    ]
    return pd.DataFrame(mine, columns=["received", "file", "unit", "sender"])


def _check_and_keep(
    data: bytes,
    name: str,
    unit: str,
    steward: Steward,
    settings: Settings,
    day: date,
    received: datetime,
) -> tuple[int, str, str]:
    """Check the file as ``huizong validate`` does (403 first if it holds another unit's
    rows), deposit it as an upload, and write its receipt: (exit code, check, receipt)."""
    from huizong.validate.files import validate_files

    with tempfile.TemporaryDirectory(prefix="huizong-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        _check_units(path, steward.scopes, settings)
        out = io.StringIO()
        code = validate_files([path], day, settings, out=out)
    arrival = Arrival(
        data,
        name,
        received,
        receipts.UPLOAD,
        sender=steward.username,
        ref=f"upload:{uuid.uuid4().hex}",
        sender_unit=unit,
    )
    kept = deposit(arrival, settings, day=day)
    return code, out.getvalue(), upload_receipt(kept.path, day, settings, now=received)


def _check_units(path: Path, scopes: tuple[str, ...], settings: Settings) -> None:
    """Every unit code in the file must be the clerk's own (403 otherwise, nothing kept)."""
    import pandas as pd

    from huizong.catalogue import load_catalogue
    from huizong.ingest import SubmissionRejected, read_submission

    try:
        sub = read_submission(
            path,
            load_catalogue(settings.form),
            file_id="upload",
            file_name=path.name,
            received_at=pd.Timestamp.now(tz="UTC"),
        )
    except SubmissionRejected:
        return  # unreadable: validate_files says why, in both languages
    codes = sub.rows["unit_code"].dropna().astype("str")
    if len(codes) and not in_scope(codes, scopes).all():
        raise ScopeError("文件中有不属于你的单位的数据 / the file has rows of units outside yours")


def _today() -> str:
    return datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()
