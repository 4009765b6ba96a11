"""Pieces of pages and answers that several routers share: issue tables, JSON records,
numbers as clerks write them, and the answer after an action."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from huizong.catalogue import Catalogue
from huizong.display import grouped
from huizong.review.deps import View, wants_json
from huizong.review.html import e, local_time, table
from huizong.review.labels import rule_label

MAX_ROWS = 2000
#: Review status of an issue, in both languages.
STATUS_LABELS = {
    "open": "待处理 open",
    "accepted": "已接受 accepted",
    "reviewed": "已审 reviewed",
    "corrected": "已更正 corrected",
    "rejected": "已退回 rejected",
    "kept": "已保留 kept",
    "superseded": "已取代 superseded",
}  # rows shown per table on a page (the JSON variants return all)

#: A file's status in the ledger (``huizong.frames.LEDGER_COLUMNS``), in both languages.
FILE_STATUS_LABELS = {
    "accepted": "已接受 accepted",
    "partly_quarantined": "部分隔离 partly quarantined",
    "quarantined": "已隔离 quarantined",
    "superseded": "已被取代 superseded",
    "duplicate": "重复文件 duplicate",
    "rejected": "已拒收 rejected",
    "read": "已读取 read",
}


def row_query(rec: Any) -> str:
    """The query string addressing one received row (file, sheet, line)."""
    return urlencode(
        {"file_id": rec["file_id"], "sheet": rec["sheet"], "row_number": rec["row_number"]}
    )


def rule_cell(catalogue: Catalogue | None) -> object:
    """A table cell showing a rule by its plain label, the code small beside it."""

    def cell(rec: pd.Series) -> str:
        if catalogue is None:
            return e(rec["rule"])
        zh, en = rule_label(rec["rule"], catalogue)
        return f'{e(zh)} <span class="en">{e(en)}</span> <code class="note">{e(rec["rule"])}</code>'

    return cell


def field_cell(catalogue: Catalogue | None) -> object:
    """A field by its Chinese indicator name, the code small beside it (trial: a steward
    read ``screened``)."""
    names = {i.code: i.zh for i in catalogue.indicators} if catalogue is not None else {}

    def cell(rec: pd.Series) -> str:
        code = rec["column"]
        if code is None or (not isinstance(code, str) and pd.isna(code)) or code == "":
            return ""
        zh = names.get(str(code))
        return f'{e(zh)} <code class="note">{e(code)}</code>' if zh else e(code)

    return cell


def issue_table(
    found: pd.DataFrame,
    base: str,
    v: View,
    *,
    mark_reviewed: bool = False,
    link: bool = True,
    catalogue: Catalogue | None = None,
) -> str:
    """Issues with their file and row, message in both languages and review status."""
    shown = found.head(MAX_ROWS)

    def row_link(rec: pd.Series) -> str:
        label = f"{e(rec['file_name'])} #{e(rec['row_number'])}"
        return f'<a href="{e(v.url(base))}/row?{e(row_query(rec))}">{label}</a>' if link else label

    def status(rec: pd.Series) -> str:
        shown = STATUS_LABELS.get(str(rec["status"]), str(rec["status"]))
        out = f'<span class="{e(rec["status"])}">{e(shown)}</span>'
        if rec["status"] != "open":
            out += f' <span class="note">{e(rec["status_by"])}: {e(rec["status_note"])}</span>'
        if mark_reviewed and rec["severity"] == "warning" and rec["status"] == "open":
            out += v.form(
                f"{base}/mark-reviewed",
                {
                    "file_id": rec["file_id"],
                    "sheet": rec["sheet"],
                    "row_number": rec["row_number"],
                    "rule": rec["rule"],
                },
                ' <button type="submit">已审 Mark reviewed</button>',
                class_="inline",
            )
        return out

    more = (
        f'<p class="note">另有 {len(found) - MAX_ROWS} 行，见 JSON · '
        f"{len(found) - MAX_ROWS} more rows: see the JSON view</p>"
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
            cells={
                "row": row_link,
                "status": status,
                "rule": rule_cell(catalogue),
                "column": field_cell(catalogue),
                "value": lambda rec: f'<span class="num">{e(rec["value"])}</span>',
            },
        )
        + more
    )


def done(request: Request, v: View, row: dict[str, Any]) -> Response:
    """After an action: the audit row (JSON) or back to the row's page."""
    if wants_json(request):
        return JSONResponse(dict(row))
    return RedirectResponse(v.url(f"/runs/{row['period']}/row?{row_query(row)}"), status_code=303)


def indicator_code(catalogue: Catalogue, indicator: str | None) -> str:
    """The requested numeric indicator, default the catalogue's first (400 if unknown)."""
    numeric = [i.code for i in catalogue.numeric]
    code = indicator or numeric[0]
    if code not in numeric:
        raise HTTPException(400, f"不是数值指标 / not a numeric indicator: {code!r}")
    return code


def number(value: object) -> str:
    """A total as the workbook prints it: ``1,234``, ``12.5``; blank when not reported."""
    return grouped(value)


def signed(value: object) -> str:
    """A change as the workbook prints it: ``+1,234``, ``-2``, ``0``; blank when not
    comparable."""
    text = grouped(value)
    return "+" + text if text and float(value) > 0 else text  # type: ignore[arg-type]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records (NA → null, numpy scalars → Python)."""
    if frame.empty:
        return []
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
        for rec in clean.to_dict(orient="records")
    ]


#: A unit's kind as a clerk says it.
KIND_LABELS = {
    "village": "村/社区 Village",
    "department": "部门 Department",
    "township": "乡镇街道 Township",
    "county": "县区 County",
    "city": "市 City",
    "province": "省 Province",
}


def named(code: object, names: dict[str, str]) -> str:
    """``name (code)`` when the name is known, else the code: a clerk knows units by name."""
    text = "" if code is None or pd.isna(code) else str(code)
    name = names.get(text)
    return f"{name} ({text})" if name else text


def completeness_section(comp: pd.DataFrame) -> str:
    """Expected, reported and late for the steward's units (who has not reported is
    :func:`missing_section`, after the actions: a city lists hundreds)."""
    parts = ["<h2>报送情况 Completeness</h2>"]
    if comp.empty:  # not "everyone has reported": the night has not published the day yet
        parts.append(
            '<p class="note" id="not-published">本日尚未发布汇总（夜间运行后显示）/ '
            "the day is not published yet (shown after the night's run)</p>"
        )
        return "".join(parts)
    rate = comp["reporting_rate"] if len(comp) else pd.Series([], dtype="float64")
    shown = comp.assign(
        rate=[("" if pd.isna(r) else f"{float(r):.0%}") for r in rate],
    )
    parts.append(
        table(
            shown,
            {
                "unit_code": "单位代码 Unit",
                "unit_name": "名称 Name",
                "expected_units": "应报 Expected",
                "reported_units": "已报 Reported",
                "late_units": "迟报 Late",
                "missing_units": "未报 Not reported",
                "rate": "报送率 Rate",
            },
        )
    )
    return "".join(parts)


def missing_section(missing: pd.DataFrame, names: dict[str, str], published: bool) -> str:
    """Who has not reported, one table per township (units without a township, such as
    departments, last), collapsed in a ``<details>`` whose summary gives the count: a
    city's 500 missing villages must not push the actions off the page (a trial)."""
    if not published:
        return ""  # nothing to say before the night: completeness_section says so
    summary = f"未报单位 Units not reported ({len(missing)})"
    if missing.empty:
        return (
            f'<h2 id="missing-units">{e(summary)}</h2>'
            '<p class="note">全部已报 / everyone has reported</p>'
        )
    parts = [f'<details id="missing-units"><summary>{e(summary)}</summary>']
    group = missing["township_code"].astype("str").where(missing["township_code"].notna(), "")
    order = sorted(group.unique(), key=lambda c: (c == "", c))  # no township last
    for code in order:
        units = missing[(group == code).to_numpy()]
        title = (
            f"{named(code, names)} · 乡镇街道 Township"
            if code
            else "不属于乡镇的单位 Units outside a township"
        )
        parts.append(f'<h4 class="township">{e(title)} — {len(units)}</h4>')
        parts.append(
            table(
                units.assign(
                    parent=[named(c, names) for c in units["parent_code"]],
                    kind_label=[KIND_LABELS.get(str(k), str(k)) for k in units["kind"]],
                ),
                {
                    "unit_code": "单位代码 Unit",
                    "unit_name": "名称 Name",
                    "kind_label": "类型 Kind",
                    "parent": "上级 Parent",
                },
            )
        )
    parts.append("</details>")
    return "".join(parts)


def duplicates_section(
    dups: pd.DataFrame,
    originals: list[pd.Series | None],
    catalogue: Catalogue,
    base: str,
    v: View,
) -> str:
    """Each unit reported twice (or more) for the day: its rows side by side — file, row,
    when received, every value (differences marked) — and "keep this row" under each.

    ``originals``: the rows as the units sent them (``dups``' order), None when a file is
    no longer in the store.
    """
    if dups.empty:
        return ""
    parts = [
        '<h2 id="duplicates">重复上报 Duplicates</h2>'
        '<p class="note">同一单位同一日有多行数据，都已隔离。请比较后保留正确的一行：'
        "其他行将被取代，重新运行此日后生效。 A unit reported more than once for the day; "
        "every row is quarantined. Keep the right one: the others are superseded when the "
        "day is re-run.</p>"
    ]
    dups = dups.assign(_orig=pd.Series(originals, index=dups.index, dtype="object"))
    labels = {i.code: f"{i.zh} {i.en}" for i in catalogue.indicators}
    numeric = {i.code for i in catalogue.numeric}
    for unit, group in dups.groupby("unit_code", sort=True):
        group = group.reset_index(drop=True)
        cols = [f"r{i}" for i in range(len(group))]
        meta = [
            ("file", "文件 File", [e(r["file_name"]) for _, r in group.iterrows()]),
            (
                "row",
                "工作表与行 Sheet and row",
                [f"{e(r['sheet'])} #{e(r['row_number'])}" for _, r in group.iterrows()],
            ),
            (
                "at",
                "收到时间 Received",
                [e(local_time(r["received_at"])) for _, r in group.iterrows()],
            ),
            (
                "status",
                "状态 Status",
                [e(STATUS_LABELS.get(str(r["status"]), r["status"])) for _, r in group.iterrows()],
            ),
        ]
        rows = [
            {"what": e(label), "_cls": "", **dict(zip(cols, cells, strict=True))}
            for _, label, cells in meta
        ]
        for code in catalogue.codes:
            values = [
                ""
                if o is None
                else (
                    f'<span class="num">{e(number(o.get(code)))}</span>'
                    if code in numeric
                    else e(o.get(code))
                )
                for o in group["_orig"]
            ]
            if not any(values):
                continue
            differ = len(set(values)) > 1
            rows.append(
                {
                    "what": f'{e(labels.get(code, code))} <code class="note">{e(code)}</code>',
                    "_cls": "bad" if differ else "",
                    **dict(zip(cols, values, strict=True)),
                }
            )
        forms = []
        for i, r in group.iterrows():
            forms.append(
                v.form(
                    f"{base}/keep",
                    {"file_id": r["file_id"], "sheet": r["sheet"], "row_number": r["row_number"]},
                    '<input type="text" name="justification" required'
                    ' placeholder="理由 Justification"> '
                    '<button type="submit">保留此行 keep this row</button>',
                    class_="keep",
                    id=f"keep-{i}-{unit}",
                )
            )
        rows.append({"what": e("操作 Action"), "_cls": "", **dict(zip(cols, forms, strict=True))})
        frame = pd.DataFrame(rows)
        headers = {"what": "", **{c: f"第 {i + 1} 行 Row {i + 1}" for i, c in enumerate(cols)}}
        cells = {c: (lambda rec, c=c: rec[c]) for c in cols}
        cells["what"] = lambda rec: rec["what"]  # built escaped above
        name = group["unit_name"].iloc[0]
        parts.append(f'<h3 class="duplicate">{e(name)} ({e(unit)})</h3>')
        parts.append(
            '<div class="side-by-side">'
            + table(frame, headers, cells=cells, row_class=frame["_cls"].tolist())
            + "</div>"
        )
    return "".join(parts)
