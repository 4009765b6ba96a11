"""Recent days of each reporter, from the published ``report`` table.

The quality checks compare today's rows with what the same unit reported on the days
before; the warehouse already holds those days (one row per reporter per period), so no
extra state is kept. The pipeline reads them (``warehouse.report_history``); this module
only shapes them. History is laid out per indicator as a (units x days) matrix, which
turns medians, MADs and "last reported value" into a few numpy passes over all units.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.publish.warehouse import REPORT_META

DEFAULT_DAYS = 14
_META = {c for c, _ in REPORT_META}


def numeric_codes(catalogue: Catalogue) -> list[str]:
    return [i.code for i in catalogue.numeric]


def empty_history(catalogue: Catalogue | None) -> pd.DataFrame:
    out = pd.DataFrame({"period": pd.Series(dtype="str"), "unit_code": pd.Series(dtype="str")})
    for code in numeric_codes(catalogue) if catalogue else []:
        out[code] = pd.Series(dtype="Int64")
    return out


def history_frame(rows: pd.DataFrame, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Published report rows of earlier days (as read by ``warehouse.report_history``)
    in the shape the checks use: ``period`` (ISO date string), ``unit_code`` and the
    numeric indicator columns (Int64, NA = blank).

    Without a catalogue every indicator column whose values are all numbers is kept.
    No rows (first run, nothing published yet) gives an empty history.
    """
    if rows.empty:
        return empty_history(catalogue)
    return _typed(rows, catalogue)


def _typed(frame: pd.DataFrame, catalogue: Catalogue | None) -> pd.DataFrame:
    if catalogue is None:
        keep = ["period", "unit_code"]
        for col in frame.columns:
            if col in _META:
                continue
            numeric = pd.to_numeric(frame[col], errors="coerce")
            if numeric.notna().sum() == frame[col].notna().sum():
                keep.append(col)
        frame = frame[keep]
    out = pd.DataFrame(
        {
            "period": frame["period"]
            .map(lambda v: v if v is None or isinstance(v, str) else v.isoformat())
            .astype("str"),
            "unit_code": frame["unit_code"].astype("str"),
        }
    )
    for col in frame.columns[2:]:
        out[col] = pd.to_numeric(frame[col]).astype("Int64")
    return out


# ---- history as matrices ------------------------------------------------------------------


class HistoryMatrix:
    """History of the units reporting today, positioned for vectorised statistics.

    Column ``d`` of :meth:`values` holds the value of ``d + 1`` days before ``day`` (so
    column 0 is yesterday); NaN where the unit gave no value or did not report.
    """

    def __init__(self, history: pd.DataFrame, units: pd.Index, day: date, days: int) -> None:
        self.units = units
        self.days = days
        self.day = day
        self._history = history
        # dates and codes are hashed once per distinct value, not once per row
        period, periods = pd.factorize(history["period"].astype("str"), use_na_sentinel=True)
        ages = (pd.Timestamp(day) - pd.to_datetime(pd.Index(periods))).days.to_numpy()
        age = np.where(period >= 0, ages[period] if len(ages) else -1, -1)
        unit, unit_values = pd.factorize(history["unit_code"].astype("str"))
        unit_pos = units.get_indexer(unit_values)
        row = np.where(unit >= 0, unit_pos[unit] if len(unit_pos) else -1, -1)
        ok = (age >= 1) & (age <= days) & (row >= 0)
        self._take = np.flatnonzero(ok)
        self._row = row[ok]
        self._col = age[ok] - 1

    @classmethod
    def of(cls, rows: pd.DataFrame, history: pd.DataFrame, day: date, days: int) -> HistoryMatrix:
        """The matrix for the units of today's ``rows`` (built once, shared by checks)."""
        units = pd.Index(rows["unit_code"].astype("str").dropna().unique())
        return cls(history, units, day, days)

    def values(self, code: str) -> np.ndarray:
        """(units x days) float64 matrix of one indicator."""
        m = np.full((len(self.units), self.days), np.nan)
        if code in self._history.columns and len(self._take):
            col = self._history[code]
            if not pd.api.types.is_numeric_dtype(col.dtype):
                col = pd.to_numeric(col)
            v = col.to_numpy(dtype="float64", na_value=np.nan)
            m[self._row, self._col] = v[self._take]
        return m


def rows_in_history(
    accepted: pd.DataFrame,
    history: pd.DataFrame,
    day: date,
    days: int,
    matrix: HistoryMatrix | None = None,
) -> tuple[pd.DataFrame, HistoryMatrix, np.ndarray] | None:
    """Today's rows (index 0..n-1), their units' history and each row's unit in it (-1: none).

    ``matrix`` is used when the caller already built one for these rows; None when there is
    nothing to compare with (no rows, no history, no unit with history).
    """
    if accepted.empty or history.empty:
        return None
    rows = accepted.reset_index(drop=True)
    hm = matrix if matrix is not None else HistoryMatrix.of(rows, history, day, days)
    if hm.units.empty:
        return None
    return rows, hm, hm.units.get_indexer(rows["unit_code"].astype("str"))


def median_rows(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise median ignoring NaN, and the number of values; NaN where a row is empty.

    One sort (NaN sorts last) and two gathers: much faster than ``np.nanmedian`` on many
    short rows.
    """
    s = np.sort(m, axis=1)
    n = (~np.isnan(m)).sum(axis=1)
    lo = np.maximum((n - 1) // 2, 0)
    hi = np.maximum(n // 2, 0)
    rows = np.arange(len(m))
    med = (s[rows, lo] + s[rows, hi]) / 2.0 if m.shape[1] else np.full(len(m), np.nan)
    return np.where(n > 0, med, np.nan), n


def last_rows(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The most recent value per row and its age in days (1 = yesterday); NaN / -1 if none."""
    given = ~np.isnan(m)
    first = given.argmax(axis=1)
    has = given.any(axis=1)
    last = m[np.arange(len(m)), first] if m.shape[1] else np.full(len(m), np.nan)
    return np.where(has, last, np.nan), np.where(has, first + 1, -1)
