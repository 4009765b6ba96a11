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
    """All quality warnings of one day's accepted rows (``frames.ISSUE_COLUMNS``)."""
    matrix = None
    if not accepted.empty and not history.empty:
        matrix = HistoryMatrix.of(accepted.reset_index(drop=True), history, day, days)
    parts = [
        outlier_warnings(accepted, day, catalogue, history, days=days, matrix=matrix),
        cumulative_warnings(accepted, day, catalogue, history, days=days, matrix=matrix),
        township_total_warnings(accepted, day, catalogue, registry, totals),
        pair_warnings(accepted, day, catalogue, registry, consolidated=consolidated),
    ]
    found = [p for p in parts if not p.empty]
    if not found:
        return issues.empty()
    return issues.finish(pd.concat(found, ignore_index=True))


__all__ = [
    "DEFAULT_DAYS",
    "QUALITY_RULES",
    "Pair",
    "cumulative_warnings",
    "history_frame",
    "numeric_codes",
    "outlier_warnings",
    "pair_warnings",
    "quality_warnings",
    "township_total_warnings",
]
