"""Read one submission file (xlsx or csv) into RECEIVED rows.

Reading is split in two so that a day of 40,000 small township files is parsed as one
batch: :func:`read_raw` does the per-file work (open, find the header, pick the columns,
keep cells as they are) and :func:`parse_raw` turns any number of raw submissions into
typed RECEIVED rows with whole-column operations. :func:`read_submission` is both, for
one file (used by ``huizong validate FILE``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.ingest.headers import (
    HEADER_SEARCH_ROWS,
    META_LABELS_ZH,
    REQUIRED_META,
    find_header,
)
from huizong.ingest.periods import parse_periods
from huizong.ingest.values import events_json, parse_counts, parse_text

#: Hidden sheet the template writes: rows of (key, value), e.g. ("kind", "department").
MARKER_SHEET = "_huizong"
SUPPORTED_SUFFIXES = (".xlsx", ".csv")
_CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class SubmissionRejected(Exception):
    """The whole file cannot be read as a submission; the message is for the clerk."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en

    @property
    def message(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


@dataclass
class RawSubmission:
    """One file's cells, unparsed: meta + indicator columns as object arrays."""

    file_id: str
    file_name: str
    received_at: pd.Timestamp
    form: str
    marker_kind: str | None
    columns: dict[str, np.ndarray]  # field -> object array (all the same length)
    sheet: np.ndarray  # object array of sheet names
    row_number: np.ndarray  # int64
    extra_columns: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row_number)


@dataclass
class Submission:
    """A file read into RECEIVED rows (disposition 'candidate')."""

    rows: pd.DataFrame
    extra_columns: list[str]
    form: str
    claimed_kind: str | None  # from the template marker; None = inferred per row
    sheets: list[str]


def received_columns(catalogue: Catalogue) -> list[str]:
    return [*frames.RECEIVED_META, *catalogue.codes]


def empty_received(catalogue: Catalogue) -> pd.DataFrame:
    """RECEIVED with no rows but the right columns and dtypes."""
    out = pd.DataFrame({c: pd.Series([], dtype="str") for c in frames.RECEIVED_META})
    out["row_number"] = pd.Series([], dtype="int64")
    out["received_at"] = pd.Series([], dtype="datetime64[us, UTC]")
    for ind in catalogue.indicators:
        out[ind.code] = pd.Series([], dtype="Int64" if ind.is_numeric else "str")
    return out[received_columns(catalogue)]


# ---- per-file reading -------------------------------------------------------------------


def read_raw(
    path: Path,
    catalogue: Catalogue,
    *,
    file_id: str,
    file_name: str,
    received_at: pd.Timestamp,
    sheet_hint: str | None = None,
    suffix: str | None = None,
) -> RawSubmission:
    """Open one file and pick out its header and data cells (no value parsing).

    ``suffix`` overrides the path's (the inbox reads the content-addressed copy); a path
    without one (``store_dir/<sha256>``) is sniffed: a zip is xlsx, anything else csv.
    """
    suffix = (suffix or path.suffix).lower() or _sniff(path)
    if suffix == ".xlsx":
        sheets, marker = _xlsx_sheets(path, sheet_hint)
    elif suffix == ".csv":
        sheets, marker = [("", _csv_rows(path))], {}
    else:
        raise SubmissionRejected(
            f"不支持的文件类型 {suffix or '(无扩展名)'}",
            f"unsupported file type {suffix or '(none)'}",
        )
    parts: list[tuple[str, list[list[object]], int, list[str | None], list[object]]] = []
    for name, rows in sheets:
        idx, mapped = find_header(rows, catalogue)
        if idx < 0:
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
        parts.append((name, rows, idx, mapped, rows[idx]))
    if not parts:
        raise SubmissionRejected(
            "未找到表头：前10行中没有一行包含单位代码、单位名称、日期等列",
            "no header row found: none of the first 10 rows names the unit code, "
            "unit name and date columns",
        )
    fields = [*REQUIRED_META, *catalogue.codes]
    columns: dict[str, list[np.ndarray]] = {f: [] for f in fields}
    sheet_col: list[np.ndarray] = []
    row_numbers: list[np.ndarray] = []
    extras: list[str] = []
    for name, rows, idx, mapped, header in parts:
        data = rows[idx + 1 :]
        grid = _grid(data, len(header))
        first_row = idx + 2  # 1-based, the row after the header
        numbers = np.arange(first_row, first_row + len(data), dtype="int64")
        taken: dict[str, int] = {}
        for j, f in enumerate(mapped):
            if f is not None and f not in taken:
                taken[f] = j
            elif not _is_blank(header[j]):
                extras.append(str(header[j]).strip())
        used = list(taken.values())
        if len(data):
            sub = grid[:, used]
            nonblank = ~((sub == "") | pd.isna(sub)).all(axis=1)
        else:
            nonblank = np.zeros(0, bool)
        for f in fields:
            col = grid[:, taken[f]] if f in taken else np.full(len(data), None, dtype=object)
            columns[f].append(col[nonblank])
        sheet_col.append(np.full(int(nonblank.sum()), name, dtype=object))
        row_numbers.append(numbers[nonblank])
    return RawSubmission(
        file_id=file_id,
        file_name=file_name,
        received_at=received_at,
        form=str(marker.get("form") or catalogue.form),
        marker_kind=marker.get("kind"),
        columns={f: np.concatenate(v) for f, v in columns.items()},
        sheet=np.concatenate(sheet_col),
        row_number=np.concatenate(row_numbers),
        extra_columns=list(dict.fromkeys(extras)),
    )


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, float) and cell != cell) or not str(cell).strip()


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise SubmissionRejected(f"无法读取文件：{exc}", f"cannot read the file: {exc}") from exc
    return ".xlsx" if magic == b"PK\x03\x04" else ".csv"


def _grid(data: list[list[object]], width: int) -> np.ndarray:
    """Rows as a 2-D object array; calamine and CSV rows are rectangular already."""
    lengths = {len(r) for r in data}
    if len(lengths) == 1 and width <= next(iter(lengths)):
        grid = np.empty((len(data), next(iter(lengths))), dtype=object)
        grid[:] = data
        return grid
    grid = np.full((len(data), max([width, *lengths])), "", dtype=object)
    for i, r in enumerate(data):
        grid[i, : len(r)] = r
    return grid


def _xlsx_sheets(
    path: Path, sheet_hint: str | None
) -> tuple[list[tuple[str, list[list[object]]]], dict[str, str]]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several error types for broken files
        raise SubmissionRejected(
            f"无法打开Excel文件：{exc}", f"cannot open the Excel file: {exc}"
        ) from exc
    try:
        marker: dict[str, str] = {}
        sheets = []
        for meta in wb.sheets_metadata:
            if meta.name == MARKER_SHEET:
                for row in wb.get_sheet_by_name(meta.name).to_python():
                    if len(row) >= 2 and str(row[0]).strip():
                        marker[str(row[0]).strip()] = str(row[1]).strip()
                continue
            if sheet_hint is not None and meta.name != sheet_hint:
                continue
            if meta.visible != SheetVisibleEnum.Visible or meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheets.append(
                (meta.name, wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False))
            )
        return sheets, marker
    except SubmissionRejected:
        raise
    except Exception as exc:
        raise SubmissionRejected(
            f"无法读取Excel文件：{exc}", f"cannot read the Excel file: {exc}"
        ) from exc
    finally:
        wb.close()


def _csv_rows(path: Path) -> list[list[object]]:
    data = path.read_bytes()
    for enc in _CSV_ENCODINGS:
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SubmissionRejected(
            "无法识别文件编码（应为UTF-8或GB18030）",
            "unknown text encoding (expected UTF-8 or GB18030)",
        )
    # Title lines have fewer fields than the header, which the C engine refuses unless it
    # is told the width: take it from the first lines (where the header must be), and only
    # if a later line is wider, from all lines (slow path, rare).
    head = list(csv.reader(text.splitlines()[:HEADER_SEARCH_ROWS]))
    width = max((len(r) for r in head), default=0)
    if width == 0:
        return []
    try:
        body = _read_csv(text, width)
    except pd.errors.ParserError:
        width = max(len(r) for r in csv.reader(io.StringIO(text)))
        try:
            body = _read_csv(text, width)
        except Exception as exc:
            raise SubmissionRejected(
                f"无法解析CSV文件：{exc}", f"cannot parse the CSV file: {exc}"
            ) from exc
    except Exception as exc:
        raise SubmissionRejected(
            f"无法解析CSV文件：{exc}", f"cannot parse the CSV file: {exc}"
        ) from exc
    return body.to_numpy(dtype=object).tolist()


def _read_csv(text: str, width: int) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(text),
        header=None,
        names=list(range(width)),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        engine="c",
    )


def infer_kind(code: pd.Series) -> pd.Series:
    """Department codes carry a 'D' (e.g. 130903D01); everything else reports as a village."""
    is_dep = code.str.contains("D", case=False, regex=False).fillna(False)
    return pd.Series(np.where(is_dep.to_numpy(bool), "department", "village"), dtype="str")


# ---- batch parsing ------------------------------------------------------------------------


def _text_column(values: np.ndarray) -> pd.Series:
    """Codes/names: numbers Excel stored as floats lose their '.0'; blank → NA."""
    return parse_text(pd.Series(values, dtype=object, copy=False))


def parse_raw(raws: list[RawSubmission], catalogue: Catalogue) -> pd.DataFrame:
    """Typed RECEIVED rows for any number of raw submissions, one vectorised pass."""
    raws = [r for r in raws if len(r)]
    if not raws:
        return empty_received(catalogue)
    lengths = np.array([len(r) for r in raws])
    n = int(lengths.sum())

    def rep(values: list[object], dtype: str) -> pd.Series:
        return pd.Series(np.repeat(np.array(values, dtype=object), lengths), dtype=dtype)

    def cat(f: str) -> np.ndarray:
        return np.concatenate([r.columns[f] for r in raws])

    out: dict[str, object] = {
        "file_id": rep([r.file_id for r in raws], "str"),
        "file_name": rep([r.file_name for r in raws], "str"),
        "sheet": pd.Series(np.concatenate([r.sheet for r in raws]), dtype="str"),
        "row_number": np.concatenate([r.row_number for r in raws]).astype("int64"),
    }
    unit_code = _text_column(cat("unit_code"))
    out["unit_code"] = unit_code
    out["unit_name"] = _text_column(cat("unit_name"))
    out["period"], out["period_raw"] = parse_periods(pd.Series(cat("period"), dtype=object))
    marker = rep([r.marker_kind for r in raws], "str")
    inferred = infer_kind(unit_code)
    out["claimed_kind"] = marker.where(marker.isin(["department", "village"]), inferred)
    received_at = pd.Series(pd.to_datetime([r.received_at for r in raws], utc=True).as_unit("us"))
    out["received_at"] = received_at.iloc[np.repeat(np.arange(len(raws)), lengths)].reset_index(
        drop=True
    )
    na_lists = np.empty(n, dtype=object)
    errors: list[tuple[int, dict]] = []
    coercions: list[tuple[int, dict]] = []
    for ind in catalogue.indicators:
        col = pd.Series(cat(ind.code), dtype=object, copy=False)
        if not ind.is_numeric:
            out[ind.code] = parse_text(col)
            continue
        parsed = parse_counts(col, ind.code, ind.unit)
        out[ind.code] = parsed.values
        for p in parsed.not_applicable:
            na_lists[p] = ind.code if na_lists[p] is None else f"{na_lists[p]},{ind.code}"
        errors.extend(parsed.errors)
        coercions.extend(parsed.coercions)
    na_lists[pd.isna(na_lists)] = ""
    out["not_applicable"] = pd.Series(na_lists, dtype="str")
    errors.sort(key=lambda e: e[0])
    coercions.sort(key=lambda e: e[0])
    out["cell_errors"] = pd.Series(events_json(n, errors), dtype="str")
    out["coercions"] = pd.Series(events_json(n, coercions), dtype="str")
    out["disposition"] = pd.Series(np.full(n, "candidate", dtype=object), dtype="str")
    out["superseded_by"] = pd.Series(np.full(n, None, dtype=object), dtype="str")
    out["superseded_reason"] = pd.Series(np.full(n, None, dtype=object), dtype="str")
    frame = pd.DataFrame({c: _plain(out[c]) for c in received_columns(catalogue)})
    return frame


def _plain(values: object) -> object:
    return values.reset_index(drop=True) if isinstance(values, pd.Series) else values


def read_submission(
    path: Path,
    catalogue: Catalogue,
    *,
    file_id: str,
    file_name: str,
    received_at: pd.Timestamp,
    sheet_hint: str | None = None,
    suffix: str | None = None,
) -> Submission:
    """Read one xlsx/csv file into RECEIVED rows; raise SubmissionRejected if it cannot be.

    Every visible sheet with a recognisable header contributes rows; title rows above the
    header are skipped; ``row_number`` is the row the clerk sees in Excel (CSV: the line).
    ``suffix`` (".xlsx"/".csv") overrides the path's; a path without one is sniffed, so
    the content-addressed copy ``store_dir/<file_id>`` can be read as it is.
    """
    raw = read_raw(
        Path(path),
        catalogue,
        file_id=file_id,
        file_name=file_name,
        received_at=received_at,
        sheet_hint=sheet_hint,
        suffix=suffix,
    )
    rows = parse_raw([raw], catalogue)
    if rows.empty:
        rows = empty_received(catalogue)
    return Submission(
        rows=rows,
        extra_columns=raw.extra_columns,
        form=raw.form,
        claimed_kind=raw.marker_kind,
        sheets=list(dict.fromkeys(str(s) for s in raw.sheet)),
    )
