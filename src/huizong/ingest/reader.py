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
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.ingest.headers import (
    HEADER_SEARCH_ROWS,
    META_LABELS_ZH,
    REQUIRED_META,
    find_header,
    header_labels,
)
from huizong.ingest.periods import parse_periods, periods_with_year
from huizong.ingest.values import NoCachedValue, events_json, parse_counts, parse_text

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

#: Hidden sheet the template writes: rows of (key, value), e.g. ("kind", "department").
MARKER_SHEET = "_huizong"
SUPPORTED_SUFFIXES = (".xlsx", ".csv")


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
    #: Per row: JSON object {header: cell} of the unknown columns ("" when none).
    extra: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    #: Year of a full date written above the header, for periods written "1月28日".
    year_hint: int | None = None
    #: Things the clerk should know that are not row errors (skipped sheets and lines,
    #: the encoding found), bilingual, for the ledger's message.
    notes: list[str] = field(default_factory=list)
    #: Total rows (合计/小计, or the township's own code): not village reports.
    totals: RawSubmission | None = None

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
    #: Total rows (合计, or the township's own code) in RECEIVED columns, ``unit_code`` =
    #: the township's code (NA if it cannot be told); not counted in ``rows``.
    totals: pd.DataFrame | None = None
    #: Bilingual notes for the ledger: skipped sheets and footer lines, encoding found.
    notes: list[str] = field(default_factory=list)
    #: Per row of ``rows``: JSON {header: cell as written} of unknown columns ("" none).
    extra: pd.Series | None = None


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
    from huizong.ingest.safety import guard_file  # content decides; bombs refused first

    suffix = guard_file(path, suffix, name=file_name)
    if suffix == ".xlsx":
        sheets, marker, sheet_notes = _xlsx_sheets(path, sheet_hint)
    elif suffix == ".csv":
        rows, sheet_notes = _csv_rows(path)
        sheets, marker = [("", rows)], {}
    else:
        raise SubmissionRejected(
            f"不支持的文件类型 {suffix or '(无扩展名)'}",
            f"unsupported file type {suffix or '(none)'}",
        )
    notes: list[str] = list(sheet_notes)
    parts: list[tuple[str, list[list[object]], int, list[str | None]]] = []
    for name, rows in sheets:
        idx, mapped = find_header(rows, catalogue)
        if idx < 0:
            if any(not _is_blank(c) for r in rows for c in r):
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
        parts.append((name, rows, idx, mapped))
    if not parts:
        raise SubmissionRejected(
            "未找到表头：前10行中没有一行包含单位代码、单位名称、日期等列",
            "no header row found: none of the first 10 rows names the unit code, "
            "unit name and date columns",
        )
    fields = [*REQUIRED_META, *catalogue.codes]
    data_part = _Collector(fields)
    total_part = _Collector(fields)
    extras: list[str] = []
    year_hint: int | None = None
    township = _marker_township(marker)
    for name, rows, idx, mapped in parts:
        header = header_labels(rows, idx)
        year_hint = year_hint or _title_year(rows[:idx])
        data = rows[idx + 1 :]
        grid = _grid(data, len(header))
        first_row = idx + 2  # 1-based, the row after the header
        numbers = np.arange(first_row, first_row + len(data), dtype="int64")
        taken: dict[str, int] = {}
        extra_at: dict[int, str] = {}
        for j, f in enumerate(mapped):
            if f is not None and f not in taken:
                taken[f] = j
            elif j < len(header) and header[j]:
                extra_at[j] = header[j]
        extras.extend(extra_at.values())
        used = list(taken.values())
        if len(data):
            sub = grid[:, used]
            nonblank = ~((sub == "") | pd.isna(sub)).all(axis=1)
        else:
            nonblank = np.zeros(0, bool)
        kind = _row_kinds(grid, taken, catalogue, nonblank)
        township = township or _township_of(grid[kind == _DATA, taken["unit_code"]])
        for k, label in ((_SIGNATURE, "签字/说明行"), (_FOOTER, "无代码的说明行")):
            skipped = numbers[kind == k]
            if len(skipped):
                notes.append(
                    f"{_where(name)}第{_rows_text(skipped)}行是{label}，不是村级报表，已跳过 / "
                    f"{_where_en(name)}row {_rows_text(skipped)}: a signature or note line, "
                    "not a report; skipped"
                )
        for part, k in ((data_part, _DATA), (total_part, _TOTAL)):
            keep = kind == k
            part.add(grid, keep, taken, name, numbers, _extra_json(grid, keep, extra_at))
    if total_part.rows:
        notes.append(
            f"合计行 {total_part.rows} 行单独保存，不计入村级数据 / {total_part.rows} total "
            "row(s) kept apart from the village rows"
        )
        if township is None:
            notes.append(
                "无法确定合计行所属乡镇代码 / cannot tell which township the total rows are for"
            )
    common = dict(
        file_id=file_id,
        file_name=file_name,
        received_at=received_at,
        form=str(marker.get("form") or catalogue.form),
        marker_kind=marker.get("kind"),
        year_hint=year_hint,
    )
    totals = None
    if total_part.rows:
        totals = RawSubmission(**common, **total_part.arrays())
        totals.columns["unit_code"] = np.full(len(totals), township, dtype=object)
    return RawSubmission(
        **common,
        **data_part.arrays(),
        extra_columns=list(dict.fromkeys(extras)),
        notes=notes,
        totals=totals,
    )


# ---- rows that are not village reports ----------------------------------------------------

_DATA, _TOTAL, _SIGNATURE, _FOOTER, _EMPTY = 0, 1, 2, 3, 4
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


def _row_kinds(
    grid: np.ndarray, taken: dict[str, int], catalogue: Catalogue, nonblank: np.ndarray
) -> np.ndarray:
    """Per data row: a unit's report, a total row, a signature line, a note, or empty.

    Vectorised on the code and name columns; only rows whose code is not code-like (a
    handful per file) are looked at cell by cell."""
    kind = np.where(nonblank, _DATA, _EMPTY)
    if not len(grid):
        return kind
    code = _cell_texts(grid[:, taken["unit_code"]])
    name = _cell_texts(grid[:, taken["unit_name"]])
    totals = code.str.match(_TOTAL_WORDS) | ((code == "") & name.str.match(_TOTAL_WORDS))
    kind[totals.to_numpy(bool) & nonblank] = _TOTAL
    odd = np.flatnonzero(nonblank & ~code.str.match(_CODE_LIKE).to_numpy(bool) & (kind == _DATA))
    indicator_cols = [taken[c] for c in catalogue.codes if c in taken]
    for i in odd:
        cells = [unicodedata.normalize("NFKC", str(c)).strip() for c in grid[i] if not _is_blank(c)]
        if any(_SIGNATURE_WORDS.match(c) for c in cells):
            kind[i] = _SIGNATURE
        elif code[i] == "" and all(
            _is_blank(grid[i, j]) for j in [taken["period"], *indicator_cols]
        ):
            kind[i] = _FOOTER
    # A row carrying the township's own code is the township's total, not a village.
    if (kind == _DATA).any():
        township = _township_of(grid[kind == _DATA, taken["unit_code"]])
        if township is not None:
            own = code.isin([township, township + "000"]).to_numpy(bool)
            kind[own & (kind == _DATA)] = _TOTAL
    return kind


def _township_of(codes: np.ndarray) -> str | None:
    """The township (9-digit code) of a file's village rows, if they share exactly one."""
    text = _cell_texts(codes)
    village = text[text.str.match(r"^\d{12}$") & ~text.str.endswith("000")]
    prefixes = village.str.slice(0, 9).unique()
    return str(prefixes[0]) if len(prefixes) == 1 else None


def _marker_township(marker: dict[str, str]) -> str | None:
    """A township template's marker names the township (12-digit code ending 000 or 9)."""
    code = str(marker.get("unit_code") or "")
    if re.fullmatch(r"\d{9}", code):
        return code
    if re.fullmatch(r"\d{9}000", code):
        return code[:9]
    return None


_TITLE_DATE = re.compile(r"(20\d{2})\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}")


def _title_year(rows: list[list[object]]) -> int | None:
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


def _where(sheet: str) -> str:
    return f"工作表“{sheet}”" if sheet else ""


def _where_en(sheet: str) -> str:
    return f"sheet {sheet!r} " if sheet else ""


def _rows_text(numbers: np.ndarray) -> str:
    shown = ",".join(str(int(n)) for n in numbers[:10])
    return shown + ("…" if len(numbers) > 10 else "")


def _extra_json(grid: np.ndarray, keep: np.ndarray, extra_at: dict[int, str]) -> np.ndarray:
    """Per kept row: JSON object {header: cell as written} of the unknown columns."""
    out = np.full(int(keep.sum()), "", dtype=object)
    if not extra_at or not len(out):
        return out
    rows = grid[keep]
    for i, row in enumerate(rows):
        got = {
            label: _cell_text(row[j])
            for j, label in extra_at.items()
            if j < len(row) and not _is_blank(row[j])
        }
        if got:
            out[i] = json.dumps(got, ensure_ascii=False)
    return out


def _cell_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


class _Collector:
    """Rows picked from several sheets, concatenated at the end."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self.columns: dict[str, list[np.ndarray]] = {f: [] for f in fields}
        self.sheet: list[np.ndarray] = []
        self.numbers: list[np.ndarray] = []
        self.extra: list[np.ndarray] = []
        self.rows = 0

    def add(
        self,
        grid: np.ndarray,
        keep: np.ndarray,
        taken: dict[str, int],
        sheet: str,
        numbers: np.ndarray,
        extra: np.ndarray,
    ) -> None:
        n = int(keep.sum())
        for f in self.fields:
            col = grid[keep, taken[f]] if f in taken else np.full(n, None, dtype=object)
            self.columns[f].append(col)
        self.sheet.append(np.full(n, sheet, dtype=object))
        self.numbers.append(numbers[keep])
        self.extra.append(extra)
        self.rows += n

    def arrays(self) -> dict[str, object]:
        def cat(parts: list[np.ndarray], dtype: str) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        return {
            "columns": {f: cat(v, "object") for f, v in self.columns.items()},
            "sheet": cat(self.sheet, "object"),
            "row_number": cat(self.numbers, "int64").astype("int64"),
            "extra": cat(self.extra, "object"),
        }


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
) -> tuple[list[tuple[str, list[list[object]]]], dict[str, str], list[str]]:
    """Visible worksheets as rows of cells (A1 = rows[0][0]), the template marker, and
    notes on the sheets skipped; formula cells without a cached value are marked."""
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
        if sheets and _has_formulas(path):
            _mark_formulas_without_value(path, sheets)
        return sheets, marker, notes
    except SubmissionRejected:
        raise
    except Exception as exc:
        raise SubmissionRejected(
            f"无法读取Excel文件：{exc}", f"cannot read the Excel file: {exc}"
        ) from exc
    finally:
        wb.close()


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet XML holds a formula (cheap: no XML parsing)."""
    try:
        with zipfile.ZipFile(path) as zf:
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


def _mark_formulas_without_value(path: Path, sheets: list[tuple[str, list[list[object]]]]) -> None:
    """Cells that hold a formula but read blank (no cached result: files written by
    scripts, never opened in Excel) become :class:`NoCachedValue`, a cell error later.

    openpyxl gets an open file, not the path: it refuses names without an Excel
    extension, and the nightly ingest reads the stored copy ``store/<sha256>``. A
    workbook whose formulas cannot be checked is rejected rather than read as blanks."""
    import openpyxl

    with path.open("rb") as fh:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises several types for odd workbooks
            raise SubmissionRejected(
                f"无法检查文件中的公式：{exc}；请在Excel中打开并另存为 .xlsx 后重报",
                f"cannot check the formulas in the file: {exc}; open it in Excel, "
                "save as .xlsx and resubmit",
            ) from exc
        _mark_cells(wb, sheets)


def _mark_cells(wb: Workbook, sheets: list[tuple[str, list[list[object]]]]) -> None:
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
                    if c < len(cells) and not _is_blank(cells[c]):
                        continue  # the cached value is there: use it
                    cells.extend([""] * (c + 1 - len(cells)))
                    cells[c] = NoCachedValue(value)
    finally:
        wb.close()


#: Byte-order marks, longest first (a UTF-32-LE BOM starts with the UTF-16-LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_DECLARED = re.compile(r"(?:encoding|charset|编码)\s*[=:：]\s*[\"']?([A-Za-z][\w.-]*)", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "euc_cn", "hz"}


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding used, notes) for a text file's bytes.

    The encoding is found from the bytes only, never from what the file says about
    itself: a byte-order mark (UTF-8/16/32) decides; else NUL bytes mean UTF-16 without
    a mark; else a strict UTF-8 decode, then a strict GB18030 decode (a superset of GBK
    and GB2312). A declaration in the text ("encoding=utf-8", a meta charset) that the
    bytes contradict is a "mis-declared" file: it is read as the bytes say, with a note.
    Bytes that fit none are rejected, naming the first bad byte for each encoding tried.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(enc)
            except UnicodeDecodeError as exc:
                raise _undecodable([(enc, exc.start + len(bom), data)]) from exc
            return text, enc, _declaration_notes(text, enc)
    failures = []
    head = data[:4096]
    if head.count(0) > len(head) // 8:  # UTF-16 text without a BOM
        odd = head[1::2].count(0) >= head[0::2].count(0)
        candidates = ["utf-16-le" if odd else "utf-16-be"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            failures.append((enc, exc.start, data))
            continue
        return text, enc, _declaration_notes(text, enc)
    raise _undecodable(failures)


def _undecodable(failures: list[tuple[str, int, bytes]]) -> SubmissionRejected:
    zh = "；".join(
        f"按{enc.upper()}解码，第{pos + 1}个字节（0x{data[pos]:02X}）无效"
        for enc, pos, data in failures
    )
    en = "; ".join(
        f"as {enc.upper()}, byte offset {pos} (0x{data[pos]:02X}) is invalid"
        for enc, pos, data in failures
    )
    return SubmissionRejected(
        f"无法识别文件编码（应为UTF-8或GB18030）：{zh}；请另存为“CSV UTF-8”后重报",
        f"unknown text encoding (expected UTF-8 or GB18030): {en}; save as 'CSV UTF-8' "
        "and resubmit",
    )


def _codec_family(name: str) -> str:
    import codecs

    try:
        canon = codecs.lookup(name).name
    except LookupError:
        return name.lower()
    canon = canon.replace("_", "-")
    if canon.replace("-", "_") in _GB_FAMILY:
        return "gb"
    return "utf-8" if canon in ("utf-8", "utf-8-sig") else canon


def _declaration_notes(text: str, used: str) -> list[str]:
    m = _DECLARED.search(text[:2048])
    if not m or _codec_family(m.group(1)) == _codec_family(used):
        return []
    return [
        f"文件声明编码为 {m.group(1)}，但内容是 {used.upper()}，已按 {used.upper()} 读取 / "
        f"the file declares {m.group(1)} but its bytes are {used.upper()}; read as "
        f"{used.upper()}"
    ]


def _csv_rows(path: Path) -> tuple[list[list[object]], list[str]]:
    data = path.read_bytes()
    text, _, notes = decode_text(data)
    # Title lines have fewer fields than the header, which the C engine refuses unless it
    # is told the width: take it from the first lines (where the header must be), and only
    # if a later line is wider, from all lines (slow path, rare).
    head = list(csv.reader(text.splitlines()[:HEADER_SEARCH_ROWS]))
    width = max((len(r) for r in head), default=0)
    if width == 0:
        return [], notes
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
    return body.to_numpy(dtype=object).tolist(), notes


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
    coercions: list[tuple[int, dict]] = []
    if any(r.year_hint for r in raws):
        years = rep([r.year_hint for r in raws], "object")
        out["period"], found = periods_with_year(out["period"], out["period_raw"], years)
        coercions.extend(found)
    marker = rep([r.marker_kind for r in raws], "str")
    inferred = infer_kind(unit_code)
    out["claimed_kind"] = marker.where(marker.isin(["department", "village"]), inferred)
    received_at = pd.Series(pd.to_datetime([r.received_at for r in raws], utc=True).as_unit("us"))
    out["received_at"] = received_at.iloc[np.repeat(np.arange(len(raws)), lengths)].reset_index(
        drop=True
    )
    na_lists = np.empty(n, dtype=object)
    errors: list[tuple[int, dict]] = []
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
    out["extra"] = pd.Series(_extras(raws), dtype="str")
    frame = pd.DataFrame({c: _plain(out[c]) for c in received_columns(catalogue)})
    return frame


def _extras(raws: list[RawSubmission]) -> np.ndarray:
    return np.concatenate(
        [r.extra if len(r.extra) == len(r) else np.full(len(r), "", dtype=object) for r in raws]
    )


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
    Total rows (合计/总计/小计, or the township's own code) are not village reports: they
    are returned apart in ``totals`` and are not in ``rows`` (so not in rows_received);
    signature and note lines under the table are skipped with a note in ``notes``.
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
    totals = parse_raw([raw.totals], catalogue) if raw.totals is not None else None
    return Submission(
        rows=rows,
        extra_columns=raw.extra_columns,
        form=raw.form,
        claimed_kind=raw.marker_kind,
        sheets=list(dict.fromkeys(str(s) for s in raw.sheet)),
        totals=totals,
        notes=raw.notes,
        extra=pd.Series(_extras([raw]) if len(raw) else [], dtype="str"),
    )
