"""Actions on one received row: its page (issues, original row, the forms) and the five
audited actions — accept, correct, reject, mark reviewed, keep this row
(``huizong.review.actions``). Every action posts the same form (:class:`RowForm`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from huizong.review import actions, queries
from huizong.review.deps import (
    Backend,
    BackendDep,
    CsrfDep,
    DayDep,
    Steward,
    StewardDep,
    ViewDep,
)
from huizong.review.html import e, page, table
from huizong.review.labels import rule_label
from huizong.review.original import shown_original
from huizong.review.scopes import check_scope
from huizong.review.views import done, issue_table
from huizong.validate.day import EARLIER_KEPT
from huizong.validate.waivers import is_waivable

router = APIRouter()


class RowForm(BaseModel):
    """The fields every action form posts: the row, and what the action needs of the rest
    (an action ignores the fields it does not take)."""

    file_id: str
    row_number: int
    sheet: str = ""
    rule: str = ""
    column: str = ""
    new_value: str = ""
    justification: str = ""


#: Action (path segment) → the domain function and the form fields it takes.
ACTION_FIELDS: dict[str, tuple[Callable[..., dict[str, Any]], tuple[str, ...]]] = {
    "accept": (actions.accept, ("rule", "justification")),
    "correct": (actions.correct, ("column", "new_value", "justification")),
    "reject": (actions.reject, ("justification",)),
    "mark-reviewed": (actions.mark_reviewed, ("rule", "justification")),
    "keep": (actions.keep, ("justification",)),
}


def _scoped_row(
    backend: Backend, p: str, file_id: str, sheet: str, row_number: int, steward: Steward
) -> pd.DataFrame:
    found = queries.row_issues(backend.engine, p, file_id, sheet, row_number)
    if found.empty:
        raise actions.NotFound("没有这一行的问题 / no issue for that row")
    for code in found["unit_code"].drop_duplicates():
        check_scope(None if pd.isna(code) else str(code), steward.scopes)
    return found


def _earlier_kept_note(kept_file: object) -> str:
    """Why a row held back by ``earlier_report_kept`` has no Accept of its own: the note
    is what the row's own errors caused; once they are accepted or corrected, it goes."""
    name = "" if pd.isna(kept_file) or not str(kept_file).strip() else str(kept_file)
    zh, en = (f"（{e(name)}）", f" ({e(name)})") if name else ("", "")
    return (
        f'<p class="note" id="earlier-kept">这一行未通过校验，本单位先前已接收的报表{zh}'
        "仍在使用。这一行自身的问题全部接受或更正后，重新汇总时改用这一行。"
        f" This row failed its checks, so the unit's earlier report{en} stays in use; once"
        " this row's own issues are accepted or corrected, the next re-run uses this row"
        " instead.</p>"
    )


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
    held = errors[errors["rule"] == EARLIER_KEPT]
    errors = errors[errors["rule"] != EARLIER_KEPT]  # a consequence, not a rule on a value
    if len(held):
        parts.append(_earlier_kept_note(held.iloc[0]["value"]))
    waivable = errors["rule"].map(is_waivable).astype(bool)
    if (~waivable).any():
        parts.append(
            '<p class="note" id="no-accept">负数、非数字、身份或日期问题不能接受为正确，'
            "请更正或退回。 A negative value, a value that is not a number, or a problem of"
            " identity or date cannot be accepted as correct: correct the row or reject"
            " it.</p>"
        )
    if (errors["rule"] == queries.DUPLICATE).any():
        parts.append(
            f'<p id="to-duplicates"><a href="{e(v.url(base))}#duplicates">'
            "与同单位的另一行并排比较并保留一行 Compare with the unit's other row and keep one"
            "</a></p>"
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
    original = shown_original(
        backend.settings,
        backend.catalogue,
        {
            "file_id": file_id,
            "file_name": first["file_name"],
            "sheet": sheet,
            "row_number": row_number,
        },
    )
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


def _route(name: str) -> None:
    action, taken = ACTION_FIELDS[name]

    def run_action(
        request: Request,
        p: DayDep,
        steward: StewardDep,
        backend: BackendDep,
        v: ViewDep,
        form: Annotated[RowForm, Form()],
    ) -> Response:
        """Run one steward action as this user; answer with the audit row (JSON) or the
        row's page."""
        row = action(
            backend.engine,
            backend.settings,
            username=steward.username,
            period=p,
            file_id=form.file_id,
            sheet=form.sheet,
            row_number=form.row_number,
            **{f: getattr(form, f) for f in taken},
        )
        return done(request, v, row)

    run_action.__name__ = f"{name.replace('-', '_')}_action"
    router.post(f"/runs/{{period}}/{name}", dependencies=[CsrfDep], name=run_action.__name__)(
        run_action
    )


for _name in ACTION_FIELDS:
    _route(_name)
