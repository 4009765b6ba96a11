"""Turn raw submissions into typed RECEIVED rows, many files in one vectorised pass.

Reading a file keeps its cells as written (:mod:`huizong.ingest.rows`); here codes and
names become text, periods dates, counts integers (or not-applicable, or a cell error
with its reason), every coercion recorded — for a whole day of files at once, so that
40,000 small township files cost whole-column operations, not per-file ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.ingest.periods import parse_periods, periods_with_year
from huizong.ingest.rows import RawSubmission
from huizong.ingest.values import events_json, parse_counts, parse_text


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


def infer_kind(code: pd.Series) -> pd.Series:
    """Department codes carry a 'D' (e.g. 130903D01); everything else reports as a village."""
    is_dep = code.str.contains("D", case=False, regex=False).fillna(False)
    return pd.Series(np.where(is_dep.to_numpy(bool), "department", "village"), dtype="str")


def _text_column(values: np.ndarray) -> pd.Series:
    """Codes/names: numbers Excel stored as floats lose their '.0'; blank → NA."""
    return parse_text(pd.Series(values, dtype=object, copy=False))


#: Fields concatenated at once across a day's files (see ``parse_raw``).
_FIELDS_AT_ONCE = 8


def parse_raw(raws: list[RawSubmission], catalogue: Catalogue) -> pd.DataFrame:
    """Typed RECEIVED rows for any number of raw submissions, one vectorised pass."""
    raws = [r for r in raws if len(r)]
    if not raws:
        return empty_received(catalogue)
    lengths = np.array([len(r) for r in raws])
    n = int(lengths.sum())

    def rep(values: list[object], dtype: str) -> pd.Series:
        return pd.Series(np.repeat(np.array(values, dtype=object), lengths), dtype=dtype)

    fields = raws[0].fields
    if any(r.fields != fields for r in raws):  # never within one catalogue's day
        raise ValueError("raw submissions of different fields cannot be parsed together")
    at = {f: k for k, f in enumerate(fields)}
    blocks: dict[int, np.ndarray] = {}

    def cat(f: str) -> np.ndarray:
        """One field's cells of every file: the files' blocks are concatenated
        ``_FIELDS_AT_ONCE`` fields at a time (one array per file and group, not per
        field; the group is dropped once read, so the peak stays one group)."""
        k = at[f]
        first = k - k % _FIELDS_AT_ONCE
        if first not in blocks:
            blocks.clear()
            blocks[first] = np.concatenate(
                [r.cells[:, first : first + _FIELDS_AT_ONCE] for r in raws]
            )
        return np.ascontiguousarray(blocks[first][:, k - first])

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
    out["extra"] = pd.Series(extras(raws), dtype="str")
    frame = pd.DataFrame({c: _plain(out[c]) for c in received_columns(catalogue)})
    return frame


def extras(raws: list[RawSubmission]) -> np.ndarray:
    """Per row of the raw submissions: the JSON of its unknown columns ("" when none)."""
    return np.concatenate(
        [r.extra if len(r.extra) == len(r) else np.full(len(r), "", dtype=object) for r in raws]
    )


def _plain(values: object) -> object:
    return values.reset_index(drop=True) if isinstance(values, pd.Series) else values
