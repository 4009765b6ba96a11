"""The layout of a submission's sheets: where the header is, and what each row below it is.

Works on cells as read (:mod:`huizong.ingest.text` or :mod:`huizong.ingest.cells`), so
a CSV and a workbook go through the same decisions: the header row of each sheet (and a
whole file refused when a required column is missing), then per data row a unit's report,
a total row (合计, or the township's own code), a signature/note line, or an empty row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.ingest.cells import Sheet, is_blank
from huizong.ingest.headers import REQUIRED_META, column_labels, find_header
from huizong.ingest.rejected import SubmissionRejected


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
            named = column_labels(catalogue)
            labels = "、".join(named[f] for f in missing)
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


def _cell_texts(values: Iterable[object]) -> list[str]:
    """Code/name cells as comparable text: NFKC, no spaces, Excel's 5.0 as 5, blank "".

    Plain Python over a file's ~15 cells: building a pandas Series per column per file
    cost more than the rest of reading (the same text as ``parse_text`` followed by
    NFKC and whitespace removal; a test keeps the two in agreement)."""
    out = []
    for value in values:
        if isinstance(value, str):
            text = value.strip()
        elif _missing(value):
            out.append("")
            continue
        else:
            text = str(value).strip()
        if text.endswith(".0") and _WHOLE_FLOAT.fullmatch(text):
            text = text[:-2]
        if text.isalnum() and (text.isascii() or unicodedata.is_normalized("NFKC", text)):
            out.append(text)  # no space (no alnum character is one), already NFKC: as is
        else:
            out.append(_SPACES.sub("", unicodedata.normalize("NFKC", text)))
    return out


_WHOLE_FLOAT = re.compile(r"\d+\.0")
_SPACES = re.compile(r"\s+")
_VILLAGE_CODE = re.compile(r"^\d{12}$")


def _missing(value: object) -> bool:
    """None, NaN, NA, NaT: what pandas reads as missing (a scalar cell only)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar: never missing
        return False


def row_kinds(
    cells: np.ndarray, taken: dict[str, int], catalogue: Catalogue, nonblank: np.ndarray
) -> np.ndarray:
    """Per data row: a unit's report, a total row, a signature line, a note, or empty."""
    return classify_rows(cells, taken, catalogue, nonblank)[0]


def classify_rows(
    cells: np.ndarray, taken: dict[str, int], catalogue: Catalogue, nonblank: np.ndarray
) -> tuple[np.ndarray, str | None]:
    """Each data row's kind (:func:`row_kinds`) and the township of the village rows.

    The township is decided here once per sheet (its own code marks the township's total
    row), so the caller need not work it out again. Only rows whose code is not
    code-like (a handful per file) are looked at cell by cell."""
    kind = np.where(nonblank, DATA, EMPTY)
    if not len(cells):
        return kind, None
    code = _cell_texts(cells[:, taken["unit_code"]])
    name = _cell_texts(cells[:, taken["unit_name"]])
    indicator_cols = [taken[c] for c in catalogue.codes if c in taken]
    for i in np.flatnonzero(nonblank):
        if _TOTAL_WORDS.match(code[i]) or (code[i] == "" and _TOTAL_WORDS.match(name[i])):
            kind[i] = TOTAL
        elif not _CODE_LIKE.match(code[i]):
            row = cells[i]
            texts = [unicodedata.normalize("NFKC", str(c)).strip() for c in row if not is_blank(c)]
            if any(_SIGNATURE_WORDS.match(c) for c in texts):
                kind[i] = SIGNATURE
            elif code[i] == "" and all(
                is_blank(row[j]) for j in [taken["period"], *indicator_cols]
            ):
                kind[i] = FOOTER
    data = np.flatnonzero(kind == DATA)
    township = _township([code[i] for i in data])
    # A row carrying the township's own code is the township's total, not a village.
    if township is not None:
        own = {township, township + "000"}
        for i in data:
            if code[i] in own:
                kind[i] = TOTAL
    return kind, township


def township_of(codes: Iterable[object]) -> str | None:
    """The township (9-digit code) of a file's village rows, if they share exactly one."""
    return _township(_cell_texts(codes))


def _township(texts: list[str]) -> str | None:
    prefixes = {t[:9] for t in texts if _VILLAGE_CODE.match(t) and not t.endswith("000")}
    return next(iter(prefixes)) if len(prefixes) == 1 else None


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
            if cell is None or (cell.__class__ is str and not cell):
                continue  # most cells of title rows (merged across the sheet's width)
            if isinstance(cell, (datetime, date)):
                return cell.year
            if isinstance(cell, str) and (
                m := _TITLE_DATE.search(unicodedata.normalize("NFKC", cell))
            ):
                return int(m.group(1))
    return None
