"""Workbook submissions (xlsx): the cells of every visible sheet, and the template marker.

Cells come back as Python values (calamine: the value Excel cached for a formula); a
formula without a cached result becomes a :class:`NoCachedValue` so that it is a cell
error later, never a silent blank. Also the cell predicates the other reader pieces share.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from huizong.ingest.rejected import SubmissionRejected
from huizong.ingest.values import NoCachedValue

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

#: Hidden sheet the template writes: rows of (key, value), e.g. ("kind", "department").
MARKER_SHEET = "_huizong"

#: A sheet as read: its name and its rows of cells (A1 = rows[0][0]).
Sheet = tuple[str, list[list[object]]]


def is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, float) and cell != cell) or not str(cell).strip()


def cell_text(cell: object) -> str:
    """A cell as the clerk wrote it, as text (Excel's 5.0 as 5, a datetime in ISO form)."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


def xlsx_sheets(
    path: Path,
    sheet_hint: str | None,
    *,
    data: bytes | None = None,
    zf: zipfile.ZipFile | None = None,
) -> tuple[list[Sheet], dict[str, str], list[str]]:
    """Visible worksheets as rows of cells (A1 = rows[0][0]), the template marker, and
    notes on the sheets skipped; formula cells without a cached value are marked.

    ``data``: the file's bytes, when the caller has read them already (calamine, the
    formula check and openpyxl then read these, and the file is not opened again);
    ``zf``: the same file as a zip already opened (the formula check reads it)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        if data is None:
            wb = CalamineWorkbook.from_path(str(path))
        else:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several error types for broken files
        raise SubmissionRejected(
            f"无法打开Excel文件：{exc}", f"cannot open the Excel file: {exc}"
        ) from exc
    try:
        marker: dict[str, str] = {}
        sheets = []
        notes = []
        for meta in wb.sheets_metadata:
            if meta.name == MARKER_SHEET:
                for row in wb.get_sheet_by_name(meta.name).to_python():
                    if len(row) >= 2 and str(row[0]).strip():
                        marker[str(row[0]).strip()] = str(row[1]).strip()
                continue
            if sheet_hint is not None and meta.name != sheet_hint:
                continue
            if meta.visible != SheetVisibleEnum.Visible:
                notes.append(f"隐藏工作表“{meta.name}”未读取 / hidden sheet {meta.name!r} not read")
                continue
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheets.append(
                (meta.name, wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False))
            )
        if sheets and _has_formulas(zf or (path if data is None else io.BytesIO(data))):
            _mark_formulas_without_value(path, sheets, data)
        return sheets, marker, notes
    except SubmissionRejected:
        raise
    except Exception as exc:
        raise SubmissionRejected(
            f"无法读取Excel文件：{exc}", f"cannot read the Excel file: {exc}"
        ) from exc
    finally:
        wb.close()


def _has_formulas(source: Path | io.BytesIO | zipfile.ZipFile) -> bool:
    """Whether any worksheet XML holds a formula (cheap: no XML parsing)."""
    try:
        opened = source if isinstance(source, zipfile.ZipFile) else zipfile.ZipFile(source)
        with opened as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with zf.open(info) as f:
                        tail = b""
                        while chunk := f.read(1 << 20):
                            buf = tail + chunk
                            if b"<f>" in buf or b"<f " in buf:
                                return True
                            tail = buf[-3:]
    except (OSError, zipfile.BadZipFile):
        return False
    return False


def _mark_formulas_without_value(
    path: Path, sheets: list[Sheet], data: bytes | None = None
) -> None:
    """Cells that hold a formula but read blank (no cached result: files written by
    scripts, never opened in Excel) become :class:`NoCachedValue`, a cell error later.

    openpyxl gets an open file, not the path: it refuses names without an Excel
    extension, and the nightly ingest reads the stored copy ``store/<sha256>``. A
    workbook whose formulas cannot be checked is rejected rather than read as blanks."""
    import openpyxl

    with path.open("rb") if data is None else io.BytesIO(data) as fh:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises several types for odd workbooks
            raise SubmissionRejected(
                f"无法检查文件中的公式：{exc}；请在Excel中打开并另存为 .xlsx 后重报",
                f"cannot check the formulas in the file: {exc}; open it in Excel, "
                "save as .xlsx and resubmit",
            ) from exc
        _mark_cells(wb, sheets)


def _mark_cells(wb: Workbook, sheets: list[Sheet]) -> None:
    try:
        for name, rows in sheets:
            if name not in wb.sheetnames:
                continue
            for r, row in enumerate(wb[name].iter_rows(values_only=True)):
                for c, value in enumerate(row):
                    if not (isinstance(value, str) and value.startswith("=")):
                        continue
                    while len(rows) <= r:
                        rows.append([])
                    cells = rows[r]
                    if c < len(cells) and not is_blank(cells[c]):
                        continue  # the cached value is there: use it
                    cells.extend([""] * (c + 1 - len(cells)))
                    cells[c] = NoCachedValue(value)
    finally:
        wb.close()
