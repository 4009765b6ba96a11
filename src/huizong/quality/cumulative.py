"""Cumulative counts that go down.

A cumulative count (catalogue ``across_time = "last"`` and a code ending in ``_total``,
e.g. ``confirmed_total``) can only grow: today's value below the unit's most recent
earlier value (within the history window) is a typo, a reset or a unit mix-up. Both
values and the day of the earlier one are in the message.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.quality import issues
from huizong.quality.history import DEFAULT_DAYS, HistoryMatrix, last_rows, rows_in_history

RULE = "cumulative_down"


def cumulative_codes(catalogue: Catalogue) -> list[str]:
    return [
        i.code for i in catalogue.numeric if i.across_time == "last" and i.code.endswith("_total")
    ]


def cumulative_warnings(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    history: pd.DataFrame,
    *,
    days: int = DEFAULT_DAYS,
    matrix: HistoryMatrix | None = None,
) -> pd.DataFrame:
    """One warning per (row, cumulative indicator) lower than the unit's last value."""
    codes = [c for c in cumulative_codes(catalogue) if c in accepted.columns]
    placed = rows_in_history(accepted, history, day, days, matrix) if codes else None
    if placed is None:
        return issues.empty()
    rows, hm, pos = placed
    hits = []
    for code in codes:
        x = pd.to_numeric(rows[code]).to_numpy(dtype="float64", na_value=np.nan)
        last, age = (a[pos] for a in last_rows(hm.values(code)))
        with np.errstate(invalid="ignore"):
            where = np.flatnonzero((pos >= 0) & (x < last))
        if len(where):
            hits.append(
                pd.DataFrame(
                    {"_pos": where, "column": code, "x": x[where], "last": last[where],
                     "age": age[where]}
                )
            )  # fmt: skip
    if not hits:
        return issues.empty()
    h = pd.concat(hits, ignore_index=True)
    zh_label, en_label = issues.labels(h["column"], catalogue)
    x, last = issues.num(h["x"]), issues.num(h["last"])
    drop = issues.num(h["last"] - h["x"])
    when = (pd.Timestamp(day) - pd.to_timedelta(h["age"], unit="D")).dt.strftime("%Y-%m-%d")
    zh = issues.cat(
        zh_label, " 是累计数，今日填报 ", x, "，低于本单位 ", when, " 填报的 ", last,
        "（减少 ", drop, "），累计数不应减少，请核实",
    )  # fmt: skip
    en = issues.cat(
        en_label, " is cumulative: today ", x, ", below this unit's ", last, " of ", when,
        " (down ", drop, "); a cumulative count cannot go down: please check",
    )  # fmt: skip
    return issues.build(
        rows.iloc[h["_pos"].to_numpy()], day.isoformat(), h["column"], x,
        RULE + ":" + h["column"], zh, en,
    )  # fmt: skip
