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
    original = _keys(candidates_of(received))
    held_q: list[pd.DataFrame] = []
    held_w: list[pd.DataFrame] = []
    held_keys: list[pd.DataFrame] = []
    restored = _keys(received.iloc[:0])
    while True:
        held, back = _fallbacks(rows, result, held_keys)
        if not back.any():
            break
        held_rows = rows[held]
        hk = _keys(held_rows)
        held_keys.append(held_rows[[*frames.ROW_KEY, *_UNIT_DAY, "file_name", "unit_name"]])
        held_q.append(result.quarantine[_keys(result.quarantine).isin(hk)])
        held_w.append(result.warnings[_keys(result.warnings).isin(hk)])
        rows = rows.copy()
        restored = restored.append(_keys(rows[back]))
        rows.loc[back, "disposition"] = "candidate"
        rows.loc[back, "superseded_by"] = pd.NA
        rows.loc[back, "superseded_reason"] = pd.NA
        # a held row is out of the running: quarantined by the pass that failed it
        rows.loc[held, "disposition"] = "superseded"
        result = once(rows)
    if not held_keys:
        return result
    return _settled(result, rows, original, restored, held_keys, held_q, held_w)


def _keys(frame: pd.DataFrame) -> pd.MultiIndex:
    keys = frame[frames.ROW_KEY].astype({"file_id": "str", "sheet": "str", "row_number": "int64"})
    return pd.MultiIndex.from_frame(keys)


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
    failed = _keys(rows).isin(_keys(result.quarantine))
    unit_day = pd.MultiIndex.from_frame(rows[_UNIT_DAY].astype("str"))
    ok_days = set(unit_day[cand & ~failed])
    bad = cand & failed & ~unit_day.isin(ok_days)
    if not bad.any():
        return none, none
    by_files = set(rows.loc[bad, "file_id"].astype("str"))
    for h in held_before:
        by_files |= set(h["file_id"].astype("str"))
    # RECEIVED is in arrival order (ingest visits files by arrival): a file's place is
    # the position of its first row
    file_id = rows["file_id"].astype("str").to_numpy()
    first_row = pd.Series(np.arange(len(rows))).groupby(file_id).transform("min")
    place = pd.Series(first_row.to_numpy(), index=unit_day)
    first_bad = place[bad].groupby(level=list(range(unit_day.nlevels))).min()
    before = unit_day.map(first_bad).to_numpy(dtype="float64", na_value=np.nan)
    reason = rows["superseded_reason"].fillna("").astype("str")
    maybe = (
        superseded
        & keyed
        & rows["superseded_by"].astype("str").isin(by_files).to_numpy()
        & ~reason.str.startswith(STEWARD_KEPT).to_numpy()  # a steward's choice stands
        & (place.to_numpy() < before)
    )
    if not maybe.any():
        return none, none
    latest = place[maybe].groupby(level=list(range(unit_day.nlevels))).transform("max")
    back = np.zeros(len(rows), dtype=bool)
    back[np.flatnonzero(maybe)[place[maybe].to_numpy() == latest.to_numpy()]] = True
    held = bad & unit_day.isin(set(unit_day[back]))
    return held, back


def _settled(
    result: ValidationResult,
    rows: pd.DataFrame,
    original: pd.MultiIndex,
    restored: pd.MultiIndex,
    held_keys: list[pd.DataFrame],
    held_q: list[pd.DataFrame],
    held_w: list[pd.DataFrame],
) -> ValidationResult:
    """The last pass's verdict with the held rows' issues back, for the units and days an
    earlier report now stands for; where none passed, the first verdict stands."""
    accepted = result.accepted
    in_use = accepted[_keys(accepted).isin(restored)]
    saved_days = set(pd.MultiIndex.from_frame(in_use[_UNIT_DAY].astype("str")))
    held = pd.concat(held_keys, ignore_index=True)
    held_day = pd.MultiIndex.from_frame(held[_UNIT_DAY].astype("str"))
    saved = held_day.isin(saved_days)
    # where no earlier row passed: restored rows are superseded again, the original
    # candidates keep their first verdict
    revert = restored[~restored.isin(_keys(in_use))]
    keep_held = _keys(held[saved | _keys(held).isin(original)])

    def issues(last: pd.DataFrame, before: list[pd.DataFrame]) -> pd.DataFrame:
        last = last[~_keys(last).isin(revert)] if len(last) else last
        old = pd.concat(before, ignore_index=True) if before else empty_issues()
        old = old[_keys(old).isin(keep_held)] if len(old) else old
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
