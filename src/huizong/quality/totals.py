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
    value, and the number of villages the registry expects there.

    The rows are ordered by ancestor once and each indicator is summed as contiguous
    blocks, one column at a time: a national day's typed copy of every summed column and
    pandas' group-by over it were the peak of the whole night (2.1 GB) and took 10 s."""
    units = registry.units
    villages = units[(units["level"] == 5).to_numpy()].drop_duplicates("code")
    group_of, groups = pd.factorize(villages[by].astype("str"), sort=True)
    expected = villages.groupby(by).size()
    at = pd.Index(villages["code"].astype("str")).get_indexer(accepted["unit_code"].astype("str"))
    rows = np.flatnonzero(at >= 0)
    group = group_of[at[rows]]
    rows, group = rows[group >= 0], group[group >= 0]  # a village without that ancestor
    order = np.argsort(group, kind="stable")
    rows, group = rows[order], group[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else group
    index = pd.Index(groups[group[starts]], dtype="str")
    sums: dict[str, object] = {}
    counts: dict[str, np.ndarray] = {}
    for code in codes:
        values = pd.to_numeric(accepted[code].iloc[rows])
        given = values.notna().to_numpy()
        whole = values.to_numpy(dtype="int64", na_value=0)
        counts[code] = np.add.reduceat(given.astype("int64"), starts) if len(rows) else given
        total = np.add.reduceat(whole, starts) if len(rows) else whole
        sums[code] = pd.array(total, dtype="Int64", copy=False)
        sums[code][counts[code] == 0] = pd.NA
    return (
        pd.DataFrame(sums, index=index, columns=codes),
        pd.DataFrame(counts, index=index, columns=codes, dtype="Int64"),  # as a group-by counts
        expected,
    )


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
