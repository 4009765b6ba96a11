"""Server-rendered HTML: escaped f-strings, inline CSS, no external host (offline networks)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

import pandas as pd

CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:1.2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f0f3f7}tr.bad td{background:#fff0f0}
.open{color:#b00}.accepted,.reviewed,.corrected{color:#060}.rejected{color:#a60}
form.inline{display:inline}input[type=text]{width:14em}textarea{width:24em;height:3em}
.note{color:#555;font-size:.9em}nav a{margin-right:1em}.msg{background:#eef;padding:.5em}
button{cursor:pointer}
"""


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


def page(title: str, body: str, *, root: str, refresh: int | None = None) -> str:
    """A whole page; ``refresh`` reloads it every so many seconds (a run in progress)."""
    again = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width">{again}<title>{e(title)}</title>'
        f"<style>{CSS}</style></head><body>"
        f'<nav><a href="{e(root)}/">汇总审核 Huizong review</a></nav>'
        f"<h1>{e(title)}</h1>{body}</body></html>"
    )


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
    rows = []
    for i, (_, rec) in enumerate(frame.iterrows()):
        tds = []
        for col in columns:
            if col in cells:
                tds.append(f"<td>{cells[col](rec)}</td>")  # type: ignore[operator]
            else:
                tds.append(f"<td>{e(rec.get(col))}</td>")
        cls = f' class="{e(classes[i])}"' if classes[i] else ""
        rows.append(f"<tr{cls}>{''.join(tds)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def hidden(fields: Mapping[str, object]) -> str:
    return "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in fields.items())
