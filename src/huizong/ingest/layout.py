"""The layout of a submission's sheets: where the header is, and what each row below it is.

Works on cells as read (:mod:`huizong.ingest.text` or :mod:`huizong.ingest.cells`), so
a CSV and a workbook go through the same decisions: the header row of each sheet (and a
whole file refused when a required column is missing), then per data row a unit's report,
a total row (合计, or the township's own code), a signature/note line, or an empty row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.ingest.cells import Sheet, is_blank
from huizong.ingest.headers import META_LABELS_ZH, REQUIRED_META, find_header
from huizong.ingest.rejected import SubmissionRejected
from huizong.ingest.values import parse_text


@dataclass
class SheetLayout:
    """One sheet with a header: its rows, the header's index and each column's field."""

    name: str
    rows: list[list[object]]
    header_row: int  # 0-based index into rows
    mapped: list[str | None]  # per column: the field it maps to, None if unknown


def sheet_layouts(sheets: list[Sheet], catalogue: Catalogue) -> tuple[list[SheetLayout], list[str]]:
    """The sheets that have a header, and notes on those ignored as notes sheets.

    A sheet whose header lacks a required column rejects the file (naming the columns);
    a file with no header anywhere is rejected too."""
    notes: list[str] = []
    layouts: list[SheetLayout] = []
    for name, rows in sheets:
        idx, mapped = find_header(rows, catalogue)
        if idx < 0:
            if any(not is_blank(c) for r in rows for c in r):
                notes.append(
                    f"工作表“{name}”没有表头，按说明页忽略 / sheet {name!r} has no header "
                    "row; ignored as a notes sheet"
                )
            continue
        missing = [f for f in REQUIRED_META if f not in mapped]
        if missing:
            labels = "、".join(f"{META_LABELS_ZH[f]}({f})" for f in missing)
            where = f"工作表“{name}”" if name else "文件"
            raise SubmissionRejected(
                f"{where}缺少必需的列：{labels}",
                f"{'sheet ' + repr(name) if name else 'file'} lacks required columns: "
                + ", ".join(missing),
            )
        layouts.append(SheetLayout(name, rows, idx, mapped))
    if not layouts:
        raise SubmissionRejected(
            "未找到表头：前10行中没有一行包含单位代码、单位名称、日期等列",
            "no header row found: none of the first 10 rows names the unit code, "
            "unit name and date columns",
        )
    return layouts, notes


def grid(data: list[list[object]], width: int) -> np.ndarray:
    """Rows as a 2-D object array; calamine and CSV rows are rectangular already."""
    lengths = {len(r) for r in data}
    if len(lengths) == 1 and width <= next(iter(lengths)):
        out = np.empty((len(data), next(iter(lengths))), dtype=object)
        out[:] = data
        return out
    out = np.full((len(data), max([width, *lengths])), "", dtype=object)
    for i, r in enumerate(data):
        out[i, : len(r)] = r
    return out


# ---- rows that are not village reports ----------------------------------------------------

DATA, TOTAL, SIGNATURE, FOOTER, EMPTY = 0, 1, 2, 3, 4
#: A unit code or name cell reading like this is a total row, not a unit's report.
_TOTAL_WORDS = re.compile(r"^.{0,12}?(合计|总计|小计|汇总)$")
#: A cell starting like this is a signature or note line under the table.
_SIGNATURE_WORDS = re.compile(
    r"^(填报人|填表人|制表人|审核人|审批人|负责人|单位负责人|分管领导|主要领导|统计员|统计人"
    r"|报送人|联系人|联系电话|填报时间|填报日期|注|说明|备注)\s*[:：]"
)
_CODE_LIKE = re.compile(r"^\d{6,}(?:[Dd]\d+)?$")


def _cell_texts(values: np.ndarray) -> pd.Series:
    """Code/name cells as comparable text: NFKC, no spaces, Excel's 5.0 as 5."""
    text = parse_text(pd.Series(values, dtype=object)).fillna("")
    return text.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)


def row_kinds(
    cells: np.ndarray, taken: dict[str, int], catalogue: Catalogue, nonblank: np.ndarray
) -> np.ndarray:
    """Per data row: a unit's report, a total row, a signature line, a note, or empty.

    Vectorised on the code and name columns; only rows whose code is not code-like (a
    handful per file) are looked at cell by cell."""
    kind = np.where(nonblank, DATA, EMPTY)
    if not len(cells):
        return kind
    code = _cell_texts(cells[:, taken["unit_code"]])
    name = _cell_texts(cells[:, taken["unit_name"]])
    totals = code.str.match(_TOTAL_WORDS) | ((code == "") & name.str.match(_TOTAL_WORDS))
    kind[totals.to_numpy(bool) & nonblank] = TOTAL
    odd = np.flatnonzero(nonblank & ~code.str.match(_CODE_LIKE).to_numpy(bool) & (kind == DATA))
    indicator_cols = [taken[c] for c in catalogue.codes if c in taken]
    for i in odd:
        texts = [unicodedata.normalize("NFKC", str(c)).strip() for c in cells[i] if not is_blank(c)]
        if any(_SIGNATURE_WORDS.match(c) for c in texts):
            kind[i] = SIGNATURE
        elif code[i] == "" and all(
            is_blank(cells[i, j]) for j in [taken["period"], *indicator_cols]
        ):
            kind[i] = FOOTER
    # A row carrying the township's own code is the township's total, not a village.
    if (kind == DATA).any():
        township = township_of(cells[kind == DATA, taken["unit_code"]])
        if township is not None:
            own = code.isin([township, township + "000"]).to_numpy(bool)
            kind[own & (kind == DATA)] = TOTAL
    return kind


def township_of(codes: np.ndarray) -> str | None:
    """The township (9-digit code) of a file's village rows, if they share exactly one."""
    text = _cell_texts(codes)
    village = text[text.str.match(r"^\d{12}$") & ~text.str.endswith("000")]
    prefixes = village.str.slice(0, 9).unique()
    return str(prefixes[0]) if len(prefixes) == 1 else None


def marker_township(marker: dict[str, str]) -> str | None:
    """A township template's marker names the township (12-digit code ending 000 or 9)."""
    code = str(marker.get("unit_code") or "")
    if re.fullmatch(r"\d{9}", code):
        return code
    if re.fullmatch(r"\d{9}000", code):
        return code[:9]
    return None


_TITLE_DATE = re.compile(r"(20\d{2})\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}")


def title_year(rows: list[list[object]]) -> int | None:
    """The year of a full date written above the header (填报日期：2020年1月28日)."""
    for row in rows:
        for cell in row:
            if isinstance(cell, (datetime, date)):
                return cell.year
            if isinstance(cell, str) and (
                m := _TITLE_DATE.search(unicodedata.normalize("NFKC", cell))
            ):
                return int(m.group(1))
    return None
