"""Data-quality checks worth a steward's time, as warnings with their evidence.

Four checks, each returning ISSUE rows (severity "warning") whose messages carry the
numbers a steward can check by hand:

* ``outlier:<indicator>``: a value far from the unit's own recent median (see
  :mod:`huizong.quality.outliers` for the robust, mostly-zero-safe rule);
* ``cumulative_down:<indicator>``: a cumulative count below the unit's last value;
* ``township_total:<indicator>``: a township's own total row vs the sum of its villages;
* ``department_pair:<indicator>``: a department figure vs the geographic roll-up it pairs
  with (the catalogue's ``[[pair]]`` table).

Warnings never block a row. History comes from the published ``report`` table (read by
``huizong.warehouse.report_history``, shaped by :func:`history_frame`), so the checks
need no state of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from huizong.catalogue import Catalogue
from huizong.quality import issues
from huizong.quality.cumulative import RULE as CUMULATIVE
from huizong.quality.cumulative import cumulative_warnings
from huizong.quality.history import DEFAULT_DAYS, HistoryMatrix, history_frame, numeric_codes
from huizong.quality.outliers import RULE as OUTLIER
from huizong.quality.outliers import outlier_warnings
from huizong.quality.pairs import RULE as PAIR
from huizong.quality.pairs import Pair, pair_warnings
from huizong.quality.totals import RULE as TOWNSHIP_TOTAL
from huizong.quality.totals import township_total_warnings
from huizong.registry import Registry

#: The rule prefixes of the quality warnings (``<rule>:<indicator>``), which the day's
#: WARNINGS holds beside validation's own: what tells the two apart.
QUALITY_RULES = tuple(f"{rule}:" for rule in (OUTLIER, CUMULATIVE, TOWNSHIP_TOTAL, PAIR))


#: Reporters whose history is held at once by :func:`quality_in_parts` (fourteen days of
#: 50 k reporters: about 0.3 GB typed; a national day has 578 k).
HISTORY_PART_UNITS = 50_000

#: Fourteen days of history of the reporters ``lo`` <= code <= ``hi`` (``history_frame``).
HistoryBetween = Callable[[str, str], pd.DataFrame]


def quality_warnings(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    *,
    history: pd.DataFrame,
    totals: pd.DataFrame | None,
    consolidated: pd.DataFrame | None = None,
    days: int = DEFAULT_DAYS,
) -> pd.DataFrame:
    """All quality warnings of one day's accepted rows (``frames.ISSUE_COLUMNS``), with
    the ``history`` of every reporter in one frame."""
    return quality_in_parts(
        accepted,
        day,
        catalogue,
        registry,
        history_between=lambda lo, hi: history,
        totals=totals,
        consolidated=consolidated,
        days=days,
        part_units=None,
    )


def quality_in_parts(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    *,
    history_between: HistoryBetween,
    totals: pd.DataFrame | None,
    consolidated: pd.DataFrame | None = None,
    days: int = DEFAULT_DAYS,
    part_units: int | None = HISTORY_PART_UNITS,
) -> pd.DataFrame:
    """:func:`quality_warnings`, reading the history of ``part_units`` reporters (by code
    order) at a time; ``None``: all at once.

    Exact, because an outlier and a falling cumulative count are about one row and its own
    unit's history; the township totals and department pairs read no history and run once
    over the whole day."""
    code = accepted["unit_code"].astype("str").where(accepted["unit_code"].notna())
    ids, units = pd.factorize(code, sort=True)  # -1: no code, never any unit's history
    step = max(len(units) if part_units is None else part_units, 1)
    parts = []
    for start in range(0, len(units), step):
        end = min(start + step, len(units))
        inside = (ids >= start) & (ids < end)
        rows = accepted if inside.all() else accepted[inside]
        history = history_between(str(units[start]), str(units[end - 1]))
        parts += _history_warnings(rows, day, catalogue, history, days)
    parts += [
        township_total_warnings(accepted, day, catalogue, registry, totals),
        pair_warnings(accepted, day, catalogue, registry, consolidated=consolidated),
    ]
    found = [p for p in parts if not p.empty]
    if not found:
        return issues.empty()
    return issues.finish(pd.concat(found, ignore_index=True))


def _history_warnings(
    rows: pd.DataFrame, day: date, catalogue: Catalogue, history: pd.DataFrame, days: int
) -> list[pd.DataFrame]:
    """The outliers and falling cumulative counts of ``rows`` against ``history``."""
    matrix = None
    if not rows.empty and not history.empty:
        matrix = HistoryMatrix.of(rows.reset_index(drop=True), history, day, days)
    return [
        outlier_warnings(rows, day, catalogue, history, days=days, matrix=matrix),
        cumulative_warnings(rows, day, catalogue, history, days=days, matrix=matrix),
    ]


__all__ = [
    "DEFAULT_DAYS",
    "HISTORY_PART_UNITS",
    "QUALITY_RULES",
    "Pair",
    "cumulative_warnings",
    "history_frame",
    "numeric_codes",
    "outlier_warnings",
    "pair_warnings",
    "quality_in_parts",
    "quality_warnings",
    "township_total_warnings",
]
