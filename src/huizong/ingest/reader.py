"""Read one submission file (xlsx or csv) into RECEIVED rows: the entry to the reader.

The reader is four pieces, each readable and testable alone, joined here:

- :mod:`huizong.ingest.text` — a CSV's encoding from its bytes, and its cells;
- :mod:`huizong.ingest.cells` — a workbook's visible sheets, cached formula values, marker;
- :mod:`huizong.ingest.layout` — each sheet's header, and what each row below it is;
- :mod:`huizong.ingest.rows` — the report rows (and total rows apart) as written;

then :mod:`huizong.ingest.received` types them. Reading is split in two so that a day of
40,000 small township files is parsed as one batch: :func:`read_raw` does the per-file
work and :func:`parse_raw` turns any number of raw submissions into typed RECEIVED rows
with whole-column operations. :func:`read_submission` is both, for one file (used by
``huizong validate FILE`` and the upload page).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.ingest.cells import MARKER_SHEET, xlsx_sheets
from huizong.ingest.layout import sheet_layouts
from huizong.ingest.received import (
    empty_received,
    extras,
    infer_kind,
    parse_raw,
    received_columns,
)
from huizong.ingest.rejected import SubmissionRejected
from huizong.ingest.rows import RawSubmission, collect_rows
from huizong.ingest.safety import guard_file_zip
from huizong.ingest.text import csv_rows, decode_text

__all__ = [
    "MARKER_SHEET",
    "SUPPORTED_SUFFIXES",
    "RawSubmission",
    "Submission",
    "SubmissionRejected",
    "decode_text",
    "empty_received",
    "infer_kind",
    "parse_raw",
    "read_raw",
    "read_submission",
    "received_columns",
]

SUPPORTED_SUFFIXES = (".xlsx", ".csv")


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


def read_raw(
    path: Path,
    catalogue: Catalogue,
    *,
    file_id: str,
    file_name: str,
    received_at: pd.Timestamp,
    sheet_hint: str | None = None,
    suffix: str | None = None,
    data: bytes | None = None,
) -> RawSubmission:
    """Open one file and pick out its header and data cells (no value parsing).

    ``suffix`` overrides the path's (the inbox reads the content-addressed copy); a path
    without one (``store_dir/<sha256>``) is sniffed: a zip is xlsx, anything else csv.
    The file is read once (:func:`file_bytes`; ``data`` if the caller has done so): the
    sniffing, the zip checks, calamine and the formula check all read those bytes.
    """
    if data is None:
        try:
            data = file_bytes(path)
        except OSError:
            data = None  # each step below opens the path and reports it as it always has
    suffix = (suffix or path.suffix).lower() or _sniff(path, data)
    # content decides; bombs refused first
    suffix, zf = guard_file_zip(path, suffix, name=file_name, data=data)
    if suffix == ".xlsx":
        try:
            sheets, marker, notes = xlsx_sheets(path, sheet_hint, data=data, zf=zf)
        finally:
            if zf is not None:
                zf.close()
    elif suffix == ".csv":
        rows, notes = csv_rows(path, data=data)
        sheets, marker = [("", rows)], {}
    else:
        raise SubmissionRejected(
            f"不支持的文件类型 {suffix or '(无扩展名)'}",
            f"unsupported file type {suffix or '(none)'}",
        )
    layouts, layout_notes = sheet_layouts(sheets, catalogue)
    return collect_rows(
        layouts,
        marker,
        catalogue,
        file_id=file_id,
        file_name=file_name,
        received_at=received_at,
        notes=[*notes, *layout_notes],
    )


#: Files up to this size are read into memory once; larger ones (up to the size limit)
#: are read from their path by each step, as before, so memory stays bounded.
IN_MEMORY_BYTES = 64 * 1024 * 1024


def file_bytes(path: Path) -> bytes | None:
    """The file's bytes if it is small enough to hold (almost every submission), else
    None (OSError if it cannot be opened)."""
    with Path(path).open("rb") as f:
        if os.fstat(f.fileno()).st_size > IN_MEMORY_BYTES:
            return None
        return f.read()


def _sniff(path: Path, data: bytes | None) -> str:
    if data is not None:
        magic = data[:4]
    else:
        try:
            with path.open("rb") as f:
                magic = f.read(4)
        except OSError as exc:
            raise SubmissionRejected(
                f"无法读取文件：{exc}", f"cannot read the file: {exc}"
            ) from exc
    return ".xlsx" if magic == b"PK\x03\x04" else ".csv"


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
        extra=pd.Series(extras([raw]) if len(raw) else [], dtype="str"),
    )
