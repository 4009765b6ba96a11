"""Re-validate only the rows a correction touched, splicing them into the day's verdict.

Why: validating a national day takes half a minute (GX over 578 k rows) when a steward
corrected one village. Every rule but two looks at one row; ``unique_unit_day`` looks at
the rows of one unit and day, and a missing code's suggestion at the rows of its file.
So the rows to validate again are closed over both: every row of a unit that has a
touched row, every row of a file that has one, until nothing is added. Those rows go
through the very same ``validate`` (GX suite, messages, waivers) as the night, and their
verdicts replace the earlier ones; every other row keeps its verdict. The result equals
validating the whole day (a test compares them frame for frame).

A row is touched when it is new, its disposition changed (a later file supersedes it),
or a steward's waiver names its file (a waiver added since the earlier verdict).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from huizong import frames
from huizong.validate.rows import ValidationResult, candidates_of, empty_issues, sorted_issues

#: The columns whose change makes a row touched (besides being new).
_STATE = ["disposition", "superseded_by"]


def _key(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[frames.ROW_KEY].astype({"row_number": "int64"}))


def touched_rows(
    received: pd.DataFrame, earlier: pd.DataFrame, waivers: pd.DataFrame
) -> np.ndarray:
    """Mask over ``received``: the rows whose verdict may differ from ``earlier``'s
    (both RECEIVED frames as validation reads them), closed over units and files."""
    old = earlier.set_index(_key(earlier))[_STATE].astype("str").fillna("")
    now = received.set_index(_key(received))[_STATE].astype("str").fillna("")
    seen = now.index.isin(old.index)
    same = np.zeros(len(received), dtype=bool)
    same[seen] = (now[seen] == old.reindex(now.index[seen])).all(axis=1).to_numpy()
    hit = ~same
    if waivers is not None and len(waivers):
        hit |= received["file_id"].isin(set(waivers["file_id"].astype("str"))).to_numpy()
    units = received["unit_code"].astype("str").where(received["unit_code"].notna())
    files = received["file_id"].astype("str")
    while True:  # rows without a code are no unit's: only their file groups them
        same_unit = units.isin(set(units[hit].dropna())) & units.notna()
        grown = (same_unit | files.isin(set(files[hit]))).to_numpy()
        if (grown == hit).all():
            return hit
        hit = grown


def revalidate(
    received: pd.DataFrame,
    earlier: ValidationResult,
    touched: np.ndarray,
    validate: Callable[[pd.DataFrame], ValidationResult],
) -> ValidationResult:
    """``earlier`` with the verdicts of the ``touched`` rows of ``received`` replaced by
    ``validate`` of those rows (``validate`` must be what validates the whole day)."""
    part = received[touched]
    fresh = validate(part)
    redo = _key(part)

    def kept(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~_key(frame).isin(redo)] if len(frame) else frame

    cands = candidates_of(received).reset_index(drop=True)
    position = pd.Series(np.arange(len(cands)), index=_key(cands))
    accepted = pd.concat([kept(earlier.accepted), fresh.accepted], ignore_index=True)
    order = position.reindex(_key(accepted)).to_numpy().argsort(kind="stable")
    accepted = accepted.iloc[order].reset_index(drop=True)
    return ValidationResult(
        accepted=accepted.astype(fresh.accepted.dtypes.to_dict()),
        quarantine=_issues(kept(earlier.quarantine), fresh.quarantine),
        warnings=_issues(kept(earlier.warnings), fresh.warnings),
    )


def _issues(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Issues in the order validation sorts them (``validate.rows.sorted_issues``)."""
    parts = [f for f in (old, new) if len(f)]
    return sorted_issues(pd.concat(parts, ignore_index=True) if parts else empty_issues())
