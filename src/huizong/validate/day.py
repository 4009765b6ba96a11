"""Validate a day's RECEIVED: one verdict for the night, the upload page, ``huizong validate``.

Ingest lets a later file supersede the earlier rows of the same unit and date before
anything is checked. A later report that fails the checks must not take the place of an
earlier one that passed (a township re-sending a broken batch must not wipe out its
villages' good reports), so after validation, for every (unit, date) whose latest rows
all failed, the rows they superseded (from strictly earlier arrivals) are validated in
their place, going back one arrival at a time. The failed later rows stay quarantined,
with one more issue, ``earlier_report_kept``, naming the file whose report stays in
use. When no earlier row passes either, nothing changes: the later rows are quarantined
and the earlier ones stay superseded. Row accounting (:mod:`huizong.validate.accounting`)
counts a superseded row that is back in use as accepted (or quarantined), not superseded.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from huizong import frames
from huizong.catalogue import Catalogue
from huizong.registry import Registry
from huizong.validate.rows import (
    ValidationResult,
    candidates_of,
    empty_issues,
    sorted_issues,
    validate_rows,
)
from huizong.validate.waivers import STEWARD_KEPT, apply_waivers

#: The quarantine rule of a failed row whose unit's earlier report stays in use.
EARLIER_KEPT = "earlier_report_kept"
_UNIT_DAY = ["unit_code", "period"]


def validate_received(
    received: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    settings: Any = None,
    waivers: pd.DataFrame | None = None,
) -> ValidationResult:
    """The day's verdict: the suite (and the stewards' waivers) over the candidate rows,
    with a failed later report falling back to the unit's earlier accepted one."""

    def once(rows: pd.DataFrame) -> ValidationResult:
        result = validate_rows(rows, day, catalogue, registry, settings)
        return apply_waivers(result, rows, waivers) if waivers is not None else result

    result = once(received)
    rows = received
    held_q: list[pd.DataFrame] = []
    held_w: list[pd.DataFrame] = []
    held_keys: list[pd.DataFrame] = []
    restored: list[pd.DataFrame] = []
    while True:
        held, back = _fallbacks(rows, result, held_keys)
        if not back.any():
            break
        held_rows = rows[held]
        held_keys.append(held_rows[[*frames.ROW_KEY, *_UNIT_DAY, "file_name", "unit_name"]])
        held_q.append(result.quarantine[_in(result.quarantine, held_rows)])
        held_w.append(result.warnings[_in(result.warnings, held_rows)])
        # copy-on-write: only the three columns set below are copied, not the whole day
        rows = rows.copy(deep=False)
        restored.append(rows.loc[back, frames.ROW_KEY])
        rows.loc[back, "disposition"] = "candidate"
        rows.loc[back, "superseded_by"] = pd.NA
        rows.loc[back, "superseded_reason"] = pd.NA
        # a held row is out of the running: quarantined by the pass that failed it
        rows.loc[held, "disposition"] = "superseded"
        result = once(rows)
    if not held_keys:
        return result
    original = candidates_of(received)[frames.ROW_KEY]
    back_in = pd.concat(restored, ignore_index=True)
    return _settled(result, original, back_in, held_keys, held_q, held_w)


def key_codes(parts: list[pd.DataFrame], columns: list[str]) -> list[np.ndarray]:
    """Each frame's ``columns`` as one int64 per row, equal exactly where the rows' values
    are (NA equal to NA), and dense: 0 ≤ code < the rows of all ``parts`` together.

    Why integers: a MultiIndex of (unit, day) over a national day, mapped and put into
    Python sets of tuples, was the validate step's peak (0.3 GB); codes are 8 bytes a row.
    Each column is factorized over all parts at once, then folded into the codes so far
    and factorized again, so the product never grows past (rows)² and cannot overflow.
    """
    sizes = [len(p) for p in parts]
    code = np.zeros(sum(sizes), dtype="int64")
    for column in columns:
        values = pd.concat([p[column].reset_index(drop=True) for p in parts], ignore_index=True)
        if column == "row_number":  # as the row key compares it (Int64 or int64 alike)
            values = values.astype("int64")
        level, uniques = pd.factorize(values, use_na_sentinel=False)
        code = pd.factorize(code * max(len(uniques), 1) + level)[0].astype("int64")
    return np.split(code, np.cumsum(sizes)[:-1])


def _in(
    frame: pd.DataFrame, other: pd.DataFrame, columns: list[str] = frames.ROW_KEY
) -> np.ndarray:
    """Per row of ``frame``: is its key (``columns``) among ``other``'s?"""
    mine, theirs = key_codes([frame, other], columns)
    return _among(mine, theirs, len(frame) + len(other))


def _among(codes: np.ndarray, wanted: np.ndarray, size: int) -> np.ndarray:
    """``np.isin`` of dense codes (< ``size``) by one boolean table, no hashing."""
    table = np.zeros(size, dtype=bool)
    table[wanted] = True
    return table[codes]


def _fallbacks(
    rows: pd.DataFrame, result: ValidationResult, held_before: list[pd.DataFrame]
) -> tuple[np.ndarray, np.ndarray]:
    """(held, restored) masks over ``rows``: the candidates of every unit and day whose
    candidates all failed and that superseded rows of an earlier arrival, and those
    earlier rows of the latest such arrival."""
    none = np.zeros(len(rows), dtype=bool)
    superseded = (rows["disposition"] == "superseded").to_numpy()
    if not superseded.any() or result.quarantine.empty:
        return none, none
    keyed = rows["unit_code"].notna().to_numpy() & rows["period"].notna().to_numpy()
    cand = ~superseded & keyed
    failed = _in(rows, result.quarantine)
    (unit_day,) = key_codes([rows], _UNIT_DAY)  # one dense code per (unit, day)
    days = len(rows)
    bad = cand & failed & ~_among(unit_day, unit_day[cand & ~failed], days)
    if not bad.any():
        return none, none
    by_files = set(rows.loc[bad, "file_id"].astype("str"))
    for h in held_before:
        by_files |= set(h["file_id"].astype("str"))
    # RECEIVED is in arrival order (ingest visits files by arrival): a file's place is
    # the position of its first row (factorize numbers files in order of appearance)
    file_code = pd.factorize(rows["file_id"], use_na_sentinel=False)[0]
    place = np.unique(file_code, return_index=True)[1][file_code].astype("int64")
    none_bad = np.iinfo("int64").max
    before = np.full(days, none_bad)  # per (unit, day): its first bad arrival
    np.minimum.at(before, unit_day[bad], place[bad])
    before[before == none_bad] = -1  # no bad arrival: nothing comes back
    reason = rows["superseded_reason"].fillna("").astype("str")
    maybe = (
        superseded
        & keyed
        & rows["superseded_by"].astype("str").isin(by_files).to_numpy()
        & ~reason.str.startswith(STEWARD_KEPT).to_numpy()  # a steward's choice stands
        & (place < before[unit_day])
    )
    if not maybe.any():
        return none, none
    latest = np.full(days, -1, dtype="int64")  # per (unit, day): the latest earlier arrival
    np.maximum.at(latest, unit_day[maybe], place[maybe])
    back = maybe & (place == latest[unit_day])
    held = bad & _among(unit_day, unit_day[back], days)
    return held, back


def _settled(
    result: ValidationResult,
    original: pd.DataFrame,
    restored: pd.DataFrame,
    held_keys: list[pd.DataFrame],
    held_q: list[pd.DataFrame],
    held_w: list[pd.DataFrame],
) -> ValidationResult:
    """The last pass's verdict with the held rows' issues back, for the units and days an
    earlier report now stands for; where none passed, the first verdict stands.
    ``original``: the row keys of the first pass's candidates; ``restored``: of the rows
    brought back."""
    accepted = result.accepted
    in_use = accepted[_in(accepted, restored)]
    held = pd.concat(held_keys, ignore_index=True)
    saved = _in(held, in_use, _UNIT_DAY)
    # where no earlier row passed: restored rows are superseded again, the original
    # candidates keep their first verdict
    revert = restored[~_in(restored, in_use)]
    keep_held = held[saved | _in(held, original)]

    def issues(last: pd.DataFrame, before: list[pd.DataFrame]) -> pd.DataFrame:
        last = last[~_in(last, revert)] if len(last) else last
        old = pd.concat(before, ignore_index=True) if before else empty_issues()
        old = old[_in(old, keep_held)] if len(old) else old
        return pd.concat([f for f in (last, old) if len(f)] or [empty_issues()], ignore_index=True)

    note = _kept_notes(held[saved], in_use)
    quarantine = sorted_issues(
        pd.concat([issues(result.quarantine, held_q), note], ignore_index=True)
    )
    warnings = sorted_issues(issues(result.warnings, held_w))
    return ValidationResult(accepted=accepted, quarantine=quarantine, warnings=warnings)


def _kept_notes(held: pd.DataFrame, in_use: pd.DataFrame) -> pd.DataFrame:
    """One ``earlier_report_kept`` issue per held row, naming the file still in use."""
    if held.empty:
        return empty_issues()
    use = in_use.drop_duplicates(_UNIT_DAY)[[*_UNIT_DAY, "file_name"]]
    use = use.astype("str").rename(columns={"file_name": "kept_file"})
    h = held.astype({c: "str" for c in _UNIT_DAY}).merge(use, on=_UNIT_DAY, how="left")
    name = h["unit_name"].fillna("").astype("str").str.strip()
    code = h["unit_code"].astype("str")
    who = (name + "（" + code + "）").where(name != "", code)
    out = pd.DataFrame(
        {
            "period": h["period"],
            "file_id": h["file_id"].astype("str"),
            "file_name": h["file_name"].astype("str"),
            "sheet": h["sheet"].astype("str"),
            "row_number": h["row_number"].astype("int64"),
            "unit_code": h["unit_code"],
            "unit_name": h["unit_name"],
            "column": pd.NA,
            "value": h["kept_file"],
            "rule": EARLIER_KEPT,
            "severity": "error",
            "message_zh": who + " 未通过校验，沿用先前已接收的报表（" + h["kept_file"] + "）",
            "message_en": who
            + ": failed checks; your earlier report ("
            + h["kept_file"]
            + ") stays in use",
        }
    )
    return out
