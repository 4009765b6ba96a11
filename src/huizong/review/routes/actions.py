"""Actions on one received row: its page (issues, original row, the forms) and the four
audited actions — accept, correct, reject, mark reviewed (``huizong.review.actions``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from huizong.review import actions, queries
from huizong.review.deps import (
    Backend,
    BackendDep,
    CsrfDep,
    DayDep,
    Steward,
    StewardDep,
    View,
    ViewDep,
)
from huizong.review.html import e, page, table
from huizong.review.labels import rule_label
from huizong.review.original import original_row
from huizong.review.scopes import check_scope
from huizong.review.views import done, issue_table
from huizong.validate.waivers import is_waivable

router = APIRouter()

Text = Annotated[str, Form()]
Optional = Annotated[str, Form()]
RowNumber = Annotated[int, Form()]


def _scoped_row(
    backend: Backend, p: str, file_id: str, sheet: str, row_number: int, steward: Steward
) -> pd.DataFrame:
    found = queries.row_issues(backend.engine, p, file_id, sheet, row_number)
    if found.empty:
        raise actions.NotFound("没有这一行的问题 / no issue for that row")
    for code in found["unit_code"].drop_duplicates():
        check_scope(None if pd.isna(code) else str(code), steward.scopes)
    return found


def _original(
    backend: Backend, file_id: str, file_name: str, sheet: str, row_number: int
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


@router.get("/runs/{period}/row", response_class=HTMLResponse)
def row_page(
    p: DayDep,
    file_id: str,
    row_number: int,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    sheet: str = "",
) -> HTMLResponse:
    found = _scoped_row(backend, p, file_id, sheet, row_number, steward)
    first = found.iloc[0]
    base = f"/runs/{p}"
    key = {"file_id": file_id, "sheet": sheet, "row_number": row_number}
    catalogue = backend.catalogue
    parts = [
        f"<p>单位 Unit: <b>{e(first['unit_code'])}</b> {e(first['unit_name'])} · "
        f"原始文件 Original file: <b>{e(first['file_name'])}</b>"
        f"{' · 工作表 sheet ' + e(sheet) if sheet else ''} · 第 {e(row_number)} 行 row</p>"
    ]
    parts.append("<h2>问题 Issues</h2>")
    parts.append(
        issue_table(found, base, v, mark_reviewed=True, link=False, catalogue=backend.catalogue)
    )
    errors = found[found["severity"] == "error"]
    waivable = errors["rule"].map(is_waivable).astype(bool)
    if (~waivable).any():
        parts.append(
            '<p class="note" id="no-accept">身份或日期问题不能接受为正确，请更正或退回。'
            " A problem of identity or date cannot be accepted as correct: correct the row"
            " or reject it.</p>"
        )
    for _, issue in errors[waivable].iterrows():
        parts.append(
            v.form(
                f"{base}/accept",
                {**key, "rule": issue["rule"]},
                f"接受 Accept <b>{' / '.join(map(e, rule_label(issue['rule'], catalogue)))}</b>"
                f" = {e(issue['value'])}: "
                '<textarea name="justification" required placeholder="理由 Justification">'
                '</textarea> <button type="submit">接受 Accept</button>',
                class_="accept",
            )
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
        "<h2>更正 Correct</h2>"
        + v.form(
            f"{base}/correct",
            key,
            f'<select name="column">{options}</select> 新值 New value: '
            '<input type="text" name="new_value" required> '
            '<input type="text" name="justification" required placeholder="理由 Justification"> '
            '<button type="submit">提交更正 Submit correction</button>',
            id="correct",
        )
        + '<p class="note">更正作为新版本写入当日收件箱，原始文件不变；重新运行此日后生效。'
        " A correction is a new revision in the day's inbox; the original file is never"
        " edited; it takes effect when the day is re-run.</p>"
    )
    parts.append(
        "<h2>退回 Reject</h2>"
        + v.form(
            f"{base}/reject",
            key,
            '<textarea name="justification" required placeholder="退回原因 Reason"></textarea>'
            ' <button type="submit">退回并要求重报 Reject, ask to resubmit</button>',
        )
    )
    original = _original(backend, file_id, str(first["file_name"]), sheet, row_number)
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
    return HTMLResponse(page(title, "".join(parts), root=v.root))


def _act(
    request: Request,
    p: str,
    steward: Steward,
    backend: Backend,
    v: View,
    action: Callable[..., dict[str, Any]],
    **fields: Any,
) -> Response:
    """Run one steward action as this user and answer with the row (JSON) or its page."""
    row = action(backend.engine, backend.settings, username=steward.username, period=p, **fields)
    return done(request, v, row)


@router.post("/runs/{period}/accept", dependencies=[CsrfDep])
def accept_action(
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    file_id: Text,
    row_number: RowNumber,
    rule: Text,
    justification: Optional = "",
    sheet: Optional = "",
) -> Response:
    return _act(
        request,
        p,
        steward,
        backend,
        v,
        actions.accept,
        file_id=file_id,
        sheet=sheet,
        row_number=row_number,
        rule=rule,
        justification=justification,
    )


@router.post("/runs/{period}/correct", dependencies=[CsrfDep])
def correct_action(
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    file_id: Text,
    row_number: RowNumber,
    column: Text,
    new_value: Optional = "",
    justification: Optional = "",
    sheet: Optional = "",
) -> Response:
    return _act(
        request,
        p,
        steward,
        backend,
        v,
        actions.correct,
        file_id=file_id,
        sheet=sheet,
        row_number=row_number,
        column=column,
        new_value=new_value,
        justification=justification,
    )


@router.post("/runs/{period}/reject", dependencies=[CsrfDep])
def reject_action(
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    file_id: Text,
    row_number: RowNumber,
    justification: Optional = "",
    sheet: Optional = "",
) -> Response:
    return _act(
        request,
        p,
        steward,
        backend,
        v,
        actions.reject,
        file_id=file_id,
        sheet=sheet,
        row_number=row_number,
        justification=justification,
    )


@router.post("/runs/{period}/mark-reviewed", dependencies=[CsrfDep])
def mark_reviewed_action(
    request: Request,
    p: DayDep,
    steward: StewardDep,
    backend: BackendDep,
    v: ViewDep,
    file_id: Text,
    row_number: RowNumber,
    rule: Text,
    sheet: Optional = "",
    justification: Optional = "",
) -> Response:
    return _act(
        request,
        p,
        steward,
        backend,
        v,
        actions.mark_reviewed,
        file_id=file_id,
        sheet=sheet,
        row_number=row_number,
        rule=rule,
        justification=justification,
    )
