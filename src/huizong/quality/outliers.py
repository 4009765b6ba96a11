"""Outliers against each unit's own recent days, robust to counts that are mostly zero.

The rule (per reporter and numeric indicator; ``x`` = today's value):

* history: the unit's values on the ``days`` (14) days before today; blanks and days
  without a report are ignored. Fewer than ``MIN_HISTORY_DAYS`` (5) values: no verdict.
* ``median`` and ``MAD`` (median absolute deviation) of those values;
* ``scale = max(1.4826 * MAD, sqrt(|median|) + 1)``. 1.4826 * MAD estimates the standard
  deviation of a normal series; the floor ``sqrt(|median|) + 1`` is about one Poisson
  standard deviation plus one, so a series that is always 0 (MAD 0) still has scale 1 and
  a small count is allowed its natural jitter;
* ``score = |x - median| / scale``; a warning when ``score > THRESHOLD`` (8).

So a village that always reported 0 and reports 1 today scores 1 (not flagged), 0 → 500
scores 500 (flagged); a stable 10,000 stock that drops to 0 scores about 99 (flagged).
The median and MAD ignore the odd spike in the history itself, so one earlier mistake
does not mask today's. Everything runs on (units x days) matrices, one indicator at a
time: no Python loop over units.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.quality import issues
from huizong.quality.history import DEFAULT_DAYS, HistoryMatrix, median_rows, rows_in_history

MIN_HISTORY_DAYS = 5
THRESHOLD = 8.0
MAD_TO_SD = 1.4826
RULE = "outlier"


def robust_scale(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of history ``m`` (units x days): (median, scale, number of values)."""
    med, n = median_rows(m)
    mad, _ = median_rows(np.abs(m - med[:, None]))
    return med, np.maximum(MAD_TO_SD * mad, np.sqrt(np.abs(med)) + 1.0), n


def robust_scores(
    m: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row of history ``m`` and today's value ``x`` of that row: (score, median,
    scale, n)."""
    med, scale, n = robust_scale(m)
    with np.errstate(invalid="ignore"):
        score = np.abs(x - med) / scale
    return score, med, scale, n


def outlier_warnings(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    history: pd.DataFrame,
    *,
    days: int = DEFAULT_DAYS,
    matrix: HistoryMatrix | None = None,
    min_days: int = MIN_HISTORY_DAYS,
    threshold: float = THRESHOLD,
) -> pd.DataFrame:
    """One warning per (row, indicator) whose value is far from the unit's recent median."""
    codes = [i.code for i in catalogue.numeric if i.code in accepted.columns]
    placed = rows_in_history(accepted, history, day, days, matrix) if codes else None
    if placed is None:
        return issues.empty()
    rows, hm, pos = placed
    valid = pos >= 0
    hits = []
    for code in codes:
        x = pd.to_numeric(rows[code]).to_numpy(dtype="float64", na_value=np.nan)
        med, scale, n = (a[pos] for a in robust_scale(hm.values(code)))
        with np.errstate(invalid="ignore"):
            score = np.abs(x - med) / scale
            flag = valid & (n >= min_days) & ~np.isnan(x) & (score > threshold)
        where = np.flatnonzero(flag)
        if len(where):
            hits.append(
                pd.DataFrame(
                    {
                        "_pos": where,
                        "column": code,
                        "x": x[where],
                        "median": med[where],
                        "scale": scale[where],
                        "score": score[where],
                        "n": n[where],
                    }
                )
            )
    if not hits:
        return issues.empty()
    h = pd.concat(hits, ignore_index=True)
    zh_label, en_label = issues.labels(h["column"], catalogue)
    x, med, scale = issues.num(h["x"]), issues.num(h["median"]), issues.num(h["scale"])
    score, n = issues.num(h["score"]), h["n"].astype("str")
    limit = issues.num(np.array([threshold]))[0]
    d = str(hm.days)
    zh = issues.cat(
        zh_label, " 今日填报 ", x, "，本单位前 ", d, " 天中有 ", n, " 天填报，中位数为 ", med,
        "（尺度 ", scale, "），偏离分数 ", score, "（超过 ", limit, " 即提示），",
        "请核实是否填错或多填了一位",
    )  # fmt: skip
    en = issues.cat(
        en_label, " is ", x, " today; this unit's median over the ", n, " days it reported ",
        "in the last ", d, " is ", med, " (scale ", scale, "), score ", score, " (above ",
        limit, " is flagged): please check for a typo or an extra digit",
    )  # fmt: skip
    return issues.build(
        rows.iloc[h["_pos"].to_numpy()],
        day.isoformat(),
        h["column"],
        x,
        RULE + ":" + h["column"],
        zh,
        en,
    )
