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


def _row_keys(*parts: pd.DataFrame) -> list[np.ndarray] | None:
    """One int64 per row of each frame, equal across ``parts`` exactly when the row keys
    (file, sheet, row number) are equal; ``None`` when they do not fit in 64 bits.

    Why: a MultiIndex of a national day's 578 k keys hashes their tuples again at every
    ``isin`` / ``reindex`` (seconds each); the file and sheet names are factorized once
    here over all the frames and the three parts packed into one integer."""
    sizes = [len(p) for p in parts]
    packed = np.zeros(sum(sizes), dtype=np.int64)
    radix = 1
    for col in ("file_id", "sheet"):
        values = pd.concat([p[col].astype("str") for p in parts], ignore_index=True)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        packed = packed * (len(uniques) + 1) + (codes.astype(np.int64) + 1)  # NA → 0
        radix *= len(uniques) + 1
    rows = np.concatenate([p["row_number"].to_numpy(dtype=np.int64) for p in parts])
    low = int(rows.min()) if len(rows) else 0
    span = (int(rows.max()) - low + 1) if len(rows) else 1
    if radix * span >= 2**62:
        return None
    packed = packed * span + (rows - low)
    return np.split(packed, np.cumsum(sizes)[:-1])


def touched_rows(
    received: pd.DataFrame, earlier: pd.DataFrame, waivers: pd.DataFrame
) -> np.ndarray:
    """Mask over ``received``: the rows whose verdict may differ from ``earlier``'s
    (both RECEIVED frames as validation reads them), closed over units and files."""
    same = np.zeros(len(received), dtype=bool)
    keys = _row_keys(received, earlier)
    if keys is None:
        old = earlier.set_index(_key(earlier))[_STATE].astype("str").fillna("")
        now = received.set_index(_key(received))[_STATE].astype("str").fillna("")
        seen = now.index.isin(old.index)
        same[seen] = (now[seen] == old.reindex(now.index[seen])).all(axis=1).to_numpy()
    else:
        at = pd.Index(keys[1]).get_indexer(keys[0])  # each row's earlier row, -1: new
        seen = np.flatnonzero(at >= 0)
        same[seen] = True
        for col in _STATE:
            now = received[col].astype("str").fillna("").to_numpy(dtype=object)
            old = earlier[col].astype("str").fillna("").to_numpy(dtype=object)
            same[seen] &= now[seen] == old[at[seen]]
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
    redo_files = part["file_id"].astype("str").unique()

    def kept(frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the re-validated rows: only rows of their files can be one."""
        if not len(frame):
            return frame
        maybe = np.flatnonzero(frame["file_id"].astype("str").isin(redo_files).to_numpy())
        if not len(maybe):
            return frame
        drop = np.zeros(len(frame), dtype=bool)
        drop[maybe] = _key(frame.iloc[maybe]).isin(redo)
        return frame[~drop]

    cands = candidates_of(received).reset_index(drop=True)
    accepted = pd.concat([kept(earlier.accepted), fresh.accepted], ignore_index=True)
    order = _candidate_order(cands, accepted)
    if order is not None:  # None: already in order (no take of the whole frame)
        accepted = accepted.iloc[order].reset_index(drop=True)
    return ValidationResult(
        accepted=accepted.astype(fresh.accepted.dtypes.to_dict()),
        quarantine=_issues(kept(earlier.quarantine), fresh.quarantine),
        warnings=_issues(kept(earlier.warnings), fresh.warnings),
    )


def _candidate_order(cands: pd.DataFrame, accepted: pd.DataFrame) -> np.ndarray | None:
    """The positions that put ``accepted`` in the candidates' order (a row not among them
    last, as ``argsort`` puts NaN); ``None`` when it is in that order already."""
    keys = _row_keys(cands, accepted)
    if keys is None:
        position = pd.Series(np.arange(len(cands)), index=_key(cands))
        return position.reindex(_key(accepted)).to_numpy().argsort(kind="stable")
    at = pd.Index(keys[0]).get_indexer(keys[1]).astype(np.float64)
    at[at < 0] = np.nan
    if len(at) < 2 or bool((np.diff(at) > 0).all()):
        return None
    return at.argsort(kind="stable")


def _issues(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Issues in the order validation sorts them (``validate.rows.sorted_issues``)."""
    parts = [f for f in (old, new) if len(f)]
    return sorted_issues(pd.concat(parts, ignore_index=True) if parts else empty_issues())
