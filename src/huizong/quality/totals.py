"""A township's own reported total row that disagrees with the sum of its villages.

Township batch files often end with the clerk's own total row (合计). Ingest keeps those
rows apart (``totals``: ``unit_code`` = the township, ``period``, the indicator columns and,
when known, the row's ``file_id``/``file_name``/``sheet``/``row_number``); here each
summable indicator (``across_units = "sum"``) of the total row is compared with the sum of
the township's ACCEPTED village rows. A blank in the total row, or no village value at
all, is not compared. The message shows the total, the villages' sum, the difference and
how many villages gave a value, since a quarantined or missing village explains a gap.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from huizong.catalogue import Catalogue
from huizong.quality import issues
from huizong.registry import Registry

RULE = "township_total"


def sum_codes(catalogue: Catalogue) -> list[str]:
    return [i.code for i in catalogue.numeric if i.across_units == "sum"]


def village_sums(
    accepted: pd.DataFrame, registry: Registry, codes: list[str], by: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Per ancestor (``by``: township_code, county_code, city_code) of the accepted village
    rows: sums (Int64, NA when no village gave a value), counts of villages that gave a
    value, and the number of villages the registry expects there."""
    units = registry.units.drop_duplicates("code").set_index("code")
    villages = units[units["level"] == 5]
    # only the columns summed are taken: the whole frame of a national day is 0.4 GB
    rows = accepted[["unit_code", *codes]]
    rows = rows[rows["unit_code"].isin(villages.index).to_numpy(dtype=bool)]
    key = rows["unit_code"].map(villages[by]).astype("str")
    values = rows[codes].apply(pd.to_numeric).astype("Int64")
    grouped = values.groupby(key.to_numpy())
    expected = villages.groupby(by).size()
    return grouped.sum(min_count=1), grouped.count(), expected


def township_total_warnings(
    accepted: pd.DataFrame,
    day: date,
    catalogue: Catalogue,
    registry: Registry,
    totals: pd.DataFrame | None,
) -> pd.DataFrame:
    """One warning per (township total row, indicator) that differs from its villages."""
    if totals is None or totals.empty:
        return issues.empty()
    codes = [c for c in sum_codes(catalogue) if c in totals.columns and c in accepted.columns]
    t = totals.reset_index(drop=True)
    if "period" in t.columns:
        t = t[t["period"].astype("str").str.slice(0, 10) == day.isoformat()]
    t = t.reset_index(drop=True)
    if t.empty or not codes:
        return issues.empty()
    sums, counts, expected = village_sums(accepted, registry, codes, "township_code")
    town = t["unit_code"].astype("str")
    hits = []
    for code in codes:
        total = pd.to_numeric(t[code]).to_numpy(dtype="float64", na_value=np.nan)
        summed = sums[code].reindex(town).to_numpy(dtype="float64", na_value=np.nan)
        n = counts[code].reindex(town).fillna(0).to_numpy(dtype="int64")
        with np.errstate(invalid="ignore"):
            where = np.flatnonzero(~np.isnan(total) & ~np.isnan(summed) & (total != summed))
        if len(where):
            hits.append(
                pd.DataFrame(
                    {
                        "_pos": where,
                        "column": code,
                        "total": total[where],
                        "sum": summed[where],
                        "n": n[where],
                        "expected": expected.reindex(town.iloc[where]).fillna(0).to_numpy(),
                    }
                )
            )
    if not hits:
        return issues.empty()
    h = pd.concat(hits, ignore_index=True)
    zh_label, en_label = issues.labels(h["column"], catalogue)
    total, summed = issues.num(h["total"]), issues.num(h["sum"])
    diff = issues.num(h["total"] - h["sum"])
    n, m = issues.num(h["n"]), issues.num(h["expected"])
    zh = issues.cat(
        "乡镇/街道自报合计行 ", zh_label, " 为 ", total, "，所属村/社区已接收数据相加为 ",
        summed, "（", n, "/", m, " 个村/社区填报），相差 ", diff, "（合计减村相加），",
        "请核实合计行或村/社区数据",
    )  # fmt: skip
    en = issues.cat(
        "The township's own total row gives ", en_label, " = ", total,
        "; its villages' accepted rows add up to ", summed, " (", n, " of ", m,
        " villages gave a value); difference ", diff,
        " (total minus villages): check the total row or the village rows",
    )  # fmt: skip
    rows = t.iloc[h["_pos"].to_numpy()].reset_index(drop=True)
    if "unit_name" not in rows.columns:
        rows["unit_name"] = rows["unit_code"].map(registry.names_of(rows["unit_code"]))
    return issues.build(rows, day.isoformat(), h["column"], total, RULE + ":" + h["column"], zh, en)
