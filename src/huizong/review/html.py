"""Server-rendered HTML: escaped f-strings, the app's own stylesheet, no external host."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

import pandas as pd

from huizong.display import local_time


def e(value: object) -> str:
    """Escape anything for HTML text or a quoted attribute; NA shows as empty."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return escape(str(value), quote=True)


def page(
    title: str, body: str, *, root: str, refresh: int | None = None, nav: str | None = None
) -> str:
    """A whole page; ``refresh`` reloads it every so many seconds (a run in progress);
    ``nav`` replaces the link to the review index (a reader's pages lead elsewhere); an
    empty ``nav`` leaves the bar out (a rule with no links above the title reads as broken)."""
    again = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    if nav is None:
        nav = f'<a href="{e(root)}/">汇总审核 Huizong review</a>'

    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width">{again}<title>{e(title)}</title>'
        f'<link rel="stylesheet" href="{e(root)}/static/review.css"></head><body>'
        f"{f'<nav>{nav}</nav>' if nav else ''}"
        f"<h1>{e(title)}</h1>{body}</body></html>"
    )


#: Columns that hold a stored time even where the store returns text (SQLite).
TIME_COLUMNS = frozenset({"at", "published_at", "received_at", "listed_at", "signed_at"})


def table(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    cells: Mapping[str, object] | None = None,
    row_class: Iterable[str] | None = None,
) -> str:
    """A table of ``columns`` (name -> header); ``cells`` overrides a column with HTML."""
    if frame.empty:
        return '<p class="note">无 / none</p>'
    cells = dict(cells or {})
    head = "".join(f"<th>{e(h)}</th>" for h in columns.values())
    classes = list(row_class) if row_class is not None else [""] * len(frame)
    numeric = {
        col
        for col in columns
        if col in frame.columns
        and pd.api.types.is_numeric_dtype(frame[col])
        and not pd.api.types.is_bool_dtype(frame[col])
    }
    times = {
        col
        for col in columns
        if col in frame.columns
        and (pd.api.types.is_datetime64_any_dtype(frame[col]) or col in TIME_COLUMNS)
    }
    rows = []
    for i, (_, rec) in enumerate(frame.iterrows()):
        tds = []
        for col in columns:
            td = '<td class="num">' if col in numeric else "<td>"
            if col in cells:
                tds.append(f"{td}{cells[col](rec)}</td>")  # type: ignore[operator]
            elif col in times:
                tds.append(f"{td}{e(local_time(rec.get(col)))}</td>")
            else:
                tds.append(f"{td}{e(rec.get(col))}</td>")
        cls = f' class="{e(classes[i])}"' if classes[i] else ""
        rows.append(f"<tr{cls}>{''.join(tds)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def hidden(fields: Mapping[str, object]) -> str:
    return "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in fields.items())
