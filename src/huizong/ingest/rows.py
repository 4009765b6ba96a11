"""Collect a submission's rows: from each sheet's layout, the cells of every field.

The village/department reports and the total rows are gathered apart, across sheets,
still as the cells were written (no value parsing: :mod:`huizong.ingest.received` does
that for a whole day at once); unknown columns are kept per row as JSON, and the rows
skipped (signature and note lines) are named in the notes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.ingest import layout
from huizong.ingest.cells import cell_text, is_blank
from huizong.ingest.headers import REQUIRED_META, header_labels


@dataclass
class RawSubmission:
    """One file's cells, unparsed: meta + indicator columns as one object block."""

    file_id: str
    file_name: str
    received_at: pd.Timestamp
    form: str
    marker_kind: str | None
    #: The cells, one row per report row and one column per field of ``fields``: a day
    #: of files is concatenated block by block, not field by field (45 x 40,000 arrays).
    cells: np.ndarray
    fields: tuple[str, ...]
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

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """field -> its cells (views of ``cells``)."""
        return {f: self.cells[:, k] for k, f in enumerate(self.fields)}


def collect_rows(
    layouts: list[layout.SheetLayout],
    marker: dict[str, str],
    catalogue: Catalogue,
    *,
    file_id: str,
    file_name: str,
    received_at: pd.Timestamp,
    notes: list[str],
) -> RawSubmission:
    """The file's report rows (and apart, its total rows) from its sheets' layouts."""
    notes = list(notes)
    fields = [*REQUIRED_META, *catalogue.codes]
    data_part = _Collector(fields)
    total_part = _Collector(fields)
    extras: list[str] = []
    year_hint: int | None = None
    township = layout.marker_township(marker)
    for sheet in layouts:
        name, rows, idx, mapped = sheet.name, sheet.rows, sheet.header_row, sheet.mapped
        header = header_labels(rows, idx)
        year_hint = year_hint or layout.title_year(rows[:idx])
        data = rows[idx + 1 :]
        grid = layout.grid(data, len(header))
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
        kind, sheet_township = layout.classify_rows(grid, taken, catalogue, nonblank)
        township = township or sheet_township
        for k, label in ((layout.SIGNATURE, "签字/说明行"), (layout.FOOTER, "无代码的说明行")):
            skipped = numbers[kind == k]
            if len(skipped):
                notes.append(
                    f"{_where(name)}第{_rows_text(skipped)}行是{label}，不是村级报表，已跳过 / "
                    f"{_where_en(name)}row {_rows_text(skipped)}: a signature or note line, "
                    "not a report; skipped"
                )
        for part, k in ((data_part, layout.DATA), (total_part, layout.TOTAL)):
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
        totals.cells[:, totals.fields.index("unit_code")] = township
    return RawSubmission(
        **common,
        **data_part.arrays(),
        extra_columns=list(dict.fromkeys(extras)),
        notes=notes,
        totals=totals,
    )


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
            label: cell_text(row[j])
            for j, label in extra_at.items()
            if j < len(row) and not is_blank(row[j])
        }
        if got:
            out[i] = json.dumps(got, ensure_ascii=False)
    return out


class _Collector:
    """Rows picked from several sheets, concatenated at the end."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = tuple(fields)
        self.blocks: list[np.ndarray] = []
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
        """The kept rows of one sheet, in the fields' order: one row selection and one
        column selection (a file's ~15 rows; a selection per field cost more)."""
        n = int(keep.sum())
        if n == 0:
            return  # nothing to add: the concatenation of empty parts is the same
        rows = grid if n == len(keep) else grid[keep]
        at = [taken.get(f) for f in self.fields]
        if None in at:  # fields the sheet lacks: a column of None each
            rows = np.concatenate([rows, np.full((n, 1), None, dtype=object)], axis=1)
            at = [-1 if j is None else j for j in at]
        self.blocks.append(rows[:, at])
        self.sheet.append(np.full(n, sheet, dtype=object))
        self.numbers.append(numbers if n == len(keep) else numbers[keep])
        self.extra.append(extra)
        self.rows += n

    def arrays(self) -> dict[str, object]:
        def cat(parts: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
            if len(parts) == 1:
                return parts[0]  # one sheet (almost every file): its arrays as they are
            return np.concatenate(parts) if parts else empty

        return {
            "cells": cat(self.blocks, np.empty((0, len(self.fields)), dtype=object)),
            "fields": self.fields,
            "sheet": cat(self.sheet, np.empty(0, dtype=object)),
            "row_number": cat(self.numbers, np.empty(0, dtype="int64")).astype("int64", copy=False),
            "extra": cat(self.extra, np.empty(0, dtype=object)),
        }
